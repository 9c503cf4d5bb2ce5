"""Simulated scans survive the real adapters: Kuaidi100 push encode -> decode, the tracking CSV
adapter, and the text-only scan classifier."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from lvyue.model.enums import TrackingKind
from lvyue.model.tracking import TrackingEvent
from lvyue.tracking import (
    classify_scan,
    decode_push,
    encode_push,
    read_tracking_csv,
    write_tracking_csv,
)


@pytest.fixture(scope="module")
def parcels(market: dict[str, pa.Table]) -> list[list[TrackingEvent]]:
    """Events of every 40th parcel, with exceptions and returns over-represented."""
    scans = market["tracking"].to_pandas()
    keys = scans[["carrier", "waybill"]].drop_duplicates()
    odd = scans.loc[scans["kind"].isin(["exception", "returned"]), ["carrier", "waybill"]]
    chosen = pd.concat([keys.iloc[::40], odd.drop_duplicates().head(50)]).drop_duplicates()
    picked = scans.merge(chosen, on=["carrier", "waybill"])
    return [
        [
            TrackingEvent(
                carrier=row.carrier,
                waybill=row.waybill,
                time=row.time.to_pydatetime(),
                kind=TrackingKind(row.kind),
                location=row.location,
                text=row.text,
            )
            for row in group.itertuples()
        ]
        for _, group in picked.groupby(["carrier", "waybill"], sort=False)
    ]


def test_every_scan_text_classifies_as_its_kind(market: dict[str, pa.Table]) -> None:
    scans = market["tracking"].to_pandas()[["kind", "text"]].drop_duplicates()
    got = scans["text"].map(lambda text: classify_scan(text).value)
    wrong = scans[got != scans["kind"]]
    assert wrong.empty, wrong.head().to_dict("records")


def test_kuaidi100_push_round_trip(parcels: list[list[TrackingEvent]]) -> None:
    assert len(parcels) > 400
    for events in parcels:
        form = encode_push(events[0].carrier, events[0].waybill, events, salt="s3cret")
        update = decode_push(form, salt="s3cret")
        assert (update.carrier, update.waybill) == (events[0].carrier, events[0].waybill)
        assert [(e.kind, e.time) for e in update.events] == [(e.kind, e.time) for e in events]
        assert update.ischeck == (events[-1].kind is TrackingKind.SIGNED)


def test_tracking_csv_round_trip(parcels: list[list[TrackingEvent]], tmp_path: Path) -> None:
    events = [e for parcel in parcels for e in parcel]
    path = tmp_path / "tracking.csv"
    assert write_tracking_csv(path, events) == len(events)
    back = [row.event for row in read_tracking_csv(path)]
    assert [(e.waybill, e.kind, e.time) for e in back] == [
        (e.waybill, e.kind, e.time) for e in events
    ]


def test_tracking_csv_adapter_reads_the_simulators_csv(tmp_path: Path) -> None:
    from lvyue.sim import simulate, write_facts

    write_facts(tmp_path, 600, 4, "csv", progress=False)
    rows = list(read_tracking_csv(tmp_path / "tracking.csv"))
    assert all(row.error is None for row in rows)
    expected = simulate(600, 4)["tracking"]
    got = [(r.event.waybill, r.event.kind.value, r.event.time) for r in rows if r.event]
    want = zip(
        expected.column("waybill").to_pylist(),
        expected.column("kind").to_pylist(),
        expected.column("time").to_pylist(),
        strict=True,
    )
    assert got == list(want)


def test_carriers_and_waybills_follow_the_registry(market: dict[str, pa.Table]) -> None:
    from lvyue.tracking import carrier

    orders = market["orders"].to_pandas().dropna(subset=["waybill"])
    for code, waybills in orders.groupby("carrier")["waybill"]:
        registered = carrier(str(code))  # raises for a code the registry does not know
        odd = [w for w in waybills if not registered.looks_like_waybill(w)]
        assert not odd, (code, odd[:3])

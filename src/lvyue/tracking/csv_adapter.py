"""Plain CSV adapter for the facts ``tracking`` table (carrier, waybill, time, kind, …)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from lvyue.model import InstantError, TrackingEvent, TrackingKind, format_instant, parse_instant
from lvyue.tracking.carriers import CARRIERS

TRACKING_COLUMNS = ("carrier", "waybill", "time", "kind", "location", "text")
_REQUIRED = ("carrier", "waybill", "time", "kind")
_KINDS = {k.value for k in TrackingKind}


class TrackingRowError(ValueError):
    """A tracking row we reject; the message names the row and the field."""

    def __init__(self, row: int, field: str, message: str) -> None:
        super().__init__(f"row {row}, {field}: {message}")
        self.row = row
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class TrackingRow:
    row: int  # 1-based data row number (the header is row 0)
    raw: Mapping[str, str]
    event: TrackingEvent | None
    error: TrackingRowError | None


def parse_tracking_row(raw: Mapping[str, str | None], row: int) -> TrackingEvent:
    """One CSV row as a canonical event; raises ``TrackingRowError`` naming the field."""
    values = {k: (v or "").strip() for k, v in raw.items() if k is not None}
    for field in _REQUIRED:
        if not values.get(field):
            raise TrackingRowError(row, field, "missing")
    if values["carrier"] not in CARRIERS:
        raise TrackingRowError(row, "carrier", f"unknown carrier code {values['carrier']!r}")
    if values["kind"] not in _KINDS:
        raise TrackingRowError(row, "kind", f"unknown kind {values['kind']!r}")
    try:
        moment = parse_instant(values["time"])
    except InstantError as exc:
        raise TrackingRowError(row, "time", str(exc)) from None
    return TrackingEvent(
        carrier=values["carrier"],
        waybill=values["waybill"],
        time=moment,
        kind=TrackingKind(values["kind"]),
        location=values.get("location", ""),
        text=values.get("text", ""),
    )


def read_tracking_csv(path: Path) -> Iterator[TrackingRow]:
    """Every data row of a tracking CSV, parsed or with its error (nothing is dropped)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in _REQUIRED if c not in (reader.fieldnames or ())]
        if missing:
            raise TrackingRowError(0, missing[0], f"{path.name}: header lacks column")
        for number, raw in enumerate(reader, start=1):
            clean = {k: v or "" for k, v in raw.items() if k is not None}
            try:
                yield TrackingRow(number, clean, parse_tracking_row(raw, number), None)
            except TrackingRowError as exc:
                yield TrackingRow(number, clean, None, exc)


def tracking_record(event: TrackingEvent) -> dict[str, str]:
    """The facts-format row of one event (times ISO 8601 with +08:00)."""
    return {
        "carrier": event.carrier,
        "waybill": event.waybill,
        "time": format_instant(event.time),
        "kind": event.kind.value,
        "location": event.location,
        "text": event.text,
    }


def write_tracking_csv(path: Path, events: Iterable[TrackingEvent]) -> int:
    """Write events as a tracking CSV (not atomic: the importers add that); returns the count."""
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=TRACKING_COLUMNS)
        writer.writeheader()
        for event in events:
            writer.writerow(tracking_record(event))
            count += 1
    return count

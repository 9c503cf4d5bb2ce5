"""Shared simulated marketplaces for the simulator tests (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from lvyue.sim import simulate, write_facts

ORDERS, SEED = 20_000, 11


@pytest.fixture(scope="session")
def market() -> dict[str, pa.Table]:
    return simulate(ORDERS, SEED)


@pytest.fixture(scope="session")
def facts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("facts")
    write_facts(out, ORDERS, SEED, "parquet", progress=False)
    return out


@pytest.fixture(scope="session")
def parcels(market: dict[str, pa.Table]) -> pd.DataFrame:
    return parcel_metrics(market)


def parcel_metrics(market: dict[str, pa.Table]) -> pd.DataFrame:
    """Shipped orders with pickup_hours (ship -> first pickup scan) and transit_ratio
    (first pickup -> signed, or the last scan, over the lane standard)."""
    orders = market["orders"].to_pandas()
    orders = orders[orders["ship_time"].notna()]
    scans = market["tracking"].to_pandas()
    first_pickup = scans[scans["kind"] == "pickup"].groupby(["carrier", "waybill"])["time"].min()
    last = scans.groupby(["carrier", "waybill"])["time"].max()
    exception = (
        scans.assign(e=scans["kind"] == "exception").groupby(["carrier", "waybill"])["e"].any()
    )
    per_parcel = pd.DataFrame({"pickup": first_pickup, "last": last, "had_exception": exception})
    frame = orders.join(per_parcel, on=["carrier", "waybill"])
    lanes = market["lanes"].to_pandas()[["origin_city", "dest_city", "standard_hours"]]
    frame = frame.merge(lanes, on=["origin_city", "dest_city"], how="left")
    frame["pickup_hours"] = (frame["pickup"] - frame["ship_time"]).dt.total_seconds() / 3600
    hours = (frame["last"] - frame["pickup"]).dt.total_seconds() / 3600
    frame["transit_ratio"] = hours / frame["standard_hours"]
    return frame

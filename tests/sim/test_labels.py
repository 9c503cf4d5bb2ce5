"""Injected violations: each label holds against the facts, and the engine agrees with it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from lvyue.engine import evaluate_batch
from lvyue.facts import load_facts
from lvyue.rulebook import load_rulebook

HOUR = pd.Timedelta(hours=1)
BEIJING = "Asia/Shanghai"


@pytest.fixture(scope="module")
def labelled(market: dict[str, pa.Table]) -> pd.DataFrame:
    labels = market["labels"].to_pandas()
    orders = market["orders"].to_pandas()
    return labels.merge(orders, on="order_id", how="left", validate="many_to_one")


def _first(market: dict[str, pa.Table], kinds: tuple[str, ...]) -> pd.Series:
    scans = market["tracking"].to_pandas()
    return scans[scans["kind"].isin(kinds)].groupby(["carrier", "waybill"])["time"].min()


def _rows(labelled: pd.DataFrame, check: str, status: str) -> pd.DataFrame:
    rows = labelled[(labelled["check"] == check) & (labelled["expected_status"] == status)]
    assert len(rows) > 5, (check, status)
    return rows


def test_every_check_has_injected_cases(labelled: pd.DataFrame) -> None:
    violated = set(labelled.loc[labelled["expected_status"] == "violated", "check"])
    assert violated >= {
        "ship_deadline", "pickup", "first_hub", "inspection", "ship_mode",
        "aftersale_merchant_confirm", "aftersale_merchant_receive", "aftersale_refund",
    }  # fmt: skip
    assert {"ok", "exempted"} <= set(labelled["expected_status"])


def test_late_shipments_are_late_under_any_rule(labelled: pd.DataFrame) -> None:
    late = _rows(labelled, "ship_deadline", "violated")
    late = late[late["cross_border_mode"].ne("overseas_consolidation")]  # SF-5: see below
    generous = late["pay_time"] + 48 * HOUR
    generous = generous.where(late["promised_ship_time"].isna(), late["promised_ship_time"])
    for first, last, ship_by in (
        ("2023-01-14", "2023-02-03", "2023-02-04 23:59:59"),  # SF-1, SF-4
        ("2024-02-02", "2024-02-21", "2024-02-22 23:59:59"),  # NY-1
    ):
        start, end = pd.Timestamp(first, tz=BEIJING), pd.Timestamp(last, tz=BEIJING)
        paid = (late["pay_time"] >= start) & (late["pay_time"] < end)
        paid &= (late["merchant_type"] == "domestic") & (late["ship_mode"] == "spot")
        extended = generous.clip(lower=pd.Timestamp(ship_by, tz=BEIJING))
        generous = generous.where(~paid, extended)
    assert (late["ship_time"] >= generous + 24 * HOUR).all()


def test_consolidation_presale_labels_follow_the_warehouse_in(
    market: dict[str, pa.Table], labelled: pd.DataFrame
) -> None:
    """SF-5 海外集货: uploaded by the promise either way; the warehouse-in a day after the
    promise is a violation, one by the promise is not."""
    rows = labelled[labelled["note"].str.contains("SF-5")].copy()
    assert (rows["cross_border_mode"] == "overseas_consolidation").all()
    assert (rows["ship_time"] <= rows["promised_ship_time"]).all()
    warehouse_in = _first(market, ("warehouse_in",))
    keys = list(zip(rows["carrier"], rows["waybill"], strict=True))
    rows["warehouse_in"] = warehouse_in.loc[keys].array
    late = rows[rows["expected_status"] == "violated"]
    timely = rows[rows["expected_status"] == "ok"]
    assert len(late) >= 3 and len(timely) >= 3
    assert (late["warehouse_in"] >= late["promised_ship_time"] + 24 * HOUR).all()
    assert (timely["warehouse_in"] <= timely["ship_time"]).all()


def test_pickup_and_first_hub_labels(market: dict[str, pa.Table], labelled: pd.DataFrame) -> None:
    pickup = _first(market, ("pickup",))
    hub = _first(market, ("hub_arrival", "hub_departure"))
    late = _rows(labelled, "pickup", "violated").join(
        pickup.rename("pickup"), on=["carrier", "waybill"]
    )
    assert (late["pickup"] - late["ship_time"] > 72 * HOUR).all()
    slow = _rows(labelled, "first_hub", "violated").join(
        pickup.rename("pickup"), on=["carrier", "waybill"]
    )
    slow = slow.join(hub.rename("hub"), on=["carrier", "waybill"])
    assert (slow["hub"] - slow["pickup"] > 144 * HOUR).all()
    prompt = _rows(labelled, "pickup", "ok").join(
        pickup.rename("pickup"), on=["carrier", "waybill"]
    )
    assert (prompt["pickup"] - prompt["ship_time"] < 24 * HOUR).all()


def test_inspection_labels(market: dict[str, pa.Table], labelled: pd.DataFrame) -> None:
    inspections = market["inspections"].to_pandas().set_index("inspection_code")
    bad = _rows(labelled, "inspection", "violated")
    known = bad["inspection_code"].isin(inspections.index)
    forged = bad["note"].str.contains("forged")
    assert (~known[forged]).all() and forged.any()
    assert bad.loc[bad["note"].str.contains("without"), "inspection_code"].isna().all()
    failed = bad[bad["note"].str.contains("failed")]
    assert (inspections.loc[failed["inspection_code"], "result"] == "fail").all()
    orders = market["orders"].to_pandas()
    reused = bad[bad["note"].str.contains("already bound")]
    assert len(reused) > 0
    for _, row in reused.iterrows():
        same = orders[orders["inspection_code"] == row["inspection_code"]]
        assert len(same) >= 2 and same["ship_time"].min() < row["ship_time"]


def test_after_sales_labels(market: dict[str, pa.Table], labelled: pd.DataFrame) -> None:
    after = market["after_sales"].to_pandas().set_index("aftersale_id")
    day = pd.Timedelta(days=1)
    for check, late, clock, days in (
        ("aftersale_merchant_confirm", "merchant_handled_at", "created_at", 11),
        ("aftersale_merchant_receive", "merchant_received_at", "return_shipped_at", 22),
        ("aftersale_refund", "refunded_at", "return_signed_at", 22),
    ):
        rows = after.loc[_rows(labelled, check, "violated")["aftersale_id"]]
        assert (rows[late] - rows[clock] >= days * day).all(), check


def test_reports_cover_the_exempted_and_renewed(
    market: dict[str, pa.Table], labelled: pd.DataFrame
) -> None:
    reports = market["reports"].to_pandas()
    reports = reports.assign(order_id=reports["order_ids"].str.split(";")).explode("order_id")
    exempted = _rows(labelled, "ship_deadline", "exempted").merge(reports, on="order_id")
    assert (exempted["status"] == "approved").all() and exempted["new_deadline"].isna().all()
    renewed = labelled[
        (labelled["check"] == "ship_deadline") & labelled["note"].str.contains("later")
    ]
    renewed = renewed.merge(reports, on="order_id")
    assert len(renewed) > 0 and (renewed["new_deadline"] >= renewed["ship_time"]).all()


def test_engine_agrees_with_every_label(facts_dir: Path) -> None:
    """The compliance engine (lvyue.engine, batch on DuckDB) reaches every expected verdict."""
    facts = load_facts(facts_dir)
    verdicts = evaluate_batch(facts, datetime(2024, 6, 1, tzinfo=UTC), load_rulebook()).to_pandas()
    labels = facts.labels.to_pandas()
    labels["aftersale_id"] = labels["aftersale_id"].fillna("")
    merged = labels.merge(
        verdicts, how="left", on=["order_id", "aftersale_id", "check"], validate="one_to_one"
    )
    wrong = merged[merged["status"] != merged["expected_status"]]
    assert wrong.empty, wrong[["order_id", "check", "expected_status", "status", "note"]].head()

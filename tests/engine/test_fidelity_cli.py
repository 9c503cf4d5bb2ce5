"""Issue 10 (rule fidelity) through ``lvyue evaluate``: each correction at both sides of its
edge in the verdicts file the command writes (the online path: tests/engine/test_checks.py)."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.engine.conftest import order, write_dir
from typer.testing import CliRunner

from lvyue.cli.main import app
from lvyue.model import TrackingEvent, TrackingKind, parse_instant
from lvyue.tracking import decode_push, encode_push

runner = CliRunner()
PAID = "2024-04-01 10:00:00"  # DR-1a deadline 2024-04-03 10:00:00


def _evaluate(facts: Path, out: Path) -> dict[tuple[str, str], dict[str, str]]:
    result = runner.invoke(app, ["evaluate", str(facts), "--as-of", "2024-06-01 00:00:00",
                                 "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        return {(r["order_id"], r["check"]): r for r in csv.DictReader(handle)}


def _refund(aid: str, oid: str, created: str) -> dict[str, str]:
    return {"aftersale_id": aid, "order_id": oid, "type": "refund_only", "created_at": created,
            "merchant_handled_at": created, "refunded_at": created}  # fmt: skip


def test_refund_before_the_ship_deadline(tmp_path: Path) -> None:
    facts = write_dir(
        tmp_path / "facts",
        orders=[order("at", PAID, waybill="", carrier=""),
                order("after", PAID, waybill="", carrier="")],
        after_sales=[_refund("r1", "at", "2024-04-03 10:00:00"),
                     _refund("r2", "after", "2024-04-03 10:00:01")],
    )  # fmt: skip
    rows = _evaluate(facts, tmp_path / "v.csv")
    assert (rows["at", "ship_deadline"]["status"], rows["at", "ship_deadline"]["reason"]) == (
        "exempted", "refunded")  # fmt: skip
    assert rows["after", "ship_deadline"]["status"] == "violated"


def test_every_verdict_says_whose_duty_it_judges(tmp_path: Path) -> None:
    facts = write_dir(
        tmp_path / "facts",
        orders=[order("o", PAID, ship_time="2024-04-02 10:00:00",
                      confirmed_receipt_time="2024-04-05 10:00:00")],
        after_sales=[{"aftersale_id": "r", "order_id": "o", "type": "return_refund",
                      "created_at": "2024-04-06 10:00:00",
                      "merchant_handled_at": "2024-04-06 11:00:00",
                      "merchant_decision": "agreed"}],
    )  # fmt: skip
    out = tmp_path / "v.csv"
    _evaluate(facts, out)
    with out.open(encoding="utf-8") as handle:
        rows = {r["check"]: r for r in csv.DictReader(handle)}
    assert {c: r["duty"] for c, r in rows.items()} == {
        "ship_deadline": "merchant", "ship_mode": "merchant", "pickup": "carrier_for_merchant",
        "settlement": "platform", "aftersale_merchant_confirm": "merchant",
        "aftersale_consumer_return": "consumer",
    }  # fmt: skip
    assert rows["aftersale_consumer_return"]["status"] == "violated"  # the consumer's, not his


def test_bt12_shipped_before_the_pass(tmp_path: Path) -> None:
    phone = "二手商品>二手3C数码>手机"
    facts = write_dir(
        tmp_path / "facts",
        orders=[order("at", PAID, category=phone, ship_time="2024-04-02 10:00:00",
                      inspection_code="C1"),
                order("early", PAID, category=phone, ship_time="2024-04-02 10:00:00",
                      inspection_code="C2")],
        inspections=[{"inspection_code": "C1", "merchant_id": "m1", "result": "pass",
                      "inspected_at": "2024-04-02 10:00:00"},
                     {"inspection_code": "C2", "merchant_id": "m1", "result": "pass",
                      "inspected_at": "2024-04-02 10:00:01"}],
    )  # fmt: skip
    rows = _evaluate(facts, tmp_path / "v.csv")
    assert rows["at", "inspection"]["status"] == "ok"
    assert (rows["early", "inspection"]["status"], rows["early", "inspection"]["reason"]) == (
        "violated", "shipped_before_pass")  # fmt: skip


def test_presale_promise_bounds(tmp_path: Path) -> None:
    facts = write_dir(
        tmp_path / "facts",
        orders=[order("max", PAID, ship_mode="presale", promised_ship_time="2024-04-16 10:00:00"),
                order("late", PAID, ship_mode="presale",
                      promised_ship_time="2024-04-16 10:00:01")],
    )  # fmt: skip
    rows = _evaluate(facts, tmp_path / "v.csv")
    assert rows["max", "presale_promise"]["status"] == "ok"
    assert (rows["late", "presale_promise"]["status"], rows["late", "presale_promise"]["clauses"]
            ) == ("violated", "DR-1d")  # fmt: skip


def test_sf5_consolidation_met_by_its_warehouse_in_scan(tmp_path: Path) -> None:
    """SF-5 海外集货 (item 8): the warehouse-in scan, decoded from a Kuaidi100 push as the
    service would, meets the promise at the promised second and not one second after, though
    the tracking number was uploaded days before."""
    presale = {
        "merchant_type": "cross_border",
        "ship_mode": "presale",
        "cross_border_mode": "overseas_consolidation",
        "carrier": "ems",
        "promised_ship_time": "2023-01-25 10:00:00",
        "ship_time": "2023-01-22 10:00:00",
    }
    orders = [order(oid, "2023-01-20 10:00:00", waybill=f"W-{oid}", **presale)
              for oid in ("at", "after")]  # fmt: skip
    tracking = [
        _warehouse_in_scan("W-at", "2023-01-25 10:00:00"),
        _warehouse_in_scan("W-after", "2023-01-25 10:00:01"),
    ]
    rows = _evaluate(write_dir(tmp_path / "facts", orders=orders, tracking=tracking),
                     tmp_path / "v.csv")  # fmt: skip
    assert (rows["at", "ship_deadline"]["status"], rows["at", "ship_deadline"]["clauses"]) == (
        "ok",
        "SF-5;SF-5c",
    )
    assert (
        rows["after", "ship_deadline"]["status"],
        rows["after", "ship_deadline"]["clauses"],
    ) == ("violated", "SF-5;SF-5c")


def _warehouse_in_scan(waybill: str, when: str) -> dict[str, str]:
    event = TrackingEvent(
        carrier="ems",
        waybill=waybill,
        time=parse_instant(when),
        kind=TrackingKind.WAREHOUSE_IN,
        location="",
        text="海外仓已入库",
    )
    (decoded,) = decode_push(encode_push("ems", waybill, [event])).events
    assert decoded.kind is TrackingKind.WAREHOUSE_IN
    return {"carrier": "ems", "waybill": waybill, "time": when, "kind": decoded.kind.value}

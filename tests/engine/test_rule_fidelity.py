"""Issue 10 rule-fidelity readings through both engine paths (online and DuckDB batch, held
equal by the ``evaluate`` fixture): SF-7 scope, SF-9 events, agreement vs rejection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from tests.engine.conftest import FLOWERS, Evaluate, at, order, scan, write_dir

from lvyue.engine.batch import evaluate_file

AS_OF = "2024-06-01 00:00:00"


def test_sf7_cross_border_gets_120_hours_in_the_window(evaluate: Evaluate) -> None:
    cb = {"merchant_type": "cross_border"}
    v = evaluate(
        AS_OF,
        orders=[
            order("last", "2023-02-03 10:00:00", ship_time="2023-02-04 23:59:59", **cb),
            order("late", "2023-02-03 10:00:00", ship_time="2023-02-04 23:59:59", **cb),
            order("after", "2023-02-03 10:00:00", ship_time="2023-02-05 00:00:00", **cb),
        ],
        tracking=[
            scan("last", "2023-02-05 10:00:00"),
            scan("last", "2023-02-10 10:00:00", "hub_arrival"),  # exactly 120 h
            scan("late", "2023-02-05 10:00:00"),
            scan("late", "2023-02-10 10:00:01", "hub_arrival"),  # 120 h + 1 s
            scan("after", "2023-02-05 10:00:00"),
            scan("after", "2023-02-06 10:00:00", "hub_departure"),  # exactly 24 h
        ],
    )
    assert (v["last", "", "first_hub"]["clauses"], v["last", "", "first_hub"]["status"]) == (
        "SF-7", "ok")  # fmt: skip
    assert v["late", "", "first_hub"]["status"] == "violated"
    assert v["late", "", "first_hub"]["deadline"] == at("2023-02-10 10:00:00")
    assert (v["after", "", "first_hub"]["clauses"], v["after", "", "first_hub"]["status"]) == (
        "DR-2b", "ok")  # fmt: skip
    assert v["last", "", "pickup"]["clauses"] == "DR-2a"  # SF-6 is domestic only


def _req(aid: str, oid: str, created: str, **kw: str) -> dict[str, str]:
    return {"aftersale_id": aid, "order_id": oid, "type": "return_refund", "created_at": created,
            **kw}  # fmt: skip


SHIPPED = {"ship_time": "2023-01-05 10:00:00"}


def test_sf9b_window_read_on_the_agreement(evaluate: Evaluate) -> None:
    """(b) "期间,同意退货或者换货协议的售后申请": the agreement instant decides 28 d vs 7 d."""
    v = evaluate(
        AS_OF,
        orders=[order(o, "2023-01-04 10:00:00", **SHIPPED) for o in ("o1", "o2", "o3")],
        after_sales=[
            # created before the window, agreed on its first second: 28 d
            _req("before", "o1", "2023-01-12 10:00:00", merchant_decision="agreed",
                 merchant_handled_at="2023-01-14 00:00:00"),
            # created on the window's last day, agreed one second after it: daily 7 d
            _req("after", "o2", "2023-01-29 10:00:00", merchant_decision="agreed",
                 merchant_handled_at="2023-01-30 00:00:00"),
            _req("last", "o3", "2023-01-29 10:00:00", merchant_decision="agreed",
                 merchant_handled_at="2023-01-29 23:59:59"),
        ],
    )  # fmt: skip
    before = v["o1", "before", "aftersale_consumer_return"]
    assert (before["clauses"], before["deadline"]) == ("SF-9b", at("2023-02-11 00:00:00"))
    after = v["o2", "after", "aftersale_consumer_return"]
    assert (after["clauses"], after["deadline"]) == ("DR-3b", at("2023-02-06 00:00:00"))
    last = v["o3", "last", "aftersale_consumer_return"]
    assert (last["clauses"], last["deadline"]) == ("SF-9b", at("2023-02-26 23:59:59"))
    assert v["o2", "after", "aftersale_merchant_confirm"]["clauses"] == "SF-9a"  # created in


def test_sf9c_sf9d_windows_read_on_the_return_upload(evaluate: Evaluate) -> None:
    """(c)/(d) "期间,…消费者完成退货物流单号上传": created before, uploaded inside -> 21 d;
    created inside, uploaded after -> the daily 7 d / 48 h."""
    v = evaluate(
        AS_OF,
        orders=[order(o, "2023-01-04 10:00:00", **SHIPPED) for o in ("o1", "o2")],
        after_sales=[
            _req("early", "o1", "2023-01-10 10:00:00", merchant_decision="agreed",
                 merchant_handled_at="2023-01-11 10:00:00",
                 return_shipped_at="2023-01-14 00:00:00",
                 return_signed_at="2023-01-16 00:00:00"),
            _req("late", "o2", "2023-01-29 10:00:00", merchant_decision="agreed",
                 merchant_handled_at="2023-01-29 11:00:00",
                 return_shipped_at="2023-01-30 00:00:00",
                 return_signed_at="2023-02-01 00:00:00"),
        ],
    )  # fmt: skip
    assert v["o1", "early", "aftersale_merchant_confirm"]["clauses"] == "DR-3a"  # created before
    assert v["o1", "early", "aftersale_consumer_return"]["clauses"] == "DR-3b"  # agreed before
    receive = v["o1", "early", "aftersale_merchant_receive"]
    assert (receive["clauses"], receive["deadline"]) == ("SF-9c", at("2023-02-04 00:00:00"))
    refund = v["o1", "early", "aftersale_refund"]
    assert (refund["clauses"], refund["deadline"]) == ("SF-9d", at("2023-02-06 00:00:00"))
    receive = v["o2", "late", "aftersale_merchant_receive"]
    assert (receive["clauses"], receive["deadline"]) == ("DR-3c", at("2023-02-06 00:00:00"))
    refund = v["o2", "late", "aftersale_refund"]
    assert (refund["clauses"], refund["deadline"]) == ("DR-3d", at("2023-02-03 00:00:00"))
    assert v["o2", "late", "aftersale_consumer_return"]["clauses"] == "SF-9b"  # agreed inside


def test_consumer_return_clock_starts_at_agreement_never_at_rejection(
    evaluate: Evaluate,
) -> None:
    v = evaluate(
        AS_OF,
        orders=[order(o, "2023-03-01 10:00:00", ship_time="2023-03-01 12:00:00")
                for o in ("o1", "o2", "o3", "o4")],
        after_sales=[
            _req("agreed", "o1", "2023-03-02 10:00:00", merchant_decision="agreed",
                 merchant_handled_at="2023-03-03 10:00:00"),
            _req("rejected", "o2", "2023-03-02 10:00:00", merchant_decision="rejected",
                 merchant_handled_at="2023-03-03 10:00:00"),
            # no decision recorded: agreement only once the consumer uploaded a return
            _req("legacy", "o3", "2023-03-02 10:00:00",
                 merchant_handled_at="2023-03-03 10:00:00"),
            _req("legacy_ret", "o4", "2023-03-02 10:00:00",
                 merchant_handled_at="2023-03-03 10:00:00",
                 return_shipped_at="2023-03-10 10:00:00"),
        ],
    )  # fmt: skip
    agreed = v["o1", "agreed", "aftersale_consumer_return"]
    assert (agreed["deadline"], agreed["status"]) == (at("2023-03-10 10:00:00"), "violated")
    assert ("o2", "rejected", "aftersale_consumer_return") not in v
    assert v["o2", "rejected", "aftersale_merchant_confirm"]["status"] == "ok"  # handled in time
    assert ("o3", "legacy", "aftersale_consumer_return") not in v
    legacy = v["o4", "legacy_ret", "aftersale_consumer_return"]
    assert (legacy["deadline"], legacy["status"]) == (at("2023-03-10 10:00:00"), "ok")


def test_btas_duty_from_designation_or_the_products_pre_inspection_opt_in(
    evaluate: Evaluate,
) -> None:
    books = {"category": "二手商品>二手图书>小说", "ship_time": "2024-03-02 10:00:00"}
    phone = {"category": "二手商品>二手3C数码>手机", "ship_time": "2024-03-02 10:00:00"}
    v = evaluate(
        AS_OF,
        orders=[
            order("plain", "2024-03-01 10:00:00", **books),
            order("opted", "2024-03-01 10:00:00", pre_inspection="true", **books),
            order("opted_ok", "2024-03-01 10:00:00", pre_inspection="true",
                  inspection_code="C1", **books),
            order("phone", "2024-03-01 10:00:00", **phone),
        ],
        inspections=[{"inspection_code": "C1", "merchant_id": "m1", "result": "pass"}],
    )  # fmt: skip
    assert ("plain", "", "inspection") not in v  # undesignated, no opt-in: no BTAS duty
    assert (v["opted", "", "inspection"]["status"], v["opted", "", "inspection"]["clauses"]) == (
        "violated", "BT-7")  # fmt: skip
    assert v["opted_ok", "", "inspection"]["status"] == "ok"
    assert (v["phone", "", "inspection"]["status"], v["phone", "", "inspection"]["clauses"]) == (
        "violated", "BT-1")  # fmt: skip


def test_sf1_agreed_ship_time_and_sf2_activity_deadline_override_the_festival_rule(
    evaluate: Evaluate,
) -> None:
    paid = "2023-01-20 10:00:00"
    agreed = {"agreed_ship_time": "2023-01-27 10:00:00"}
    fair = {"activity": "年货节", "activity_ship_deadline": "2023-02-10 23:59:59"}
    v = evaluate(
        AS_OF,
        orders=[
            order("agreed_ok", paid, ship_time="2023-01-27 10:00:00", **agreed),
            order("agreed_late", paid, ship_time="2023-01-27 10:00:01", **agreed),
            order("agreed_after_window", "2023-02-03 00:00:00",
                  ship_time="2023-02-05 00:00:01", **agreed),
            order("fair_ok", paid, ship_time="2023-02-10 23:59:59", **fair),
            order("fair_late", paid, ship_time="2023-02-11 00:00:00", **fair),
            order("fair_unknown", paid, ship_time="2023-02-11 00:00:00", activity="年货节"),
            order("both", paid, ship_time="2023-01-27 10:00:01", **agreed, **fair),
            order("delayed_fair", paid, ship_time="2023-02-10 23:59:59", delayed_shipping="true",
                  **fair),
        ],
    )  # fmt: skip

    def got(oid: str) -> tuple[str, str]:
        row = v[oid, "", "ship_deadline"]
        return row["clauses"], row["status"]

    assert got("agreed_ok") == ("SF-1", "ok")
    assert got("agreed_late") == ("SF-1", "violated")
    assert v["agreed_late", "", "ship_deadline"]["deadline"] == at("2023-01-27 10:00:00")
    assert got("agreed_after_window") == ("DR-1a", "violated")  # paid outside SF-1's window
    assert got("fair_ok") == ("SF-2a", "ok")  # the activity's deadline, not 48 h
    assert got("fair_late") == ("SF-2a", "violated")
    assert ("fair_unknown", "", "ship_deadline") not in v  # the activity's rule is unknown
    assert got("both") == ("SF-1", "violated")  # the parties' agreement prevails
    assert got("delayed_fair") == ("SF-2a", "ok")  # the activity's rule, not SF-4's 02-04


def test_lvyue_evaluate_reads_the_agreement_activity_and_decision_columns(
    tmp_path: Path, rulebook: Any
) -> None:
    """The out-of-core reader (`lvyue evaluate`) sees the new facts columns as load_facts does."""
    root = write_dir(
        tmp_path / "facts",
        orders=[
            order("a", "2023-01-20 10:00:00", ship_time="2023-01-27 10:00:01",
                  agreed_ship_time="2023-01-27 10:00:00"),
            order("f", "2023-01-20 10:00:00", ship_time="2023-02-10 23:59:59",
                  activity="年货节", activity_ship_deadline="2023-02-10 23:59:59"),
            order("r", "2023-03-01 10:00:00", ship_time="2023-03-01 12:00:00"),
        ],
        after_sales=[_req("rej", "r", "2023-03-02 10:00:00", merchant_decision="rejected",
                          merchant_handled_at="2023-03-03 10:00:00")],
    )  # fmt: skip
    out = tmp_path / "verdicts.parquet"
    evaluate_file(root, at(AS_OF), rulebook, out)
    rows = {(r["order_id"], r["aftersale_id"], r["check"]): r for r in
            pq.read_table(out).to_pylist()}  # fmt: skip
    assert (rows["a", "", "ship_deadline"]["clauses"], rows["a", "", "ship_deadline"]["status"]) \
        == ("SF-1", "violated")  # fmt: skip
    assert rows["f", "", "ship_deadline"]["clauses"] == "SF-2a"
    assert ("r", "rej", "aftersale_consumer_return") not in rows
    assert ("r", "rej", "aftersale_merchant_confirm") in rows


def test_sf5_cross_border_presale_met_by_the_right_track_record(evaluate: Evaluate) -> None:
    """海外集货: the warehouse-in record; BBC保税: the carrier's pickup; never the upload."""
    presale = {"merchant_type": "cross_border", "ship_mode": "presale",
               "promised_ship_time": "2023-01-25 10:00:00"}  # fmt: skip
    deposit = {**presale, "ship_mode": "deposit_presale"}
    paid, upload = "2023-01-20 10:00:00", {"ship_time": "2023-01-22 10:00:00"}
    v = evaluate(
        AS_OF,
        orders=[
            order("ov_ok", paid, cross_border_mode="overseas_consolidation", **upload, **presale),
            order("ov_late", paid, cross_border_mode="overseas_consolidation", **upload,
                  **presale),
            order("bbc_ok", paid, cross_border_mode="bbc_bonded", **upload, **deposit),
            order("bbc_late", paid, cross_border_mode="bbc_bonded", **upload, **presale),
            order("unknown", paid, **upload, **presale),
            order("after", "2023-02-03 00:00:00", cross_border_mode="bbc_bonded",
                  **{**presale, "promised_ship_time": "2023-02-08 00:00:00",
                     "ship_time": "2023-02-08 00:00:00"}),
        ],
        tracking=[
            scan("ov_ok", "2023-01-25 10:00:00", "warehouse_in"),  # exactly at the promise
            scan("ov_late", "2023-01-23 10:00:00"),  # a pickup does not meet 海外集货
            scan("ov_late", "2023-01-25 10:00:01", "warehouse_in"),
            scan("bbc_ok", "2023-01-25 10:00:00"),
            scan("bbc_late", "2023-01-24 10:00:00", "warehouse_in"),  # not a pickup
            scan("bbc_late", "2023-01-25 10:00:01"),
            scan("unknown", "2023-01-25 10:00:00", "warehouse_in"),
        ],
    )  # fmt: skip

    def got(oid: str) -> tuple[str, str]:
        row = v[oid, "", "ship_deadline"]
        return row["clauses"], row["status"]

    assert got("ov_ok") == ("SF-5;SF-5c", "ok")
    assert v["ov_ok", "", "ship_deadline"]["done_at"] == at("2023-01-25 10:00:00")
    assert got("ov_late") == ("SF-5;SF-5c", "violated")  # uploaded in time, warehoused late
    assert got("bbc_ok") == ("SF-5;SF-5c", "ok")  # 定金预售 is a presale mode too
    assert got("bbc_late") == ("SF-5;SF-5c", "violated")
    assert got("unknown") == ("SF-5;SF-5c", "ok")  # mode unrecorded: the first of the two
    assert got("after") == ("DR-1b", "ok")  # paid after the window: the upload meets it


def _penalised(oid: str, paid: str, settles: str | None = "2024-05-20 12:00:00") -> dict[str, Any]:
    """A flower order under a 延长账期 penalty, received on 2024-02-20 10:00:00."""
    row = order(oid, paid, category=FLOWERS, ship_time=paid,
                confirmed_receipt_time="2024-02-20 10:00:00",
                settlement_extended_penalty="true")  # fmt: skip
    if settles is not None:
        row["penalty_settlement_time"] = settles
    return row


def test_vf6_excepted_orders_keep_their_penalty_period(evaluate: Evaluate) -> None:
    """VF-6 "(因违规产生延长账期处罚的订单除外)": the penalty's date, never DR-5's 10 d / 4 d."""
    v = evaluate(
        AS_OF,
        orders=[
            _penalised("before", "2024-02-07 23:59:59"),
            _penalised("first", "2024-02-08 00:00:00"),
            _penalised("last", "2024-02-14 23:59:59"),
            _penalised("after", "2024-02-15 00:00:00"),
            _penalised("established", "2024-02-10 10:00:00") | {"established_store": "true"},
            _penalised("unknown", "2024-02-10 10:00:00", settles=None),
            order("kept", "2024-02-10 10:00:00", category=FLOWERS,
                  ship_time="2024-02-10 12:00:00", confirmed_receipt_time="2024-02-20 10:00:00",
                  settlement_extended_penalty="false"),
        ],
    )  # fmt: skip

    def got(oid: str) -> tuple[str, Any]:
        row = v[oid, "", "settlement"]
        return row["clauses"], row["deadline"]

    penalty = at("2024-05-20 12:00:00")
    assert got("first") == ("VF-6a", penalty)
    assert got("last") == ("VF-6a", penalty)
    assert got("established") == ("VF-6a", penalty)  # not DR-5b's 4 d either
    assert got("before") == ("DR-5a", at("2024-03-01 10:00:00"))  # paid outside VF-6's window
    assert got("after") == ("DR-5a", at("2024-03-01 10:00:00"))
    assert ("unknown", "", "settlement") not in v  # the penalty's period is unknown: no date
    assert got("kept") == ("VF-6", at("2024-03-21 10:00:00"))  # not penalised: 30 d


def test_lvyue_evaluate_reads_the_penalty_settlement_column(tmp_path: Path, rulebook: Any) -> None:
    root = write_dir(
        tmp_path / "facts",
        orders=[_penalised("p", "2024-02-08 00:00:00"), _penalised("q", "2024-02-07 23:59:59")],
    )
    out = tmp_path / "verdicts.parquet"
    evaluate_file(root, at(AS_OF), rulebook, out)
    rows = {r["order_id"]: r for r in pq.read_table(out).to_pylist() if r["check"] == "settlement"}
    assert (rows["p"]["clauses"], rows["p"]["deadline"]) == ("VF-6a", at("2024-05-20 12:00:00"))
    assert (rows["q"]["clauses"], rows["q"]["deadline"]) == ("DR-5a", at("2024-03-01 10:00:00"))

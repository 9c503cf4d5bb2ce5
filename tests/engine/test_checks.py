"""pickup, first_hub, after-sales, inspection, settlement and the status rules, at both sides
of the seed window edges (SF-6, SF-7, SF-9, BT-8/10/12, VF-6, DR-2/3/5)."""

from __future__ import annotations

from tests.engine.conftest import FLOWERS, PHONE, Evaluate, at, order, scan

AS_OF = "2024-06-01 00:00:00"


def test_sf6_sf7_pickup_and_first_hub_window_edges(evaluate: Evaluate) -> None:
    v = evaluate(
        AS_OF,
        orders=[
            order("in", "2023-02-03 10:00:00", ship_time="2023-02-04 23:59:59"),
            order("in_late", "2023-02-03 10:00:00", ship_time="2023-02-04 23:59:59"),
            order("out", "2023-02-03 10:00:00", ship_time="2023-02-05 00:00:00"),
            order("early", "2023-03-01 10:00:00", ship_time="2023-03-01 12:00:00"),
            order("none", "2023-03-01 10:00:00", ship_time="2023-03-01 12:00:00"),
        ],
        tracking=[
            scan("in", "2023-02-06 23:59:59"),  # exactly 48 h
            scan("in", "2023-02-11 23:59:59", "hub_arrival"),  # exactly 120 h after pickup
            scan("in_late", "2023-02-07 00:00:00"),  # 48 h + 1 s
            scan("in_late", "2023-02-12 00:00:01", "hub_departure"),  # 120 h + 1 s
            scan("out", "2023-02-06 00:00:00"),  # exactly 24 h (daily)
            scan("out", "2023-02-07 00:00:01", "hub_arrival"),  # 24 h + 1 s
            scan("early", "2023-03-01 11:00:00"),  # before shipping: counts at ship time
            scan("early", "2023-03-02 12:00:00", "hub_arrival"),
        ],
    )
    assert v["in", "", "pickup"]["status"] == "ok"
    assert v["in", "", "pickup"]["clauses"] == "SF-6"
    assert v["in", "", "first_hub"]["status"] == "ok"
    assert v["in", "", "first_hub"]["clauses"] == "SF-7"
    assert v["in_late", "", "pickup"]["status"] == "violated"
    assert v["in_late", "", "first_hub"]["status"] == "violated"
    assert v["in_late", "", "first_hub"]["deadline"] == at("2023-02-12 00:00:00")
    assert v["out", "", "pickup"]["status"] == "ok"
    assert v["out", "", "pickup"]["clauses"] == "DR-2a"
    assert v["out", "", "first_hub"]["status"] == "violated"
    assert v["out", "", "first_hub"]["clauses"] == "DR-2b"
    assert v["early", "", "pickup"]["done_at"] == at("2023-03-01 12:00:00")
    assert v["early", "", "first_hub"]["status"] == "ok"  # counted from the ship time
    assert v["none", "", "pickup"]["status"] == "violated"  # no tracking at all
    assert v["none", "", "pickup"]["reason"] == "missed"
    assert ("none", "", "first_hub") not in v  # no pickup yet: nothing to time


def _request(aid: str, oid: str, created: str, **kw: str) -> dict[str, str]:
    return {"aftersale_id": aid, "order_id": oid, "type": "return_refund", "created_at": created,
            **kw}  # fmt: skip


def test_sf9_after_sales_window_edge_and_before_shipping(evaluate: Evaluate) -> None:
    shipped = {"ship_time": "2023-01-20 10:00:00"}
    v = evaluate(
        AS_OF,
        orders=[
            order("o1", "2023-01-19 10:00:00", **shipped),
            order("o2", "2023-01-19 10:00:00", **shipped),
            order("o3", "2023-01-25 10:00:00", ship_time="2023-02-01 10:00:00"),
        ],
        after_sales=[
            # last second of SF-9's window, after shipping: 10 d / 28 d / 21 d / 21 d
            _request("in", "o1", "2023-01-29 23:59:59",
                     merchant_handled_at="2023-02-08 23:59:59",
                     return_shipped_at="2023-03-08 23:59:59",
                     merchant_received_at="2023-03-29 23:59:59",
                     return_signed_at="2023-03-01 00:00:00",
                     refunded_at="2023-03-22 00:00:01"),
            # first second after the window: the daily 48 h
            _request("out", "o2", "2023-01-30 00:00:00", merchant_handled_at="2023-02-01 00:00:00"),
            # inside the window but before the order shipped: daily rules (SF-9)
            _request("pre", "o3", "2023-01-26 00:00:00", type="refund_only",
                     merchant_handled_at="2023-01-28 00:00:01"),
        ],
    )  # fmt: skip
    confirm = v["o1", "in", "aftersale_merchant_confirm"]
    assert (confirm["clauses"], confirm["status"]) == ("SF-9a", "ok")
    assert confirm["deadline"] == at("2023-02-08 23:59:59")
    # the later steps happened after the window: each is read on its own event (SF-9b-d),
    # so the daily limits hold (tests/engine/test_rule_fidelity.py has their window edges)
    assert v["o1", "in", "aftersale_consumer_return"]["clauses"] == "DR-3b"
    assert v["o1", "in", "aftersale_consumer_return"]["status"] == "violated"
    assert v["o1", "in", "aftersale_merchant_receive"]["clauses"] == "DR-3c"
    assert v["o1", "in", "aftersale_refund"]["clauses"] == "DR-3d"
    assert v["o1", "in", "aftersale_refund"]["status"] == "violated"
    out = v["o2", "out", "aftersale_merchant_confirm"]
    assert (out["clauses"], out["status"]) == ("DR-3a", "ok")
    assert out["deadline"] == at("2023-02-01 00:00:00")
    pre = v["o3", "pre", "aftersale_merchant_confirm"]
    assert (pre["clauses"], pre["status"]) == ("DR-3a", "violated")
    assert ("o3", "pre", "aftersale_consumer_return") not in v  # refund only: nothing returns


def test_btas_inspection_codes(evaluate: Evaluate) -> None:
    ship = {"category": PHONE, "ship_time": "2024-03-02 10:00:00"}
    v = evaluate(
        AS_OF,
        orders=[
            order("pass", "2024-03-01 10:00:00", inspection_code="C1", **ship),
            order("none", "2024-03-01 10:00:00", **ship),
            order("fail", "2024-03-01 10:00:00", inspection_code="C2", **ship),
            order("forged", "2024-03-01 10:00:00", inspection_code="C404", **ship),
            order("foreign", "2024-03-01 10:00:00", inspection_code="C3", **ship),
            order("reuse", "2024-03-01 10:00:00", inspection_code="C1",
                  category=PHONE, ship_time="2024-03-03 10:00:00"),
            order("food", "2024-03-01 10:00:00", ship_time="2024-03-02 10:00:00"),
        ],
        inspections=[
            {"inspection_code": "C1", "merchant_id": "m1", "result": "pass"},
            {"inspection_code": "C2", "merchant_id": "m1", "result": "fail"},
            {"inspection_code": "C3", "merchant_id": "m9", "result": "pass"},
        ],
    )  # fmt: skip
    reasons = {o: v[o, "", "inspection"]["reason"] for o in
               ("pass", "none", "fail", "forged", "foreign", "reuse")}  # fmt: skip
    assert reasons == {"pass": "passed", "none": "no_code", "fail": "failed",
                       "forged": "unknown_code", "foreign": "unknown_code",
                       "reuse": "reused"}  # fmt: skip
    assert v["pass", "", "inspection"]["status"] == "ok"
    assert v["reuse", "", "inspection"]["status"] == "violated"
    assert v["pass", "", "inspection"]["clauses"] == "BT-1"
    assert ("food", "", "inspection") not in v  # not a BTAS category


def test_btas_reuse_as_of_before_the_first_shipment_is_seen(evaluate: Evaluate) -> None:
    v = evaluate(
        "2024-03-02 12:00:00",
        orders=[
            order("a", "2024-03-01 10:00:00", inspection_code="C1", category=PHONE,
                  ship_time="2024-03-03 10:00:00"),
            order("b", "2024-03-01 10:00:00", inspection_code="C1", category=PHONE,
                  ship_time="2024-03-02 10:00:00"),
        ],
        inspections=[{"inspection_code": "C1", "merchant_id": "m1", "result": "pass"}],
    )  # fmt: skip
    assert v["b", "", "inspection"]["status"] == "ok"  # a's shipment is in the future
    assert ("a", "", "inspection") not in v


def test_status_as_of_pending_at_risk_and_facts_after_as_of(evaluate: Evaluate) -> None:
    orders = [
        order("p", "2023-03-01 00:00:00"),  # deadline 03-03 00:00
        order("shipped_later", "2023-03-01 00:00:00", ship_time="2023-03-02 23:00:00"),
        order("future", "2023-03-05 00:00:00"),
    ]
    early = evaluate("2023-03-02 00:00:00", orders=orders)
    assert early["p", "", "ship_deadline"]["status"] == "pending"
    assert early["shipped_later", "", "ship_deadline"]["status"] == "pending"  # not seen yet
    assert not any(k[0] == "future" for k in early)  # not paid as of then
    near = evaluate("2023-03-02 12:00:00", orders=orders)
    assert near["p", "", "ship_deadline"]["status"] == "at_risk"  # 12 h left
    edge = evaluate("2023-03-03 00:00:00", orders=orders)
    assert edge["p", "", "ship_deadline"]["status"] == "violated"  # deadline == as-of
    assert edge["shipped_later", "", "ship_deadline"]["status"] == "ok"


def test_settlement_vf6_and_dr5(evaluate: Evaluate) -> None:
    v = evaluate(
        AS_OF,
        orders=[
            order("flower", "2024-02-10 10:00:00", category=FLOWERS,
                  ship_time="2024-02-11 10:00:00", confirmed_receipt_time="2024-02-15 10:00:00"),
            order("plain", "2024-03-10 10:00:00", ship_time="2024-03-11 10:00:00",
                  confirmed_receipt_time="2024-03-15 10:00:00"),
            order("est", "2024-03-10 10:00:00", established_store="true",
                  ship_time="2024-03-11 10:00:00", confirmed_receipt_time="2024-03-15 10:00:00"),
        ],
    )  # fmt: skip
    flower = v["flower", "", "settlement"]
    assert (flower["status"], flower["clauses"]) == ("scheduled", "VF-6")
    assert flower["deadline"] == at("2024-03-16 10:00:00")
    assert v["plain", "", "settlement"]["deadline"] == at("2024-03-25 10:00:00")
    assert v["est", "", "settlement"]["deadline"] == at("2024-03-19 10:00:00")


def refund(aid: str, oid: str, created: str, **kw: str) -> dict[str, str]:
    return _request(aid, oid, created, **{"type": "refund_only", **kw})


def test_refund_requested_before_the_ship_deadline_owes_no_shipment(evaluate: Evaluate) -> None:
    """Item 0: a refund requested (and granted) by the ship deadline closes ship, pickup and
    first hub; one requested after an unmet deadline does not erase the late shipment; one
    still open suspends the breach (docs/decisions/engine-refund-before-deadline.md)."""
    paid, deadline = "2024-04-01 10:00:00", "2024-04-03 10:00:00"
    v = evaluate(
        AS_OF,
        orders=[order(x, paid, ship_time=None, waybill="", carrier="")
                for x in ("at", "after", "open", "handled", "exchange")]
        + [order("late_ship", paid, ship_time="2024-04-04 10:00:00"),
           order("late_ship_after", paid, ship_time="2024-04-04 10:00:00")],
        tracking=[scan("late_ship", "2024-04-06 10:00:00"),
                  scan("late_ship_after", "2024-04-06 10:00:00")],
        after_sales=[
            refund("r-at", "at", deadline, refunded_at="2024-04-05 10:00:00"),
            refund("r-after", "after", "2024-04-03 10:00:01", refunded_at="2024-04-03 12:00:00"),
            refund("r-open", "open", "2024-04-02 10:00:00"),
            refund("r-handled", "handled", "2024-04-02 10:00:00",
                   merchant_handled_at="2024-04-02 11:00:00"),
            refund("r-ex", "exchange", "2024-04-02 10:00:00", type="exchange",
                   refunded_at="2024-04-02 12:00:00"),
            refund("r-ls", "late_ship", "2024-04-02 10:00:00", refunded_at="2024-04-08 10:00:00"),
            refund("r-lsa", "late_ship_after", "2024-04-04 10:00:01",
                   refunded_at="2024-04-08 10:00:00"),
        ],
    )  # fmt: skip
    ship = {k[0]: r for k, r in v.items() if k[2] == "ship_deadline"}
    assert ship["at"]["status"] == "exempted" and ship["at"]["reason"] == "refunded"
    assert ship["at"]["deadline"] == at(deadline)
    assert ship["after"]["status"] == "violated" and ship["after"]["reason"] == "missed"
    assert ship["open"]["status"] == "pending" and ship["open"]["reason"] == "refund_open"
    assert ship["handled"]["status"] == "violated"  # handled without a refund: deadline stands
    assert ship["exchange"]["status"] == "violated"  # an exchange cancels nothing
    # shipped late after the consumer asked for the refund: closed, pickup too
    assert ship["late_ship"]["status"] == "exempted"
    assert v["late_ship", "", "pickup"]["status"] == "exempted"
    assert v["late_ship", "", "pickup"]["reason"] == "refunded"
    # asked after the shipment: nothing closed
    assert ship["late_ship_after"]["status"] == "violated"
    assert v["late_ship_after", "", "pickup"]["status"] == "violated"


def test_bt12_the_pass_must_come_before_shipping(evaluate: Evaluate) -> None:
    """BT-12 "禁止商家未通过Btas质检情况自行向消费者发货": shipped before the pass is violated,
    whatever the result later was."""
    ship = {"category": PHONE, "ship_time": "2024-03-02 10:00:00"}
    v = evaluate(
        AS_OF,
        orders=[order("at", "2024-03-01 10:00:00", inspection_code="C5", **ship),
                order("early", "2024-03-01 10:00:00", inspection_code="C6", **ship)],
        inspections=[
            {"inspection_code": "C5", "merchant_id": "m1", "result": "pass",
             "inspected_at": "2024-03-02 10:00:00"},
            {"inspection_code": "C6", "merchant_id": "m1", "result": "pass",
             "inspected_at": "2024-03-02 10:00:01"},
        ],
    )  # fmt: skip
    assert v["at", "", "inspection"]["status"] == "ok"
    assert v["early", "", "inspection"]["status"] == "violated"
    assert v["early", "", "inspection"]["reason"] == "shipped_before_pass"
    assert v["early", "", "inspection"]["duty"] == "merchant"


def test_presale_promise_bounds_are_a_verdict_of_their_own(evaluate: Evaluate) -> None:
    """SF-5a/5b ("发货时效支持2-15天设置"), DR-1c/1d: promised 2–15 d after payment."""
    paid = "2024-04-01 10:00:00"
    presale = {"ship_mode": "presale"}
    v = evaluate(
        AS_OF,
        orders=[
            order("min", paid, promised_ship_time="2024-04-03 10:00:00", **presale),
            order("early", paid, promised_ship_time="2024-04-03 09:59:59", **presale),
            order("max", paid, promised_ship_time="2024-04-16 10:00:00", **presale),
            order("late", paid, promised_ship_time="2024-04-16 10:00:01", ship_mode="step"),
            order("sf", "2023-01-20 10:00:00", merchant_type="cross_border",
                  promised_ship_time="2023-02-04 10:00:01", **presale),
            order("spot", paid),
        ],
    )  # fmt: skip
    got = {o: (v[o, "", "presale_promise"]["status"], v[o, "", "presale_promise"]["reason"])
           for o in ("min", "early", "max", "late", "sf")}  # fmt: skip
    assert got == {"min": ("ok", "promise_ok"), "early": ("violated", "promise_too_early"),
                   "max": ("ok", "promise_ok"), "late": ("violated", "promise_too_late"),
                   "sf": ("violated", "promise_too_late")}  # fmt: skip
    assert v["early", "", "presale_promise"]["clauses"] == "DR-1c"
    assert v["late", "", "presale_promise"]["clauses"] == "DR-1d"
    assert v["sf", "", "presale_promise"]["clauses"] == "SF-5b"
    assert v["min", "", "presale_promise"]["duty"] == "merchant"
    assert ("spot", "", "presale_promise") not in v

"""A waybill's first scan of a kind dated before the order's payment is not the order's
(issue 12 item 2a; clocks.after_payment, lvyue's reading of SF-6 "在发货后的48小时内该物流单号
在相应物流公司官网有第一条物流揽件信息"): both engine paths, both sides of the edge. A scan
between payment and shipping still counts, at the ship time (clocks.pickup_clock)."""

from __future__ import annotations

from tests.engine.conftest import Evaluate, at, order, scan

PAID = "2024-03-01 10:00:00"
SHIPPED = "2024-03-01 12:00:00"
AS_OF = "2024-06-01 00:00:00"  # every limit has passed


def test_a_pickup_scan_one_second_before_payment_is_not_the_orders(evaluate: Evaluate) -> None:
    v = evaluate(
        AS_OF,
        orders=[order("before", PAID, ship_time=SHIPPED), order("at", PAID, ship_time=SHIPPED)],
        tracking=[scan("before", "2024-03-01 09:59:59"), scan("at", PAID)],
    )
    assert (v["before", "", "pickup"]["status"], v["before", "", "pickup"]["reason"]) == (
        "violated",
        "missed",
    )
    assert ("before", "", "first_hub") not in v  # no pickup: the first-hub clock never starts
    assert v["at", "", "pickup"]["status"] == "ok"  # at payment: counts, at the ship time
    assert v["at", "", "pickup"]["done_at"] == at(SHIPPED)


def test_a_later_pickup_does_not_replace_a_first_one_before_payment(evaluate: Evaluate) -> None:
    """SF-6 asks for the waybill's *first* pickup record: a reused waybill scanned before the
    order existed does not become the order's parcel by a later scan."""
    v = evaluate(
        AS_OF,
        orders=[order("reused", PAID, ship_time=SHIPPED)],
        tracking=[scan("reused", "2024-02-20 08:00:00"), scan("reused", "2024-03-01 18:00:00")],
    )
    assert v["reused", "", "pickup"]["status"] == "violated"


def test_a_hub_scan_before_payment_is_not_the_orders(evaluate: Evaluate) -> None:
    pickup = "2024-03-01 18:00:00"
    v = evaluate(
        AS_OF,
        orders=[order("before", PAID, ship_time=SHIPPED), order("at", PAID, ship_time=SHIPPED)],
        tracking=[
            scan("before", pickup),
            scan("before", "2024-03-01 09:59:59", "hub_arrival"),
            scan("at", pickup),
            scan("at", PAID, "hub_arrival"),  # at payment: counts, from the pickup clock
        ],
    )
    assert v["before", "", "pickup"]["status"] == "ok"
    assert v["before", "", "first_hub"]["status"] == "violated"
    assert v["at", "", "first_hub"]["status"] == "ok"
    assert v["at", "", "first_hub"]["done_at"] == at(pickup)

"""The worker keeps an order's mark until the first instant time alone may change its
verdicts, recorded facts included: ``OrderFacts`` holds the order's row and its after-sales
requests as the facts rows' pydantic models, and an instant in them still ahead of the clock
(a ship time, a refund recorded ahead of the demo clock) keeps the mark due then. Skipped,
the mark was cleared and the order's verdicts froze (146 batch-only verdicts in
``test_live_agrees_with_batch``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lvyue.engine.order import OrderFacts, after_sale, order_row
from lvyue.workflows.live import _next_due

NOW = datetime(2024, 3, 17, tzinfo=UTC)


def _facts(**order: object) -> OrderFacts:
    row = order_row({
        "order_id": "O1", "merchant_id": "m1", "merchant_type": "domestic",
        "category": "服饰内衣>女装>连衣裙", "ship_mode": "spot",
        "pay_time": NOW - timedelta(days=1), **order,
    })  # fmt: skip
    return OrderFacts(order=row)


def test_an_order_row_instant_ahead_of_the_clock_is_when_the_mark_is_due() -> None:
    shipped = NOW + timedelta(hours=5)
    assert _next_due([], _facts(ship_time=shipped), NOW, timedelta(hours=12)) == shipped


def test_an_after_sales_instant_ahead_of_the_clock_is_when_the_mark_is_due() -> None:
    refunded = NOW + timedelta(hours=7)
    request = after_sale({
        "aftersale_id": "A1", "order_id": "O1", "type": "refund_only",
        "created_at": NOW - timedelta(hours=2), "refunded_at": refunded,
    })  # fmt: skip
    facts = OrderFacts(order=_facts().order, after_sales=(request,))
    assert _next_due([], facts, NOW, timedelta(hours=12)) == refunded


def test_no_instant_ahead_and_nothing_open_clears_the_mark() -> None:
    assert (
        _next_due([], _facts(ship_time=NOW - timedelta(hours=1)), NOW, timedelta(hours=1)) is None
    )

"""VF-8's rates counted exactly, at both sides of each period edge."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from helpers import AS_OF, PAY, Market

from lvyue.indicators import Judged, evaluate, span

SECOND = timedelta(seconds=1)


def _one(
    market: Market,
    *,
    start: datetime = PAY - timedelta(days=1),
    end: datetime = PAY + timedelta(days=1),
    as_of: datetime = AS_OF,
    by_product: bool = False,
) -> dict[str, Judged]:
    judged = evaluate(market.sources(), span(start, end, as_of), by_product=by_product)
    return {j.merchant_id + (f"/{j.product_id}" if j.product_id else ""): j for j in judged}


def test_every_rate_is_its_share_of_the_orders_paid_in_the_period() -> None:
    m = Market()
    ids = m.add_orders("M1", 40)
    m.after_sale(ids[0], "defect")  # a quality return: defect and 品退
    m.after_sale(ids[1], "defect", kind="exchange")  # goods back too
    m.after_sale(ids[2], "not_as_described", kind="refund_only")  # no goods back: not 品退
    m.after_sale(ids[3], "no_longer_wanted")
    m.after_sale(ids[3], "defect", kind="refund_only")  # a second request of the same order
    m.complaint(ids[4])
    m.complaint(ids[4], reason="service")  # one order, two complaints: one complained order
    for i, stars in enumerate((1, 2, 3, 4, 5, 5, 5, 5, 5, 5)):
        m.review(ids[10 + i], stars)
    f = _one(m)["M1"].findings
    assert f["defect_rate"].value == pytest.approx(3 / 40)
    assert f["not_as_described_rate"].value == pytest.approx(1 / 40)
    assert f["product_return_rate"].value == pytest.approx(2 / 40)
    assert f["complaint_rate"].value == pytest.approx(1 / 40)
    assert f["negative_review_rate"].value == pytest.approx(2 / 10)


def test_an_event_counts_before_the_period_end_and_not_at_it() -> None:
    m = Market()
    ids = m.add_orders("M1", 40)
    m.after_sale(ids[0], "defect", at=AS_OF - SECOND)
    m.after_sale(ids[1], "defect", at=AS_OF)
    m.complaint(ids[2], at=AS_OF)
    m.review(ids[3], 1, at=AS_OF)
    f = _one(m)["M1"].findings
    assert f["defect_rate"].value == pytest.approx(1 / 40)
    assert f["complaint_rate"].value == 0
    assert f["negative_review_rate"].value is None  # no review before the end


def test_orders_paid_at_the_start_count_and_at_the_end_do_not() -> None:
    m = Market()
    m.add_orders("M1", 30, pay=PAY)
    m.add_orders("M1", 5, pay=PAY + timedelta(days=1))
    assert _one(m, start=PAY, end=PAY + timedelta(days=1))["M1"].orders == 30
    assert _one(m, start=PAY - SECOND, end=PAY + timedelta(days=1) + SECOND)["M1"].orders == 35


def test_per_product_rates_split_the_merchant() -> None:
    m = Market()
    bad = m.add_orders("M1", 30, product="PA")
    m.add_orders("M1", 30, product="PB")
    for oid in bad[:6]:
        m.after_sale(oid, "defect")
    by = _one(m, by_product=True)
    assert by["M1/PA"].findings["defect_rate"].value == pytest.approx(6 / 30)
    assert by["M1/PB"].findings["defect_rate"].value == 0
    assert by["M1/PA"].findings["experience_score"].level == "not_judged"  # a store score


def test_below_the_minimum_orders_nothing_is_judged() -> None:
    m = Market()
    for merchant, n in (("M29", 29), ("M30", 30)):
        ids = m.add_orders(merchant, n)
        for oid in ids[:10]:
            m.after_sale(oid, "defect")
    by = _one(m)
    assert {f.level for f in by["M29"].findings.values()} == {"not_judged"}
    assert by["M30"].findings["defect_rate"].level == "severe"
    assert by["M30"].findings["defect_rate"].clauses[0] == "IND-7"

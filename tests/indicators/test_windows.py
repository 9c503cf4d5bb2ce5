"""The indicators' windows and minimums at both sides of their edges, through the plans the
CLI and the API use (``rolling``, ``festival``) and ``evaluate``: the rolling window
(IND-3, 30 days), the period step (IND-4, 7 days), the reviews a negative-review rate needs
(IND-2, 20) and VF-8's festival window (its orders paid 02-08 00:00:00 … 02-14 23:59:59)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from helpers import AS_OF, Market

from lvyue.indicators import evaluate, festival, rolling, span
from lvyue.indicators.thresholds import thresholds_at
from lvyue.model.time import parse_instant

SECOND = timedelta(seconds=1)
TH = thresholds_at(AS_OF)


def _orders(m: Market, plan_periods: int = 1) -> list[int]:
    """Orders counted for M1 in each period of the rolling plan (0: none)."""
    plan = rolling(AS_OF, plan_periods)
    by_end = {j.period_end: j.orders for j in evaluate(m.sources(), plan)}
    return [by_end.get(datetime.fromtimestamp(e, UTC), 0) for e, _, _ in plan.periods]


def test_the_window_and_period_are_the_rulebooks() -> None:
    assert (TH.setting("window_days"), TH.settings["window_days"].clause) == (30, "IND-3")
    assert (TH.setting("period_days"), TH.settings["period_days"].clause) == (7, "IND-4")
    assert (TH.setting("min_reviews"), TH.settings["min_reviews"].clause) == (20, "IND-2")


@pytest.mark.parametrize(("offset", "counted"), [(-SECOND, 0), (timedelta(0), 30)])
def test_the_rolling_window_starts_window_days_before_its_end(
    offset: timedelta, counted: int
) -> None:
    m = Market()
    m.add_orders("M1", 30, pay=AS_OF - timedelta(days=30) + offset)
    assert _orders(m) == [counted]


@pytest.mark.parametrize(("offset", "counted"), [(-SECOND, [0, 0]), (timedelta(0), [30, 0])])
def test_rolling_periods_end_period_days_apart(offset: timedelta, counted: list[int]) -> None:
    """The earlier period ends 7 days before ``as_of``: it holds payments from 37 days back,
    the later one does not."""
    plan = rolling(AS_OF, 2)
    assert [e for e, _, _ in plan.periods] == [
        int((AS_OF - timedelta(days=7)).timestamp()), int(AS_OF.timestamp())]  # fmt: skip
    m = Market()
    m.add_orders("M1", 30, pay=AS_OF - timedelta(days=37) + offset)
    assert _orders(m, 2) == counted


@pytest.mark.parametrize(("reviews", "level"), [(19, "not_judged"), (20, "severe")])
def test_a_negative_review_rate_needs_min_reviews(reviews: int, level: str) -> None:
    m = Market()
    ids = m.add_orders("M1", 40)
    for oid in ids[:reviews]:
        m.review(oid, 1)
    plan = span(AS_OF - timedelta(days=30), AS_OF, AS_OF)
    (j,) = evaluate(m.sources(), plan)
    f = j.findings["negative_review_rate"]
    assert (j.reviews, f.level) == (reviews, level)
    assert j.findings["defect_rate"].level == "normal"  # the orders are enough for the rest


@pytest.mark.parametrize(
    ("paid", "counted"),
    [
        ("2024-02-07 23:59:59", 0),
        ("2024-02-08 00:00:00", 30),
        ("2024-02-14 23:59:59", 30),
        ("2024-02-15 00:00:00", 0),
    ],
)
def test_the_festival_window_is_vf8s(paid: str, counted: int) -> None:
    m = Market()  # a time without an offset is Beijing's
    m.add_orders("M1", 30, pay=parse_instant(paid))
    m.add_orders("M2", 30, pay=parse_instant("2024-02-10 12:00:00"))  # keeps the period non-empty
    judged = {j.merchant_id: j.orders for j in evaluate(m.sources(), festival("VF-8", AS_OF))}
    assert (judged.get("M1", 0), judged["M2"]) == (counted, 30)

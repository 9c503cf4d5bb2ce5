"""VF-9: claims judged on the orders of their promotion, at both sides of every threshold
(deadline, min_orders, broken share warn / severe) and of every ladder step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from claims_market import AS_OF, END_OF_PAY_DAY, PAY, ClaimMarket

from lvyue.indicators.creators import ClaimOutcome, judge_claims
from lvyue.indicators.creators.judge import claim_thresholds, level_of
from lvyue.indicators.creators.ladder import propose
from lvyue.rulebook import load_rulebook

SECOND = timedelta(seconds=1)
NEXT_DAY_END = END_OF_PAY_DAY + timedelta(days=1)


def judged(m: ClaimMarket) -> ClaimOutcome:
    return judge_claims(m.sources(), AS_OF)


def test_delivered_at_the_deadline_keeps_it_one_second_later_breaks_it() -> None:
    m = ClaimMarket()
    kept, late = m.promote("次日达"), m.promote("次日达", creator="C2")
    m.orders_of(kept, 10, signed=NEXT_DAY_END)
    m.orders_of(late, 10, signed=NEXT_DAY_END + SECOND)
    by_id = {f.promotion_id: f for f in judged(m).findings}
    assert (by_id[kept].broken, by_id[kept].level) == (0, "normal")
    assert (by_id[late].broken, by_id[late].level) == (10, "severe")


def test_ship_claims_read_the_ship_time() -> None:
    m = ClaimMarket()
    p = m.promote("48小时内发货")
    m.orders_of(p, 8, ship=PAY + timedelta(hours=48))
    m.orders_of(p, 2, ship=PAY + timedelta(hours=48) + SECOND)
    (f,) = judged(m).findings
    assert (f.event, f.orders, f.broken, f.level) == ("ship", 10, 2, "warn")


def test_receipt_in_time_proves_delivery_and_no_delivery_after_the_deadline_breaks() -> None:
    m = ClaimMarket()
    p = m.promote("当日达")
    m.orders_of(p, 5, receipt=END_OF_PAY_DAY)  # no signed scan, receipt in time
    m.orders_of(p, 5)  # never delivered, the deadline long past
    (f,) = judged(m).findings
    assert (f.orders, f.broken) == (10, 5)


def test_pending_orders_and_unshipped_or_unattributed_ones_are_not_judged() -> None:
    m = ClaimMarket()
    p = m.promote("次日达")
    m.orders_of(p, 10, signed=PAY + timedelta(hours=20))
    m.orders.append({**m.orders[0], "order_id": "X1", "ship_time": None, "waybill": None,
                     "carrier": None})  # fmt: skip
    m.order(None, signed=PAY + timedelta(days=5))  # no promotion
    m.order(p, merchant_type="cross_border", signed=PAY + timedelta(days=5))  # out of VF-1
    m.order(p, pay=PAY - timedelta(days=10), signed=PAY)  # before VF-9 was in force
    as_of = PAY + timedelta(hours=21)
    m.order(p, pay=PAY + timedelta(hours=20))  # due tomorrow: pending at as_of
    (f,) = judge_claims(m.sources(), as_of).findings
    assert (f.orders, f.broken, f.pending) == (10, 0, 1)


def test_orders_before_publication_do_not_count() -> None:
    m = ClaimMarket()
    p = m.promote("当日达", published=PAY + timedelta(hours=1))
    m.orders_of(p, 10, signed=PAY + timedelta(days=3))
    (f,) = judged(m).findings
    assert (f.orders, f.level) == (0, "not_judged")


def test_orders_of_another_shop_or_product_naming_the_promotion_do_not_count() -> None:
    """An order is the promotion's only if it is of its shop and product (and paid after the
    post): orders fed with a promotion id before the promotion was recorded — another shop's,
    or another product's of the same shop — were judged against its claim (hostile review 3).
    Both the single judgement and the periods read the one definition."""
    from lvyue.indicators.creators.run import measure_claims

    m = ClaimMarket()
    p = m.promote("当日达")  # M1's P1
    m.orders_of(p, 5, signed=END_OF_PAY_DAY)  # its own, kept
    late = PAY + timedelta(days=3)
    m.orders_of(p, 10, signed=late, merchant="M2")  # another shop's, late
    m.orders_of(p, 10, signed=late, product="P2")  # another product of M1, late
    (f,) = judged(m).findings
    assert (f.orders, f.broken, f.level) == (5, 0, "not_judged")
    m.orders_of(p, 5, signed=END_OF_PAY_DAY)  # its own: 10, enough to judge, all kept
    (f,) = judged(m).findings
    assert (f.orders, f.broken, f.level) == (10, 0, "normal")
    periods = measure_claims(m.sources(), AS_OF, 3)
    assert sum(g.orders for period in periods.periods for g in period.findings) == 10
    assert periods.proposals == []


@pytest.mark.parametrize(
    ("orders", "broken", "level"),
    [
        (9, 9, "not_judged"),  # CC-1: fewer than 10 judged orders
        (10, 1, "normal"),
        (10, 2, "warn"),  # CC-2: 20 %
        (50, 9, "normal"),  # 18 %
        (10, 4, "warn"),
        (10, 5, "severe"),  # CC-3: 50 %
        (100, 49, "warn"),
    ],
)
def test_levels_at_both_sides_of_each_threshold(orders: int, broken: int, level: str) -> None:
    th = claim_thresholds(AS_OF)
    assert (th.min_orders.value, th.warn.value, th.severe.value) == (10, 0.2, 0.5)
    got, clauses, _ = level_of(orders, broken, th)
    assert got == level
    if level in ("warn", "severe"):
        assert clauses[0] == "VF-9"


def _false_claims(m: ClaimMarket, creator: str | None, severities: list[str]) -> None:
    for k, severity in enumerate(severities):
        p = m.promote("次日达", creator=creator, product=f"P{k}")
        broken = 5 if severity == "severe" else 2
        m.orders_of(p, 10 - broken, signed=PAY + timedelta(hours=20), product=f"P{k}")
        m.orders_of(p, broken, signed=PAY + timedelta(days=3), product=f"P{k}")


@pytest.mark.parametrize(
    ("severities", "creator_step", "merchant_step"),
    [
        (["warn"], "warning", "warning"),  # level 1
        (["severe"], "withdraw_sharing", "delist_product"),  # 2
        (["severe", "warn"], "withhold_commission", "extend_settlement"),  # 3
        (["severe", "severe"], "freeze_deposit", "limit_orders"),  # 4
        (["severe", "severe", "warn"], "freeze_deposit", "limit_orders"),  # 5
        (["severe", "severe", "severe"], "ban_account", "limit_orders"),  # 6
    ],
)
def test_ladders_by_severity_and_repetition(
    severities: list[str], creator_step: str, merchant_step: str
) -> None:
    m = ClaimMarket()
    _false_claims(m, "C9", severities)
    _false_claims(m, None, severities)  # the merchant's own listings
    out = judged(m)
    by_party = {p.party: p for p in out.proposals}
    assert by_party["creator"].kind == creator_step
    assert by_party["merchant"].kind == merchant_step
    assert by_party["creator"].party_id == "C9" and by_party["merchant"].party_id == "M1"
    step = out.thresholds.creator_steps[creator_step].clause
    assert by_party["creator"].clauses[:2] == ("VF-9", step)
    assert by_party["merchant"].products == tuple(f"P{k}" for k in range(len(severities)))


def test_truthful_claims_lead_to_no_measure() -> None:
    m = ClaimMarket()
    p = m.promote("次日达 48小时内发货")
    m.orders_of(p, 10, signed=PAY + timedelta(hours=20))
    m.orders_of(p, 1, signed=PAY + timedelta(days=3))  # 1 of 11: 9 %
    out = judged(m)
    assert [f.level for f in out.findings] == ["normal", "normal"]
    assert out.proposals == [] and propose(out.findings, out.thresholds) == []


OVERRIDE = """
announcement: draft-stricter-claims
title: 草稿：物流宣传不实阈值下调
source: {kind: operator default, ref: test}
clauses:
  - id: OVR-CC
    parameter: claims.broken_share.warn
    value: 0.1
    clock: period_end
    window: [2024-02-20 00:00:00, null]
    exception_to: [CC-2]
    source: 归因订单中未达到宣传时效的比例达到10%即判定宣传不实
"""


def test_an_announcement_overrides_a_claims_threshold_from_its_date(tmp_path: Path) -> None:
    (tmp_path / "draft.yaml").write_text(OVERRIDE, encoding="utf-8")
    rb = load_rulebook([tmp_path])
    edge = datetime(2024, 2, 19, 16, 0, 0, tzinfo=UTC)  # 02-20 00:00:00 Beijing
    before, after = claim_thresholds(edge - SECOND, rb), claim_thresholds(edge, rb)
    assert (before.warn.value, before.warn.clause) == (0.2, "CC-2")
    assert (after.warn.value, after.warn.clause) == (0.1, "OVR-CC")
    assert level_of(10, 1, before)[0] == "normal"
    assert level_of(10, 1, after)[:2] == ("warn", ("VF-9", "OVR-CC", "CC-1"))

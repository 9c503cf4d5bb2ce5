"""VF-9 measures over periods (claims.period_days apart, each on the orders paid in the
claims.window_days before its end): repetition raises the grade, a heavier measure replaces a
lighter one, lifting by rule after claims.lift_after_periods periods without a false claim —
each tested at both sides (CC-13, CC-14, CC-15)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from claims_market import ClaimMarket

from lvyue.indicators.creators.judge import ClaimFinding, claim_thresholds
from lvyue.indicators.creators.ladder import walk
from lvyue.indicators.creators.run import measure_claims

WEEK = timedelta(days=7)
FIRST = datetime(2024, 2, 16, tzinfo=UTC)  # a period end (Beijing 08:00)
SECOND = timedelta(seconds=1)


def _false(party_id: str, level: str = "severe", promotion: str = "PR1") -> ClaimFinding:
    return ClaimFinding(promotion, 0, party_id, "M1", "P1", "next_day", "次日达", "delivered",
                        12, 12 if level == "severe" else 3, 0, level, ("VF-9", "CC-3", "CC-1"),
                        "次日达 (delivered): 12/12")  # fmt: skip


def _clean(party_id: str) -> ClaimFinding:
    return replace(_false(party_id), broken=0, level="normal", clauses=("CC-2",))


def _periods(*falses: bool, party: str = "C1", level: str = "severe") -> list:  # type: ignore[type-arg]
    out = []
    for k, false in enumerate(falses):
        th = claim_thresholds(FIRST + k * WEEK)
        out.append((th, [_false(party, level) if false else _clean(party)]))
    return out


def test_the_period_parameters_are_ours_and_cited() -> None:
    th = claim_thresholds(FIRST)
    assert (th.period_days.value, th.period_days.clause) == (7, "CC-13")
    assert (th.window_days.value, th.window_days.clause) == (7, "CC-14")
    assert (th.lift_after_periods.value, th.lift_after_periods.clause) == (2, "CC-15")


def test_a_severe_claim_once_then_clean_lifts_after_two_periods_not_one() -> None:
    one_clean = walk(_periods(True, False))
    (in_force,) = one_clean
    assert (in_force.kind, in_force.start, in_force.end) == ("withdraw_sharing", FIRST, None)
    assert in_force.until == FIRST + 2 * WEEK  # the earliest end: two clean periods on
    (lifted,) = walk(_periods(True, False, False))
    assert (lifted.end, lifted.ended_by) == (FIRST + 2 * WEEK, "lifted by rule")
    assert lifted.until is None and lifted.clauses[:2] == ("VF-9", "CC-5")


def test_repetition_raises_the_grade_and_the_heavier_replaces_the_lighter() -> None:
    lighter, heavier = walk(_periods(True, True))
    assert (lighter.kind, lighter.end, lighter.ended_by) == (
        "withdraw_sharing", FIRST + WEEK, "replaced")  # fmt: skip
    assert (heavier.kind, heavier.level, heavier.start) == ("withhold_commission", 3, FIRST + WEEK)
    assert "false again after 1 period(s)" in heavier.reason
    # a clean period between two false ones breaks the repetition: no climb
    (again,) = walk(_periods(True, False, True))
    assert (again.kind, again.level, again.end) == ("withdraw_sharing", 2, None)
    assert again.until == FIRST + 4 * WEEK  # still false: the earliest end moved


def test_each_creator_step_at_its_level_and_one_below() -> None:
    assert [p.kind for p in walk(_periods(True, level="warn"))] == ["warning"]  # level 1
    steps = [p.kind for p in walk(_periods(True, True, True, True))]  # levels 2, 3, 4, 5
    assert steps == ["withdraw_sharing", "withhold_commission", "freeze_deposit"]
    banned = walk(_periods(True, True, True, True, True))  # level 6: CC-8
    assert banned[-1].kind == "ban_account" and banned[-1].until is None


def test_a_ban_is_never_lifted_by_rule() -> None:
    periods = _periods(True, True, True, True, True, False, False, False)
    last = walk(periods)[-1]
    assert (last.kind, last.end, last.until) == ("ban_account", None, None)


def test_a_merchants_own_listing_climbs_its_own_ladder() -> None:
    own = [(th, [replace(f, creator_id=None) for f in fs]) for th, fs in _periods(True, True)]
    kinds = [(p.party, p.party_id, p.kind) for p in walk(own)]
    assert kinds == [("merchant", "M1", "delist_product"), ("merchant", "M1", "extend_settlement")]


def test_a_claim_is_judged_in_the_period_its_deadline_falls_in() -> None:
    """CC-14 at both sides: a claim due one second before a period's window is judged in the
    period before; one due at its start, in it (ship claims: 48 h after payment)."""
    m = ClaimMarket()
    p = m.promote("48小时内发货", creator="C7")
    end = datetime(2024, 3, 1, tzinfo=UTC)
    window_start = end - WEEK
    pay = window_start - timedelta(hours=48)
    late = {"ship": window_start + timedelta(days=1)}
    m.orders_of(p, 10, pay=pay, **late)  # due at the window's start: the last period
    m.orders_of(p, 10, pay=pay - SECOND, **late)  # due a second before: the one before
    outcome = measure_claims(m.sources(), end, 2)
    vf9 = datetime(2024, 2, 7, 16, tzinfo=UTC)  # the first period: all due since VF-9
    assert [(x.end, x.due_from) for x in outcome.periods] == [
        (end - WEEK, vf9), (end, window_start)]  # fmt: skip
    counts = [[(f.orders, f.level) for f in x.findings] for x in outcome.periods]
    assert counts == [[(10, "severe")], [(10, "severe")]]
    (first, second) = outcome.proposals  # false in two consecutive periods: climbs
    assert (first.kind, second.kind) == ("withdraw_sharing", "withhold_commission")


def test_a_period_with_too_few_orders_counts_as_clean_and_lifts() -> None:
    m = ClaimMarket()
    p = m.promote("次日达", creator="C7")
    end = datetime(2024, 3, 1, tzinfo=UTC)
    pay = end - 3 * WEEK
    m.orders_of(p, 10, pay=pay, signed=pay + timedelta(days=3))  # due within a day: 1st period
    (lifted,) = measure_claims(m.sources(), end, 3).proposals
    assert (lifted.start, lifted.end, lifted.ended_by) == (end - 2 * WEEK, end, "lifted by rule")
    (in_force,) = measure_claims(m.sources(), end - WEEK, 2).proposals
    assert (in_force.end, in_force.until) == (None, end)


def test_a_claim_with_too_few_orders_carries_them_to_the_next_period() -> None:
    """CC-1 per period: 6 broken orders fall due in one week, 4 in the next — judged once,
    together, in the second (not lost, not counted twice)."""
    m = ClaimMarket()
    p = m.promote("48小时内发货", creator="C7")
    end = datetime(2024, 3, 1, tzinfo=UTC)
    late = timedelta(hours=60)
    for pay, n in ((end - WEEK - timedelta(days=3), 6), (end - timedelta(days=3), 4)):
        m.orders_of(p, n, pay=pay, ship=pay + late)
    outcome = measure_claims(m.sources(), end, 3)
    levels = [[(f.orders, f.broken, f.level) for f in x.findings] for x in outcome.periods]
    assert levels == [[(0, 0, "not_judged")], [(6, 6, "not_judged")], [(10, 10, "severe")]]
    (measure,) = outcome.proposals
    assert (measure.kind, measure.start) == ("withdraw_sharing", end)


def test_an_order_paid_after_its_claims_date_is_judged_when_paid() -> None:
    """A 2月10日前包邮到家 post still up on the 12th: its orders broke the claim when paid."""
    m = ClaimMarket()
    p = m.promote("2月10日前包邮到家", creator="C7")
    pay = datetime(2024, 2, 12, 2, tzinfo=UTC)
    m.orders_of(p, 10, pay=pay, signed=pay + timedelta(days=2))
    end = datetime(2024, 2, 16, tzinfo=UTC)  # periods end Feb 9 and Feb 16
    first, second = measure_claims(m.sources(), end, 2).periods
    assert [f.orders for f in first.findings] == [0]
    assert [(f.orders, f.level) for f in second.findings] == [(10, "severe")]

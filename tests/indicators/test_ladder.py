"""The graded ladder (VF-8): severity and repetition choose the step, at both sides of each
step; measures start, are replaced by heavier ones, and are lifted after N normal periods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lvyue.indicators.judge import Finding, Judged
from lvyue.indicators.ladder import propose
from lvyue.indicators.thresholds import STEPS, thresholds_at

START = datetime(2024, 2, 15, tzinfo=UTC)
WEEK = timedelta(days=7)
TH = thresholds_at(START)
RATES = ("defect_rate", "not_as_described_rate", "product_return_rate", "complaint_rate",
         "negative_review_rate", "experience_score")  # fmt: skip


def _period(k: int, levels: tuple[str, ...] = (), product: str | None = None) -> Judged:
    """Period ``k`` (weekly from START) whose first indicators have ``levels``."""
    findings = {}
    for i, name in enumerate(RATES):
        level = levels[i] if i < len(levels) else "normal"
        findings[name] = Finding(name, 0.1, 0.01, level, (f"IND-{6 + i}",), "test")
    end = START + k * WEEK
    return Judged(end, end - 4 * WEEK, end, "M1", "鲜花", product, 100, 40, findings)


def _run(
    merchant: list[Judged], products: list[Judged] = ()
) -> list[tuple[str, str | None, int, int | None, str]]:  # type: ignore[assignment]
    periods = {j.period_end: TH for j in merchant}
    out = propose(merchant, list(products), periods)
    return [
        (p.kind, p.product_id, (p.start - START) // WEEK,
         None if p.end is None else (p.end - START) // WEEK, p.ended_by)
        for p in out
    ]  # fmt: skip


def test_the_steps_are_the_rulebooks_and_in_severity_order() -> None:
    levels = [TH.steps[s].value for s in STEPS]
    assert levels == sorted(levels) == [1, 2, 3, 4, 5, 7]
    assert [TH.steps[s].clause for s in STEPS] == [f"MS-{i}" for i in range(1, 7)]


def test_nothing_abnormal_is_no_measure() -> None:
    assert _run([_period(0), _period(1)]) == []


def test_one_warning_indicator_is_a_warning_citing_vf8_the_step_and_the_indicator() -> None:
    out = propose([_period(0, ("warn",))], [], {START: TH})
    assert [(p.kind, p.level) for p in out] == [("warning", 1)]
    assert out[0].cited == "VF-8;MS-1;IND-6"
    assert out[0].until == START + TH.lift_after_periods.value * WEEK
    assert out[0].end is None and "defect_rate 0.1" in out[0].reason


def test_two_points_delist_the_abnormal_products_and_without_one_stay_a_warning() -> None:
    bad = _period(0, ("severe",), product="P9")
    assert _run([_period(0, ("severe",))], [bad]) == [("delist_product", "P9", 0, None, "")]
    assert _run([_period(0, ("severe",))]) == [("warning", None, 0, None, "")]


@pytest.mark.parametrize(
    ("levels", "kind"),
    [
        (("severe", "warn"), "limit_orders"),  # 3
        (("severe", "severe"), "extend_settlement"),  # 4
        (("severe", "severe", "warn"), "suspend_store"),  # 5
        (("severe", "severe", "severe"), "suspend_store"),  # 6: below removal (7)
        (("severe", "severe", "severe", "warn"), "remove_store"),  # 7
    ],
)
def test_severity_points_choose_the_step(levels: tuple[str, ...], kind: str) -> None:
    assert _run([_period(0, levels)])[0][0] == kind


def test_repetition_escalates_and_the_lighter_measure_ends_when_replaced() -> None:
    weeks = [_period(0, ("warn",)), _period(1, ("warn",)), _period(2, ("warn",))]
    # levels 1, 2 (no abnormal product: still a warning), 3 → order limits
    assert _run(weeks) == [
        ("warning", None, 0, 2, "replaced"),
        ("limit_orders", None, 2, None, ""),
    ]


def test_lifted_by_rule_after_n_normal_periods_not_before() -> None:
    n = int(TH.lift_after_periods.value)
    assert n == 2
    one_clean = [_period(0, ("warn",)), _period(1)]
    assert _run(one_clean) == [("warning", None, 0, None, "")]
    two_clean = [_period(0, ("warn",)), _period(1), _period(2)]
    assert _run(two_clean) == [("warning", None, 0, 2, "lifted by rule")]


def test_a_removal_is_never_lifted_by_rule() -> None:
    weeks = [_period(0, ("severe", "severe", "severe", "warn")), _period(1), _period(2)]
    assert _run(weeks) == [("remove_store", None, 0, None, "")]
    out = propose(weeks, [], {j.period_end: TH for j in weeks})
    assert out[0].until is None

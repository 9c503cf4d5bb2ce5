"""Thresholds from the rulebook (operator defaults), at both sides of every level and of the
peer comparison; an operator's announcement overrides them from its date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import AS_OF, PAY, Market

from lvyue.indicators import evaluate, span
from lvyue.indicators.judge import finding, median_without, poisson_tail
from lvyue.indicators.thresholds import INDICATORS, thresholds_at
from lvyue.rulebook import SourceKind, load_rulebook

TH = thresholds_at(AS_OF)
RATES = [i for i in INDICATORS if i != "experience_score"]


def test_every_threshold_is_operator_default_data_with_its_clause() -> None:
    rb = load_rulebook()
    for (indicator, level), cited in TH.levels.items():
        clause = rb.clause(cited.clause)
        assert clause.parameter == f"indicators.{indicator}.{level}"
        assert rb.announcement(clause.announcement).source_kind is SourceKind.OPERATOR_DEFAULT
        assert "运营默认值" in clause.source and "seed 004" in clause.note


@pytest.mark.parametrize("indicator", RATES)
def test_a_rate_at_each_level_and_just_below_it(indicator: str) -> None:
    warn = TH.levels[(indicator, "warn")].value
    severe = TH.levels[(indicator, "severe")].value

    def level(value: float) -> str:
        return finding(indicator, value, 10_000, None, TH, judged=True).level

    assert level(warn - 1e-9) == "normal"
    assert level(warn) == "warn"
    assert level(severe - 1e-9) == "warn"
    assert level(severe) == "severe"


def test_the_experience_score_is_worse_when_lower() -> None:
    warn = TH.levels[("experience_score", "warn")].value
    severe = TH.levels[("experience_score", "severe")].value

    def level(value: float, median: float | None = None) -> str:
        return finding("experience_score", value, 100, median, TH, judged=True).level

    assert (level(warn + 0.01), level(warn), level(severe + 0.01), level(severe)) == (
        "normal", "warn", "warn", "severe",
    )  # fmt: skip
    assert level(severe, median=severe) == "normal"  # not below its peers
    assert level(severe, median=severe + 0.01) == "severe"


def test_a_rate_beyond_its_level_must_also_be_beyond_its_peers_by_more_than_chance() -> None:
    # peers' median 1 %, multiple 1.5: 1.5 events expected in 100 orders
    assert TH.setting("peer_multiple") == 1.5 and TH.setting("peer_alpha") == 0.05
    assert poisson_tail(4, 1.5) > 0.05 >= poisson_tail(5, 1.5)
    four = finding("defect_rate", 0.04, 100, 0.01, TH, judged=True)
    five = finding("defect_rate", 0.05, 100, 0.01, TH, judged=True)
    assert four.level == "normal" and "industry median 0.01" in four.why
    assert five.level == "warn"
    assert five.clauses == ("IND-6", "IND-5", "IND-5a")


def test_poisson_tail_on_both_sides_of_the_normal_approximation() -> None:
    exact, approx = poisson_tail(60, 49.999), poisson_tail(60, 50.0)
    assert abs(exact - approx) < 0.01
    assert poisson_tail(0, 3.0) == 1.0 and poisson_tail(1, 0.0) == 0.0


def test_peers_are_the_others() -> None:
    assert median_without([0.01, 0.02, 0.5], 0.5) == pytest.approx(0.015)
    assert median_without([0.5], 0.5) is None  # alone: no peers
    assert median_without([0.01, 0.02], None) == pytest.approx(0.015)  # not judged itself


def test_peers_are_the_same_industrys_merchants() -> None:
    """Two flower shops at 6 % defects are each other's only peers: neither is beyond the
    other by more than chance (IND-5, IND-5a). Three clothing shops without defects are not
    their peers — counted, the median would be 0 and both severe."""
    m = Market()
    for merchant, industry, defects in (("F1", "鲜花", 6), ("F2", "鲜花", 6), ("C1", "服饰", 0),
                                        ("C2", "服饰", 0), ("C3", "服饰", 0)):  # fmt: skip
        for oid in m.add_orders(merchant, 100, industry=industry)[:defects]:
            m.after_sale(oid, "defect")
    plan = span(PAY - timedelta(days=1), PAY + timedelta(days=1), AS_OF)
    judged = {j.merchant_id: j.findings["defect_rate"] for j in evaluate(m.sources(), plan)}
    assert [(judged[f].peer_median, judged[f].level) for f in ("F1", "F2")] == [
        (pytest.approx(0.06), "normal")] * 2  # fmt: skip
    assert judged["C1"].peer_median == 0 and judged["C1"].level == "normal"


OVERRIDE = """
announcement: draft-stricter-defects
title: 草稿：残次率阈值下调
source: {kind: operator default, ref: test}
clauses:
  - id: OVR-1
    parameter: indicators.defect_rate.warn
    value: 0.01
    clock: period_end
    window: [2024-02-20 00:00:00, null]
    exception_to: [IND-6]
    source: 残次率达到1%即判定异常
"""


def test_an_announcement_overrides_a_threshold_from_its_date(tmp_path: Path) -> None:
    (tmp_path / "draft.yaml").write_text(OVERRIDE, encoding="utf-8")
    rb = load_rulebook([tmp_path])
    before = thresholds_at(datetime(2024, 2, 19, 15, 59, 59, tzinfo=UTC), rb)
    after = thresholds_at(datetime(2024, 2, 19, 16, 0, 0, tzinfo=UTC), rb)
    assert (
        before.levels[("defect_rate", "warn")].value,
        before.levels[("defect_rate", "warn")].clause,
    ) == (0.03, "IND-6")
    assert (
        after.levels[("defect_rate", "warn")].value,
        after.levels[("defect_rate", "warn")].clause,
    ) == (0.01, "OVR-1")
    assert finding("defect_rate", 0.02, 10_000, None, before, judged=True).level == "normal"
    assert finding("defect_rate", 0.02, 10_000, None, after, judged=True).level == "warn"

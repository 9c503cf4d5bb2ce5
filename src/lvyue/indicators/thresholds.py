"""VF-8 thresholds, ladder steps and periods, read from the rulebook at a period's end.

Every number is operator-default data (rulebook/announcements/merchant-indicators.yaml); none is
written here. Each value keeps the clause that gave it, so a finding cites it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lvyue.indicators.errors import IndicatorError
from lvyue.model.enums import MerchantType, ShipMode
from lvyue.rulebook import Clock, OrderContext, Rulebook, load_rulebook

INDICATORS = (
    "defect_rate",
    "not_as_described_rate",
    "product_return_rate",
    "complaint_rate",
    "negative_review_rate",
    "experience_score",
)
LOWER_IS_WORSE = frozenset({"experience_score"})
SETTINGS = (
    "min_orders",
    "min_reviews",
    "window_days",
    "period_days",
    "peer_multiple",
    "peer_alpha",
)
STEPS = (
    "warning",
    "delist_product",
    "limit_orders",
    "extend_settlement",
    "suspend_store",
    "remove_store",
)


@dataclass(frozen=True)
class Cited:
    value: float
    clause: str


@dataclass(frozen=True)
class Thresholds:
    at: datetime
    settings: dict[str, Cited]  # SETTINGS
    levels: dict[tuple[str, str], Cited]  # (indicator, "warn" | "severe")
    steps: dict[str, Cited]  # STEPS: lowest escalation level of each measure
    lift_after_periods: Cited
    extended_settlement_days: Cited

    def setting(self, name: str) -> float:
        return self.settings[name].value


def cited(rulebook: Rulebook, parameter: str, at: datetime) -> Cited:
    """A number parameter in force at ``at`` (read on the period_end clock), with its clause."""
    context = OrderContext(
        merchant_type=MerchantType.DOMESTIC,
        category="",
        ship_mode=ShipMode.SPOT,
        clocks={Clock.PERIOD_END: at},
    )
    answer = rulebook.resolve(parameter, context)
    if answer is None or not isinstance(answer.value, int | float):
        raise IndicatorError(f"rulebook: no number for {parameter} at {at.isoformat()}")
    return Cited(float(answer.value), answer.cited)


def thresholds_at(at: datetime, rulebook: Rulebook | None = None) -> Thresholds:
    """Every VF-8 parameter in force at ``at`` (aware), with its clause."""
    rb = rulebook if rulebook is not None else load_rulebook()
    return Thresholds(
        at=at,
        settings={s: cited(rb, f"indicators.{s}", at) for s in SETTINGS},
        levels={
            (i, lvl): cited(rb, f"indicators.{i}.{lvl}", at)
            for i in INDICATORS
            for lvl in ("warn", "severe")
        },
        steps={s: cited(rb, f"measures.step.{s}", at) for s in STEPS},
        lift_after_periods=cited(rb, "measures.lift_after_periods", at),
        extended_settlement_days=cited(rb, "measures.extended_settlement_days", at),
    )

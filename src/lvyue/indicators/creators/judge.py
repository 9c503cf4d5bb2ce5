"""Each claim of a promotion judged against its orders (VF-9): false when the share of its
judged orders that did not get what it promised reaches the rulebook's threshold (operator
default data, announcements/creator-claims.yaml), with enough judged orders to tell."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lvyue.indicators.judge import NORMAL, NOT_JUDGED, POINTS, SEVERE, WARN
from lvyue.indicators.thresholds import Cited, cited
from lvyue.rulebook import Rulebook, load_rulebook

CLAUSE = "VF-9"
CREATOR_STEPS = (
    "warning",
    "withdraw_sharing",
    "withhold_commission",
    "freeze_deposit",
    "ban_account",
)
MERCHANT_STEPS = ("warning", "delist_product", "extend_settlement", "limit_orders")


@dataclass(frozen=True)
class ClaimThresholds:
    at: datetime
    min_orders: Cited
    warn: Cited
    severe: Cited
    creator_steps: dict[str, Cited]
    merchant_steps: dict[str, Cited]
    period_days: Cited
    window_days: Cited
    lift_after_periods: Cited


def claim_thresholds(at: datetime, rulebook: Rulebook | None = None) -> ClaimThresholds:
    """Every VF-9 parameter in force at ``at`` (aware), with its clause."""
    rb = rulebook if rulebook is not None else load_rulebook()
    return ClaimThresholds(
        at,
        cited(rb, "claims.min_orders", at),
        cited(rb, "claims.broken_share.warn", at),
        cited(rb, "claims.broken_share.severe", at),
        {s: cited(rb, f"claims.creator_step.{s}", at) for s in CREATOR_STEPS},
        {s: cited(rb, f"claims.merchant_step.{s}", at) for s in MERCHANT_STEPS},
        cited(rb, "claims.period_days", at),
        cited(rb, "claims.window_days", at),
        cited(rb, "claims.lift_after_periods", at),
    )


@dataclass(frozen=True)
class ClaimFinding:
    """One claim of one promotion: what it said and what its orders got."""

    promotion_id: str
    claim_no: int
    creator_id: str | None  # None: the merchant's own listing
    merchant_id: str
    product_id: str
    kind: str
    phrase: str
    event: str
    orders: int  # judged (kept or broken)
    broken: int
    pending: int
    level: str  # normal | warn | severe | not_judged
    clauses: tuple[str, ...]
    why: str

    @property
    def party(self) -> str:
        return "creator" if self.creator_id else "merchant"

    @property
    def party_id(self) -> str:
        return self.creator_id or self.merchant_id

    @property
    def share(self) -> float | None:
        return self.broken / self.orders if self.orders else None

    @property
    def false(self) -> bool:
        return self.level in POINTS


def level_of(orders: int, broken: int, th: ClaimThresholds) -> tuple[str, tuple[str, ...], str]:
    """The level of a claim with ``broken`` of ``orders`` judged orders broken, the clauses that
    decided it and why."""
    if orders < th.min_orders.value:
        why = f"{orders} judged orders, fewer than {th.min_orders.value:g}"
        return NOT_JUDGED, (th.min_orders.clause,), why
    share = broken / orders
    for level, bound in ((SEVERE, th.severe), (WARN, th.warn)):
        if share >= bound.value:
            why = f"{broken}/{orders} orders ({share:.1%}) did not get it: ≥ {bound.value:g}"
            return level, (CLAUSE, bound.clause, th.min_orders.clause), why
    why = f"{broken}/{orders} orders ({share:.1%}) did not get it: < {th.warn.value:g}"
    return NORMAL, (th.warn.clause,), why


def finding(row: dict[str, Any], th: ClaimThresholds) -> ClaimFinding:
    """``row``: a claim (lvyue.indicators.creators.source.CLAIMS_SCHEMA) with its outcome
    counts (orders, broken, pending; zero when no order came from the promotion)."""
    orders, broken = int(row.get("orders") or 0), int(row.get("broken") or 0)
    level, clauses, why = level_of(orders, broken, th)
    return ClaimFinding(
        row["promotion_id"], int(row["claim_no"]), row.get("creator_id") or None,
        row["merchant_id"], row["product_id"], row["kind"], row["phrase"], row["event"],
        orders, broken, int(row.get("pending") or 0), level, clauses,
        f"{row['phrase']} ({row['event']}): {why}",
    )  # fmt: skip

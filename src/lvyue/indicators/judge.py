"""Each indicator of a merchant (or product) in a period against the rulebook's thresholds and
its industry peers (VF-8 "指标异常"): normal, warn, severe, or not judged (too few orders)."""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lvyue.indicators.thresholds import INDICATORS, LOWER_IS_WORSE, Thresholds

NORMAL, WARN, SEVERE, NOT_JUDGED = "normal", "warn", "severe", "not_judged"
POINTS = {WARN: 1, SEVERE: 2}


@dataclass(frozen=True)
class Finding:
    indicator: str
    value: float | None
    peer_median: float | None
    level: str
    clauses: tuple[str, ...]  # the threshold (and peer) clauses that decided it
    why: str


@dataclass(frozen=True)
class Judged:
    """One merchant (``product_id`` None) or product in one period."""

    period_end: datetime
    pay_start: datetime
    pay_end: datetime
    merchant_id: str
    industry: str | None
    product_id: str | None
    orders: int
    reviews: int
    findings: dict[str, Finding] = field(default_factory=dict)

    @property
    def points(self) -> int:
        """Severity points: 1 per warning indicator, 2 per severe one."""
        return sum(POINTS.get(f.level, 0) for f in self.findings.values())

    @property
    def abnormal(self) -> list[Finding]:
        return [f for f in self.findings.values() if f.level in POINTS]

    @property
    def judged(self) -> bool:
        return any(f.level != NOT_JUDGED for f in self.findings.values())


def _worse(indicator: str, value: float, bound: float) -> bool:
    return value <= bound if indicator in LOWER_IS_WORSE else value >= bound


def poisson_tail(k: int, mean: float) -> float:
    """P(X >= k) for X ~ Poisson(mean): how likely ``k`` events are by chance when ``mean`` are
    expected (normal approximation with continuity correction from a mean of 50)."""
    if k <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    if mean >= 50:
        return 0.5 * math.erfc((k - 0.5 - mean) / math.sqrt(2 * mean))
    below = math.fsum(math.exp(-mean + i * math.log(mean) - math.lgamma(i + 1)) for i in range(k))
    return max(0.0, 1.0 - below)


def _beyond_peers(
    indicator: str, value: float, n: int, median: float | None, th: Thresholds
) -> bool:
    """Rates: so many events that a merchant at ``peer_multiple`` × the peers' median would
    reach them by chance at most ``peer_alpha`` of the time (a few events among few orders are
    no evidence); the score: below the peers' median."""
    if median is None:
        return True
    if indicator in LOWER_IS_WORSE:
        return value < median
    events = round(value * n)
    expected = th.setting("peer_multiple") * median * n
    return poisson_tail(events, expected) <= th.setting("peer_alpha")


def finding(
    indicator: str,
    value: float | None,
    n: int,
    median: float | None,
    th: Thresholds,
    judged: bool,
) -> Finding:
    """``n``: the orders (reviews for the negative-review rate) the rate is a share of."""
    if value is None or not judged:
        why = "too few orders or reviews in the period" if value is not None else "no data"
        clause = th.settings["min_orders"].clause
        return Finding(indicator, value, median, NOT_JUDGED, (clause,), why)
    multiple = th.settings["peer_multiple"]
    beyond = _beyond_peers(indicator, value, n, median, th)
    peers_text = "no peers" if median is None else f"industry median {median:.4g}"
    for level in (SEVERE, WARN):
        bound = th.levels[(indicator, "severe" if level == SEVERE else "warn")]
        if _worse(indicator, value, bound.value) and beyond:
            why = f"{indicator} {value:.4g} beyond {bound.value:g} ({bound.clause}); {peers_text}"
            cited = (bound.clause, multiple.clause, th.settings["peer_alpha"].clause)
            return Finding(indicator, value, median, level, cited, why)
    warn = th.levels[(indicator, "warn")]
    why = (
        f"{indicator} {value:.4g} within {warn.value:g} ({warn.clause}) or the peers ({peers_text})"
    )
    return Finding(indicator, value, median, NORMAL, (warn.clause,), why)


def _enough(indicator: str, row: dict[str, Any], th: Thresholds) -> bool:
    if row["orders"] < th.setting("min_orders"):
        return False
    if indicator == "negative_review_rate":
        return bool(row["reviews"] >= th.setting("min_reviews"))
    return True


def samples(
    rows: Iterable[dict[str, Any]], th_of: Callable[[int], Thresholds]
) -> dict[Any, list[float]]:
    """Per (period_end, industry, indicator): the sorted values of the judged rows."""
    found: dict[Any, list[float]] = defaultdict(list)
    for r in rows:
        th = th_of(r["period_end"])
        for ind in INDICATORS:
            if r.get(ind) is not None and _enough(ind, r, th):
                found[(r["period_end"], r["industry"], ind)].append(float(r[ind]))
    return {k: sorted(v) for k, v in found.items()}


def median_without(ordered: list[float], own: float | None) -> float | None:
    """The median of ``ordered`` (sorted) with one occurrence of ``own`` left out (the peers
    of a merchant are the others); None when nobody else is left."""
    at = bisect.bisect_left(ordered, own) if own is not None else -1
    if at >= len(ordered) or (at >= 0 and ordered[at] != own):
        at = -1  # not among the judged (too few orders): every judged row is a peer
    n = len(ordered) - (1 if at >= 0 else 0)
    if n <= 0:
        return None

    def nth(i: int) -> float:
        return ordered[i + 1] if at >= 0 and i >= at else ordered[i]

    return (nth((n - 1) // 2) + nth(n // 2)) / 2


def judge_rows(
    rows: list[dict[str, Any]],
    th_of: Callable[[int], Thresholds],
    to_time: Callable[[int], datetime],
) -> list[Judged]:
    """Rows (one per period × merchant or product, every indicator a column) → Judged."""
    peer = samples(rows, th_of)
    out: list[Judged] = []
    for r in rows:
        th = th_of(r["period_end"])
        findings = {
            ind: finding(
                ind,
                None if r.get(ind) is None else float(r[ind]),
                int(r["reviews"] if ind == "negative_review_rate" else r["orders"]),
                median_without(
                    peer.get((r["period_end"], r["industry"], ind), []),
                    float(r[ind]) if r.get(ind) is not None and _enough(ind, r, th) else None,
                ),
                th,
                _enough(ind, r, th),
            )
            for ind in INDICATORS
        }
        out.append(
            Judged(
                to_time(r["period_end"]),
                to_time(r["pay_start"]),
                to_time(r["pay_end"]),
                r["merchant_id"],
                r["industry"],
                r.get("product_id"),
                int(r["orders"]),
                int(r["reviews"]),
                findings,
            )
        )
    return out

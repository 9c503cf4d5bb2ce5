"""Graded measures (VF-8) from judged periods: a ladder chosen by severity and repetition,
each measure citing VF-8, its step's clause and the findings that triggered it, with a start
and an end; lifted by rule after ``lift_after_periods`` normal periods (never a removal).

Escalation level of a period = severity points (1 per warning indicator, 2 per severe one)
+ the abnormal periods just before it. The measure proposed is the highest step whose
``measures.step.*`` level is reached; a heavier one replaces a lighter one (which ends then).
Delisting targets the products abnormal in that period; with none, the next lower step.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from lvyue.indicators.judge import Judged
from lvyue.indicators.thresholds import STEPS, Thresholds

CLAUSE = "VF-8"
NEVER_LIFTED = frozenset({"remove_store"})  # 店铺清退: only an operator reverses it


@dataclass(frozen=True)
class Proposal:
    merchant_id: str
    product_id: str | None
    kind: str  # a step of STEPS (lvyue.workflows.measures.MeasureKind values)
    level: int
    start: datetime  # the period end that triggered it
    end: datetime | None  # lifted by rule or replaced by a heavier measure; None: in force
    until: datetime | None  # in force: the earliest end if every later period is normal
    ended_by: str  # "" | "lifted by rule" | "replaced"
    clauses: tuple[str, ...]
    reason: str

    @property
    def cited(self) -> str:
        return ";".join(self.clauses)


@dataclass
class _State:
    current: Proposal | None = None
    products: list[Proposal] | None = None
    clean: int = 0
    streak: int = 0


def _rank(kind: str) -> int:
    return STEPS.index(kind)


def _choose(level: int, th: Thresholds, has_products: bool) -> str | None:
    reached = [s for s in STEPS if level >= th.steps[s].value]
    if not reached:
        return None
    kind = max(reached, key=_rank)
    if kind == "delist_product" and not has_products:
        lower = [s for s in reached if _rank(s) < _rank("delist_product")]
        return max(lower, key=_rank) if lower else None
    return kind


def _reason(j: Judged) -> str:
    parts = [f"{f.indicator} {f.value:.4g} ({f.level}, peers {f.peer_median})" for f in j.abnormal]
    return f"VF-8 indicators abnormal in {j.orders} orders: " + "; ".join(parts)


def _clauses(j: Judged, step_clause: str) -> tuple[str, ...]:
    found = dict.fromkeys([CLAUSE, step_clause, *(c for f in j.abnormal for c in f.clauses)])
    return tuple(found)


def propose(
    merchants: Sequence[Judged],
    products: Iterable[Judged],
    thresholds: dict[datetime, Thresholds],
) -> list[Proposal]:
    """Measures from merchant-level periods (and product-level ones, for delisting);
    ``thresholds`` by period end."""
    by_merchant: dict[str, list[Judged]] = defaultdict(list)
    for j in merchants:
        by_merchant[j.merchant_id].append(j)
    abnormal_products: dict[tuple[str, datetime], list[Judged]] = defaultdict(list)
    for p in products:
        if p.abnormal:
            abnormal_products[(p.merchant_id, p.period_end)].append(p)
    out: list[Proposal] = []
    for periods in by_merchant.values():
        ordered = sorted(periods, key=lambda j: j.period_end)
        out.extend(_walk(ordered, abnormal_products, thresholds))
    return sorted(out, key=lambda p: (p.merchant_id, p.start, _rank(p.kind), p.product_id or ""))


def _walk(
    periods: list[Judged],
    abnormal_products: dict[tuple[str, datetime], list[Judged]],
    thresholds: dict[datetime, Thresholds],
) -> list[Proposal]:
    state, done = _State(), []
    for j in periods:
        th = thresholds[j.period_end]
        if not j.abnormal:
            state.streak = 0
            state.clean += 1
            done.extend(_lift(state, j.period_end, th))
            continue
        state.clean, level = 0, j.points + state.streak
        state.streak += 1
        bad = abnormal_products.get((j.merchant_id, j.period_end), [])
        kind = _choose(level, th, bool(bad))
        if kind is None:
            continue
        done.extend(_escalate(state, j, kind, level, bad, th))
        _extend(state, j.period_end, th)
    for open_one in [state.current, *(state.products or [])]:
        if open_one is not None:
            done.append(open_one)
    return [p for p in done if _emitted(p)]


def _emitted(p: Proposal) -> bool:
    """Delisting is recorded per product; the merchant's row only marks its ladder position."""
    return p.kind != "delist_product" or p.product_id is not None


def _until(at: datetime, th: Thresholds, kind: str) -> datetime | None:
    if kind in NEVER_LIFTED:
        return None
    days = th.setting("period_days") * th.lift_after_periods.value
    return at + timedelta(days=days)


def _escalate(
    state: _State, j: Judged, kind: str, level: int, bad: list[Judged], th: Thresholds
) -> list[Proposal]:
    """Open ``kind`` unless an equal or heavier measure is in force; the lighter one ends."""
    current = state.current
    if current is not None and _rank(current.kind) >= _rank(kind):
        return []
    ended = []
    if current is not None:
        ended.append(replace(current, end=j.period_end, until=None, ended_by="replaced"))
    step = th.steps[kind].clause
    until = _until(j.period_end, th, kind)
    base = Proposal(j.merchant_id, None, kind, level, j.period_end, None, until, "",
                    _clauses(j, step), _reason(j))  # fmt: skip
    if kind == "delist_product":
        state.products = [
            replace(base, product_id=p.product_id, clauses=_clauses(p, step), reason=_reason(p))
            for p in bad
        ]
        state.current = base  # the ladder position (not emitted: _emitted)
    else:
        state.current = base
    return ended


def _extend(state: _State, at: datetime, th: Thresholds) -> None:
    """Still abnormal: the earliest end moves with the latest abnormal period."""
    if state.current is not None and state.current.until is not None:
        state.current = replace(state.current, until=_until(at, th, state.current.kind))
    state.products = [
        replace(p, until=_until(at, th, p.kind)) for p in (state.products or [])
    ] or None


def _lift(state: _State, at: datetime, th: Thresholds) -> list[Proposal]:
    current = state.current
    if current is None or current.kind in NEVER_LIFTED:
        return []
    if state.clean < th.lift_after_periods.value:
        return []
    lifted = [
        replace(p, end=at, until=None, ended_by="lifted by rule")
        for p in [current, *(state.products or [])]
    ]
    state.current, state.products = None, None
    return lifted

"""``explain``: one order's timeline, every deadline with its clause, and why other clauses
did or did not apply (the rulebook's trace)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from lvyue.engine.checks import MODE_RULE, REQUEST_MOMENTS, SPECS
from lvyue.engine.online import Resolves, contexts, evaluate_order
from lvyue.engine.order import OrderFacts
from lvyue.engine.verdict import Verdict
from lvyue.model.enums import Check
from lvyue.rulebook.context import OrderContext
from lvyue.rulebook.resolver import ClauseTrace

# The parameters each check resolves: the specification's (its trace shows every clause).
CHECK_PARAMETERS: dict[Check, tuple[str, ...]] = {s.check: s.parameters for s in SPECS}


class Traces(Resolves, Protocol):
    def trace(self, parameter: str, ctx: OrderContext) -> list[ClauseTrace]: ...


@dataclass(frozen=True)
class Step:
    """One line of the verdict table: a check, its deadline and the clauses behind it."""

    verdict: Verdict
    traces: dict[str, list[ClauseTrace]]  # parameter -> every clause and why it (not) applied


@dataclass(frozen=True)
class Explanation:
    order: OrderFacts
    as_of: datetime
    timeline: list[tuple[datetime, str]]  # what happened, in order (as of as_of)
    steps: list[Step]
    notes: list[str]  # data-quality remarks: facts the rules ignore


DELAYED_FLAG_IGNORED = (
    "data quality: delayed_shipping is set but no announcement window opens the tool for this "
    "order; the flag has no effect and the original deadline stands (SF-4: 未使用【延迟发货】"
    "工具设置的,按订单原有发货时效考核)"
)


def explain_order(facts: OrderFacts, as_of: datetime, rulebook: Traces) -> Explanation:
    ctxs = contexts(facts, as_of)
    steps = []
    for verdict in evaluate_order(facts, as_of, rulebook):
        ctx = ctxs[verdict.aftersale_id]
        traces = {p: rulebook.trace(p, ctx) for p in CHECK_PARAMETERS[verdict.check]}
        steps.append(Step(verdict, traces))
    return Explanation(facts, as_of, timeline(facts, as_of), steps, notes(facts, ctxs, rulebook))


def notes(facts: OrderFacts, ctxs: dict[str, OrderContext], rulebook: Resolves) -> list[str]:
    """Facts present on the order that no rule in force reads (shown, never judged)."""
    ctx = ctxs.get("")
    if ctx is None or not facts.order.delayed_shipping:
        return []
    if rulebook.resolve(MODE_RULE.tool, ctx) is None:
        return [DELAYED_FLAG_IGNORED]
    return []


def timeline(facts: OrderFacts, as_of: datetime) -> list[tuple[datetime, str]]:
    events: list[tuple[datetime, str]] = [(facts.order.pay_time, "paid 支付")]
    if facts.order.promised_ship_time is not None:
        events.append((facts.order.promised_ship_time, "promised ship time 承诺发货"))
    if facts.order.ship_time is not None:
        events.append((facts.order.ship_time, "shipped 发货"))
    events += [(e.time, f"tracking: {e.kind}") for e in facts.tracking]
    if facts.order.confirmed_receipt_time is not None:
        events.append((facts.order.confirmed_receipt_time, "receipt confirmed 确认收货"))
    for a in facts.after_sales:
        for name in REQUEST_MOMENTS:
            moment = getattr(a, name)
            if moment is not None:
                events.append((moment, f"after-sales {a.aftersale_id} ({a.type}): {name}"))
        if a.intervention is not None and a.intervened_at is not None:  # VF-8a
            what = f"platform intervention 平台介入 {a.aftersale_id}: {a.intervention}"
            events.append((a.intervened_at, what))
    return sorted((e for e in events if e[0] <= as_of), key=lambda e: e[0])

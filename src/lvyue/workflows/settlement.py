"""Settlement (结算): each order's settlement date from the rulebook (DR-5, VF-6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lvyue.engine.checks import CHECKS
from lvyue.model.enums import Check
from lvyue.rulebook.context import Clock, OrderContext
from lvyue.workflows.rules import Rules, cited

PARAMETER = CHECKS[Check.SETTLEMENT].deadline_parameter  # the settlement check's


@dataclass(frozen=True)
class Settlement:
    order_id: str
    settles_at: datetime | None  # None until receipt is confirmed
    clause: str | None


def settlement(rules: Rules, order_id: str, ctx: OrderContext) -> Settlement:
    """When the order settles: ``settlement.delay`` after confirmed receipt (VF-6 for flowers)."""
    if Clock.RECEIPT_TIME not in ctx.clocks:
        return Settlement(order_id, None, None)
    when, answer = rules.deadline(PARAMETER, ctx)
    found = cited(answer)
    return Settlement(order_id, when, found.clause_id if found else None)

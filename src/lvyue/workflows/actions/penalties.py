"""Penalties of recorded late shipments, computed by the engine (DR-6 points, deposit
deductions and product bans with their daily, weekly and per-order caps)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lvyue.engine.online import Resolves
from lvyue.engine.penalties import Late, penalties
from lvyue.model.enums import Check
from lvyue.store.tables import Order
from lvyue.store.workflow_tables import Violation
from lvyue.workflows.actions.facts import facts_for


def of_merchant(
    session: Session, rules: Resolves, merchant_id: str | None, now: datetime
) -> list[dict[str, Any]]:
    """One row per late order (the engine's PENALTY_SCHEMA), from ship-deadline violations."""
    query = select(Violation).where(Violation.check == Check.SHIP_DEADLINE.value)
    if merchant_id is not None:
        query = query.where(Violation.merchant_id == merchant_id)
    found = [
        (v, order)
        for v in session.scalars(query.order_by(Violation.violation_id))
        if v.deadline is not None and (order := session.get(Order, v.order_id)) is not None
    ]
    facts = facts_for(session, [order for _, order in found])
    lates = [
        Late(of, order.product_id, v.deadline, of.ship_time)
        for (v, order), of in zip(found, facts, strict=True)
        if v.deadline is not None
    ]
    rows: list[dict[str, Any]] = penalties(lates, now, rules).to_pylist()
    return rows

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
from lvyue.store.workflow_tables import Measure, Violation
from lvyue.workflows.actions import measures
from lvyue.workflows.actions.stored_facts import facts_for
from lvyue.workflows.measures import MeasureKind


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
        Late(of, order.product_id, v.deadline, of.order.ship_time)
        for (v, order), of in zip(found, facts, strict=True)
        if v.deadline is not None
    ]
    rows: list[dict[str, Any]] = penalties(lates, now, rules).to_pylist()
    return rows


BAN_ACTOR = "system:penalty-bans"


def impose_bans(session: Session, rules: Resolves, now: datetime) -> int:
    """Ban each product the DR-6 computation bans, once (an active ``ban_product`` measure)."""
    imposed = 0
    for row in of_merchant(session, rules, None, now):
        if not row["product_banned"] or not row["product_id"]:
            continue
        exists = session.scalar(
            select(Measure.measure_id).where(
                Measure.merchant_id == row["merchant_id"],
                Measure.product_id == row["product_id"],
                Measure.kind == MeasureKind.BAN_PRODUCT.value,
                Measure.state == "active",
            )
        )
        if exists is not None:
            continue
        measures.impose(
            session,
            merchant_id=row["merchant_id"],
            product_id=row["product_id"],
            kind=MeasureKind.BAN_PRODUCT,
            reason=f"late shipment of order {row['order_id']} beyond the DR-6 ban threshold",
            clause=(row["clauses"] or "DR-6")[:64],  # the DR-6 clauses that decided it
            until=None,
            actor=BAN_ACTOR,
            now=now,
        )
        imposed += 1
    return imposed


def lift_unsupported_bans(
    session: Session, rules: Resolves, merchant_id: str, now: datetime, *, actor: str
) -> int:
    """Lift the merchant's product bans of the DR-6 sweep (``BAN_ACTOR``) that the DR-6
    computation no longer supports (a late shipment's violation was withdrawn)."""
    banned = {
        row["product_id"]
        for row in of_merchant(session, rules, merchant_id, now)
        if row["product_banned"] and row["product_id"]
    }
    active = select(Measure).where(
        Measure.merchant_id == merchant_id,
        Measure.kind == MeasureKind.BAN_PRODUCT.value,
        Measure.state == "active",
        Measure.created_by == BAN_ACTOR,
    )
    lifted = 0
    for measure in session.scalars(active).all():
        if measure.product_id not in banned:
            measures.lift(session, measure, actor=actor, now=now)
            lifted += 1
    return lifted

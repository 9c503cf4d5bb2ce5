"""Operator measures (VF-7): impose, lift, list."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lvyue.engine.clocks import VF6_DAYS
from lvyue.store.audit import audit
from lvyue.store.marks import mark_written
from lvyue.store.tables import Merchant, Order
from lvyue.store.workflow_tables import Measure
from lvyue.workflows import measures
from lvyue.workflows.actions.common import NotFound, fire, merchant_rows


def impose(
    session: Session,
    *,
    merchant_id: str,
    product_id: str | None,
    kind: measures.MeasureKind,
    reason: str,
    clause: str,
    until: datetime | None,
    actor: str,
    now: datetime,
) -> Measure:
    if session.get(Merchant, merchant_id) is None:
        raise NotFound(f"merchant {merchant_id} not found")
    measures.check_target(kind, product_id)
    row = Measure(
        merchant_id=merchant_id,
        product_id=product_id,
        kind=kind.value,
        reason=reason,
        clause=clause,
        state=measures.MACHINE.initial,
        version=1,
        until=until,
        created_by=actor,
        created_at=now,
    )
    session.add(row)
    session.flush()
    if kind is measures.MeasureKind.EXTEND_SETTLEMENT and product_id is None:
        _mark_reached(session, merchant_id, now)
    audit(
        session,
        actor=actor,
        action="measure.impose",
        entity=measures.WORKFLOW,
        entity_id=str(row.measure_id),
        merchant_id=merchant_id,
        clause=clause,
        detail={"kind": kind.value, "product_id": product_id, "reason": reason},
        at=now,
    )
    return row


def _mark_reached(session: Session, merchant_id: str, start: datetime) -> None:
    """The live worker judges again the orders an extended settlement may reach (VF-6's
    exception; stored_facts gives them the penalty): not settled under VF-6 at ``start``."""
    settled_by = start - timedelta(days=VF6_DAYS)
    query = select(Order.order_id).where(
        Order.merchant_id == merchant_id,
        or_(Order.confirmed_receipt_time.is_(None), Order.confirmed_receipt_time > settled_by),
    )
    mark_written(session, session.scalars(query))


def load(session: Session, measure_id: int, merchant_id: str | None) -> Measure:
    row = session.get(Measure, measure_id)
    if row is None or (merchant_id is not None and row.merchant_id != merchant_id):
        raise NotFound(f"measure {measure_id} not found")
    return row


def lift(session: Session, row: Measure, *, actor: str, now: datetime) -> None:
    fire(
        session,
        measures.MACHINE,
        row,
        "lift",
        subject_id=str(row.measure_id),
        actor=actor,
        merchant_id=row.merchant_id,
        at=now,
        clause=row.clause,
        changes={"lifted_by": actor, "lifted_at": now},
    )


def of_merchant(session: Session, merchant_id: str | None) -> list[Measure]:
    return merchant_rows(session, Measure, merchant_id, Measure.measure_id)


def record_by_rule(
    session: Session,
    *,
    merchant_id: str,
    product_id: str | None,
    kind: measures.MeasureKind,
    reason: str,
    clause: str,
    start: datetime,
    until: datetime | None,
    end: datetime | None,
    actor: str,
) -> Measure | None:
    """A measure the rules proposed (lvyue.indicators: VF-8's ladder), recorded once: started at
    ``start`` and, when the rule already lifted it, lifted at ``end``. None when the same
    measure (merchant, product, kind, clause, start) is already recorded."""
    # Two recorders at once (two `lvyue measures propose --record`): the merchant's row lock
    # makes the second wait for the first to commit, then find its rows (PostgreSQL; SQLite's
    # BEGIN IMMEDIATE already serializes writers). Without it both recorded the measure.
    session.get(Merchant, merchant_id, with_for_update=True, populate_existing=True)
    same = select(Measure).where(
        Measure.merchant_id == merchant_id,
        Measure.kind == kind.value,
        Measure.clause == clause,
        Measure.created_at == start,
        Measure.product_id.is_(None) if product_id is None else Measure.product_id == product_id,
    )
    if session.scalars(same).first() is not None:
        return None
    row = impose(session, merchant_id=merchant_id, product_id=product_id, kind=kind,
                 reason=reason, clause=clause, until=until, actor=actor, now=start)  # fmt: skip
    if end is not None:
        lift(session, row, actor=actor, now=end)
    return row

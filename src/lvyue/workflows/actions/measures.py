"""Measures (VF-7, VF-8, VF-9): impose, lift, list; and record those the rules proposed, once.

A measure is against a merchant (or one of its products) or against a creator (达人, VF-9):
exactly one of ``merchant_id`` and ``creator_id``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lvyue.engine.clocks import VF6_DAYS
from lvyue.store.audit import audit
from lvyue.store.creator_tables import Creator
from lvyue.store.marks import mark_written
from lvyue.store.tables import Merchant, Order
from lvyue.store.workflow_tables import Measure
from lvyue.workflows import measures
from lvyue.workflows.actions.common import NotFound, fire, merchant_rows


def _check_party(session: Session, merchant_id: str | None, creator_id: str | None) -> None:
    if (merchant_id is None) == (creator_id is None):
        raise ValueError("a measure is against a merchant or a creator, exactly one")
    if merchant_id is not None and session.get(Merchant, merchant_id) is None:
        raise NotFound(f"merchant {merchant_id} not found")
    if creator_id is not None and session.get(Creator, creator_id) is None:
        raise NotFound(f"creator {creator_id} not found")


def impose(
    session: Session,
    *,
    merchant_id: str | None,
    product_id: str | None,
    kind: measures.MeasureKind,
    reason: str,
    clause: str,
    until: datetime | None,
    actor: str,
    now: datetime,
    creator_id: str | None = None,
) -> Measure:
    _check_party(session, merchant_id, creator_id)
    measures.check_party(kind, creator_id is not None)
    measures.check_target(kind, product_id)
    row = Measure(
        merchant_id=merchant_id,
        creator_id=creator_id,
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
    if kind is measures.MeasureKind.EXTEND_SETTLEMENT and product_id is None and merchant_id:
        _mark_reached(session, merchant_id, now)
    detail = {"kind": kind.value, "product_id": product_id, "reason": reason}
    audit(
        session,
        actor=actor,
        action="measure.impose",
        entity=measures.WORKFLOW,
        entity_id=str(row.measure_id),
        merchant_id=merchant_id,
        clause=clause,
        detail=detail | ({"creator_id": creator_id} if creator_id else {}),
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


def lift(
    session: Session, row: Measure, *, actor: str, now: datetime, why: str | None = None
) -> None:
    detail = ({"creator_id": row.creator_id} if row.creator_id else {}) | (
        {"reason": why} if why else {}
    )
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
        detail=detail or None,
        changes={"lifted_by": actor, "lifted_at": now},
    )


def of_merchant(session: Session, merchant_id: str | None) -> list[Measure]:
    return merchant_rows(session, Measure, merchant_id, Measure.measure_id)


def of_creators(session: Session, creator_id: str | None) -> list[Measure]:
    """Measures against one creator, or against every creator (None), oldest first."""
    query = select(Measure).where(Measure.creator_id.is_not(None)).order_by(Measure.measure_id)
    if creator_id is not None:
        query = query.where(Measure.creator_id == creator_id)
    return list(session.scalars(query))


def record_by_rule(
    session: Session,
    *,
    merchant_id: str | None,
    product_id: str | None,
    kind: measures.MeasureKind,
    reason: str,
    clause: str,
    start: datetime,
    until: datetime | None,
    end: datetime | None,
    actor: str,
    creator_id: str | None = None,
) -> Measure | None:
    """A measure the rules proposed (lvyue.indicators: VF-8's ladder; VF-9's for creators and
    merchants' own listings), recorded once: started at ``start`` and, when the rule already
    lifted it, lifted at ``end``. None when the same measure (party, product, kind, clause,
    start) is already recorded; then a later run's news is applied to it: a later earliest end
    (still abnormal) or its lifting by rule — unless an operator lifted it already."""
    # Two recorders at once (two `--record` runs): the party's row lock makes the second wait
    # for the first to commit, then find its rows (PostgreSQL; SQLite's BEGIN IMMEDIATE
    # already serializes writers). Without it both recorded the measure.
    party = Merchant if creator_id is None else Creator
    session.get(party, merchant_id or creator_id, with_for_update=True, populate_existing=True)
    same = select(Measure).where(
        _same(Measure.merchant_id, merchant_id),
        _same(Measure.creator_id, creator_id),
        Measure.kind == kind.value,
        Measure.clause == clause,
        Measure.created_at == start,
        _same(Measure.product_id, product_id),
    )
    found = session.scalars(same).first()
    if found is not None:
        _follow(session, found, until=until, end=end, actor=actor)
        return None
    row = impose(session, merchant_id=merchant_id, product_id=product_id, kind=kind,
                 reason=reason, clause=clause, until=until, actor=actor, now=start,
                 creator_id=creator_id)  # fmt: skip
    if end is not None:
        lift(session, row, actor=actor, now=end)
    return row


def in_force_by_rule(session: Session, actor: str, starts: list[datetime]) -> list[Measure]:
    """The measures ``actor`` (a rule) recorded at one of ``starts`` and nobody lifted yet,
    locked (PostgreSQL) so that two recorders do not lift one twice."""
    if not starts:
        return []
    query = select(Measure).where(
        Measure.created_by == actor,
        Measure.state == measures.MACHINE.initial,
        Measure.created_at.in_(starts),
    )
    query = query.order_by(Measure.measure_id).with_for_update()
    return list(session.scalars(query.execution_options(populate_existing=True)))


def _same(column: Any, value: str | None) -> Any:
    return column.is_(None) if value is None else column == value


def _follow(
    session: Session, row: Measure, *, until: datetime | None, end: datetime | None, actor: str
) -> None:
    """A recorded rule measure still active: a later run moved its earliest end, or lifted it."""
    if row.state != measures.MACHINE.initial:
        return  # lifted (by rule or by an operator): that stands
    if end is not None:
        lift(session, row, actor=actor, now=end)
    elif until is not None and row.until != until:
        row.until = until
        session.flush()

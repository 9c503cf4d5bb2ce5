"""Recording violations (SF-10): once per (order, after-sales request, check)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lvyue.engine.online import Resolves, evaluate_order
from lvyue.model.enums import Check
from lvyue.store.audit import audit
from lvyue.store.marks import mark_written
from lvyue.store.tables import Order
from lvyue.store.workflow_tables import Violation
from lvyue.workflows.actions.common import merchant_rows
from lvyue.workflows.actions.stored_facts import facts_for


def record(
    session: Session,
    *,
    merchant_id: str,
    order_id: str,
    aftersale_id: str = "",
    check: str,
    clause: str,
    deadline: datetime | None,
    source: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> Violation | None:
    """Add the violation unless it is already recorded; None when it was."""
    existing = session.scalar(
        select(Violation).where(
            Violation.order_id == order_id,
            Violation.aftersale_id == aftersale_id,
            Violation.check == check,
        )
    )
    if existing is not None:
        return None
    row = Violation(
        merchant_id=merchant_id,
        order_id=order_id,
        aftersale_id=aftersale_id,
        check=check,
        clause=clause,
        deadline=deadline,
        detected_at=now,
        source=source,
        detail=detail or {},
    )
    session.add(row)
    session.flush()
    audit(
        session,
        actor=source,
        action="violation.record",
        entity="violation",
        entity_id=f"{order_id}/{aftersale_id}/{check}",
        merchant_id=merchant_id,
        clause=clause,
        detail={"deadline": deadline.isoformat() if deadline else None, **(detail or {})},
        at=now,
    )
    return row


def of_merchant(session: Session, merchant_id: str | None) -> list[Violation]:
    return merchant_rows(session, Violation, merchant_id, Violation.violation_id)


def reconsider(
    session: Session, rules: Resolves, order_ids: Sequence[str], *, clause: str, now: datetime
) -> int:
    """Withdraw recorded violations of ``order_ids`` the engine no longer finds violated
    (e.g. after an approved report, SF-8); each withdrawal is audited with ``clause``."""
    orders = list(session.scalars(select(Order).where(Order.order_id.in_(list(order_ids)))))
    still = {
        (v.order_id, v.aftersale_id, v.check.value)
        for facts in facts_for(session, orders)
        for v in evaluate_order(facts, now, rules)
        if v.merchant_violation
    }
    mark_written(session, [o.order_id for o in orders])  # the live verdicts follow (SF-8)
    withdrawn = 0
    recorded = select(Violation).where(Violation.order_id.in_([o.order_id for o in orders]))
    for row in session.scalars(recorded):
        if (row.order_id, row.aftersale_id, row.check) in still:
            continue
        withdraw(session, row, actor="system:violation-review", clause=clause, now=now)
        withdrawn += 1
    session.flush()
    return withdrawn


def withdraw(
    session: Session,
    row: Violation,
    *,
    actor: str,
    clause: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    """Withdraw a recorded violation, audited with ``clause``; a ship-deadline violation's
    DR-6 penalty (computed from it) goes with it, audited as well."""
    entity_id = f"{row.order_id}/{row.aftersale_id}/{row.check}"
    was = {"was": row.clause, "deadline": row.deadline.isoformat() if row.deadline else None}
    audit(session, actor=actor, action="violation.withdraw", entity="violation",
          entity_id=entity_id, merchant_id=row.merchant_id, clause=clause,
          detail={**was, **(detail or {})}, at=now)  # fmt: skip
    if row.check == Check.SHIP_DEADLINE.value:
        audit(session, actor=actor, action="penalty.withdraw", entity="order",
              entity_id=row.order_id, merchant_id=row.merchant_id, clause=clause,
              detail={"violation": entity_id, "rule": "DR-6"}, at=now)  # fmt: skip
    session.delete(row)

"""Recording violations (SF-10): once per (order, after-sales request, check)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lvyue.store.audit import audit
from lvyue.store.workflow_tables import Violation


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
    ).at = now
    return row


def of_merchant(session: Session, merchant_id: str | None) -> list[Violation]:
    query = select(Violation).order_by(Violation.violation_id)
    if merchant_id is not None:
        query = query.where(Violation.merchant_id == merchant_id)
    return list(session.scalars(query))

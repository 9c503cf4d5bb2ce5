"""Writing the audit log (GN-3): every state change and rule-driven decision, with the clause."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from lvyue.store.tables import AuditEntry, utcnow


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    merchant_id: str | None = None,
    clause: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add an audit entry to the session (committed with the change it records), stamped
    ``at`` when given (a workflow's own clock), else when it is written."""
    entry = AuditEntry(
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        merchant_id=merchant_id,
        clause=clause,
        detail=detail or {},
    )
    if at is not None:
        entry.at = at
    session.add(entry)
    return entry


def audit_many(session: Session, entries: Sequence[dict[str, Any]]) -> None:
    """Many entries, each the keywords of ``audit``, in one executemany statement (a group of
    single scans): no ORM object each — the ORM's multi-row INSERT changed its text with
    every group size, and psycopg parsed it anew each time (profiled: a sixth of a group)."""
    if not entries:
        return
    now = utcnow()
    rows = [{"merchant_id": None, "clause": None, **e, "detail": e.get("detail") or {},
             "at": e.get("at") or now} for e in entries]  # fmt: skip
    session.execute(insert(AuditEntry), rows)

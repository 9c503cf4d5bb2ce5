"""Scans written set-based (issue 13 item 3): many tracking events in one
``INSERT … ON CONFLICT DO NOTHING … RETURNING`` (PostgreSQL and SQLite alike; SQLAlchemy sends
the rows as multi-row ``VALUES``), instead of a statement and a savepoint per scan. A scan a
concurrent request stored first is simply not returned: no unique violation, no retry of the
whole request. The batch path (``bulk``) and the carrier push path use it; the dirty marks of
the scanned orders ride on the same statement (``store.marks``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lvyue.model.rows import TrackingRow
from lvyue.store.refusals import RowRejected, Scope, tracking_refusal
from lvyue.store.tables import Shipment, TrackingEvent, utcnow

TRACKING_KEY = ("carrier", "waybill", "time", "kind")  # the natural key of a scan
ScanKey = tuple[str, str, datetime, str]


def insert_scans(session: Session, events: Sequence[Mapping[str, Any]]) -> set[ScanKey]:
    """Insert the scans whose key is new; the keys inserted (the others were stored)."""
    if not events:
        return set()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = TrackingEvent.__table__
    statement = (
        dialect.insert(table)
        .on_conflict_do_nothing(index_elements=list(TRACKING_KEY))
        .returning(*(table.c[name] for name in TRACKING_KEY))
    )
    result = session.execute(statement, [dict(e) for e in events])
    return {(c, w, t, k) for c, w, t, k in result}


def apply_scans(session: Session, rows: Sequence[TrackingRow], scope: Scope) -> list[str]:
    """Store a carrier's scans (a push: all of them or, on a refusal, none — the caller's
    savepoint); the outcome of each: created, updated (location or text filled) or
    unchanged. Raises :class:`RowRejected` for the first scan the sender may not push."""
    mine = _shipped_by(session, rows, scope.merchant_id)
    for row in rows:
        refusal = tracking_refusal(row, scope, (row.carrier, row.waybill) in mine)
        if refusal is not None:
            raise refusal
    now = utcnow()
    unique = {_key(row): row for row in rows}  # a push may repeat a scan
    inserted = insert_scans(session, [row.event_values(now) for row in unique.values()])
    return ["created" if key in inserted else _fill(session, row) for key, row in unique.items()]


def _key(row: TrackingRow) -> ScanKey:
    return (row.carrier, row.waybill, row.time, row.kind.value)


def _shipped_by(
    session: Session, rows: Sequence[TrackingRow], merchant_id: str | None
) -> set[tuple[str, str]]:
    if merchant_id is None:
        return set()
    waybills = sorted({row.waybill for row in rows})
    found = session.execute(
        select(Shipment.carrier, Shipment.waybill).where(
            Shipment.waybill.in_(waybills), Shipment.merchant_id == merchant_id
        )
    )
    return {(c, w) for c, w in found}


def _fill(session: Session, row: TrackingRow) -> str:
    """A stored scan: fill its location or text if they were empty or differ (as
    ``ingest.apply_tracking`` does)."""
    stored = session.scalars(
        select(TrackingEvent)
        .where(
            *(getattr(TrackingEvent, n) == v for n, v in zip(TRACKING_KEY, _key(row), strict=True))
        )
        .execution_options(populate_existing=True)
    ).one()
    changed = False
    for name in ("location", "text"):
        value = getattr(row, name)
        if value is not None and getattr(stored, name) != value:
            setattr(stored, name, value)
            changed = True
    return "updated" if changed else "unchanged"


__all__ = ["RowRejected", "apply_scans", "insert_scans"]

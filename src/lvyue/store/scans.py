"""Scans written set-based (issue 13 item 3): many tracking events in one
``INSERT … ON CONFLICT DO NOTHING … RETURNING`` instead of a statement and a savepoint per
scan. A scan a concurrent request stored first is simply not returned: no unique violation,
no retry of the whole request. The batch path (``bulk``), the carrier push path and the
single ``POST /tracking`` use it.

On PostgreSQL the scans travel as one array per column (``unnest``), so the statement's text
never changes with the batch size: psycopg parses it once and the server prepares it, where a
multi-row ``VALUES`` of 100 scans was a new 700-parameter text to split and plan every time
(profiled: 6 of the 10 ms a 100-scan batch spent in this function). The dirty marks of the
orders whose scans were new ride on the same statement (a data-modifying CTE, in order-id
order like ``store.marks``): one round trip. SQLite keeps the multi-row ``VALUES`` and marks
in a second statement. See docs/decisions/ingestion-set-based.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, TextualSelect, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from lvyue.model.rows import TrackingRow
from lvyue.store.marks import mark_waybills
from lvyue.store.refusals import RowRejected, Scope, scan_hold, tracking_refusal
from lvyue.store.tables import Shipment, TrackingEvent, utcnow

TRACKING_KEY = ("carrier", "waybill", "time", "kind")  # the natural key of a scan
ScanKey = tuple[str, str, datetime, str]


_COLUMNS = (*TRACKING_KEY, "location", "text", "received_at")
_ARRAYS = {"carrier": "varchar", "waybill": "varchar", "time": "timestamptz", "kind": "varchar",
           "location": "varchar", "text": "text", "received_at": "timestamptz"}  # fmt: skip
_QUOTED = ", ".join(f'"{c}"' for c in _COLUMNS)
_KEY = ", ".join(f'"{c}"' for c in TRACKING_KEY)
_PG_INSERT = text(
    f"""
WITH given AS (
  SELECT * FROM unnest({", ".join(f"CAST(:{c} AS {t}[])" for c, t in _ARRAYS.items())})
    AS g({_QUOTED})
), stored AS (
  INSERT INTO tracking_events ({_QUOTED})
  SELECT * FROM given ORDER BY {_KEY}
  ON CONFLICT ({_KEY}) DO NOTHING
  RETURNING {_KEY}
), marked AS (
  INSERT INTO live_marks (order_id, dirty, marked_at)
  SELECT DISTINCT s.order_id, true, CAST(:marked_at AS timestamptz)
  FROM shipments AS s JOIN stored AS n ON s.carrier = n.carrier AND s.waybill = n.waybill
  ORDER BY s.order_id
  ON CONFLICT (order_id) DO UPDATE SET dirty = true, marked_at =
    CASE WHEN live_marks.dirty THEN live_marks.marked_at ELSE excluded.marked_at END
)
SELECT {_KEY} FROM stored
"""
).columns(*(TrackingEvent.__table__.c[name] for name in TRACKING_KEY))


def insert_scans(session: Session, events: Sequence[Mapping[str, Any]]) -> set[ScanKey]:
    """Insert the scans whose key is new and mark their orders; the keys inserted (the others
    were stored)."""
    if not events:
        return set()
    if session.get_bind().dialect.name == "postgresql":
        arrays: dict[str, Any] = {c: [e[c] for e in events] for c in _COLUMNS}
        arrays["marked_at"] = utcnow()
        return {(c, w, t, k) for c, w, t, k in session.execute(_PG_INSERT, arrays)}
    table = cast(Table, TrackingEvent.__table__)
    statement = (
        sqlite.insert(table)
        .on_conflict_do_nothing(index_elements=list(TRACKING_KEY))
        .returning(*(table.c[name] for name in TRACKING_KEY))
        .execution_options(marks_taken=True)  # marked here: the new scans' orders only
    )
    result = session.execute(statement, [dict(e) for e in events])
    inserted = {(c, w, t, k) for c, w, t, k in result}
    mark_waybills(session.connection(), ((c, w) for c, w, _, _ in inserted))
    return inserted


class Parcel(NamedTuple):
    """A parcel's shipment, as the checks of a scan read it."""

    merchant_id: str
    ship_time: datetime
    ship_time_source: str


_PARCEL_COLUMNS = (Shipment.carrier, Shipment.waybill, Shipment.merchant_id, Shipment.ship_time,
                   Shipment.ship_time_source)  # fmt: skip
_PG_PARCELS = text(
    "SELECT s.carrier, s.waybill, s.merchant_id, s.ship_time, s.ship_time_source"
    " FROM shipments AS s JOIN unnest(CAST(:carriers AS varchar[]), CAST(:waybills AS"
    " varchar[])) AS p(carrier, waybill) ON s.carrier = p.carrier AND s.waybill = p.waybill"
).columns(*_PARCEL_COLUMNS)
_PAIRS = 800  # waybills per SQLite lookup: under its bound-parameter limit


def parcels(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Parcel]:
    """The shipments of these (carrier, waybill) parcels, in one lookup on the unique index
    (PostgreSQL: two arrays, a statement whose text never changes)."""
    rows = _by_parcel(session, keys, _PG_PARCELS, Shipment, _PARCEL_COLUMNS)
    return {
        (c, w): Parcel(merchant, ship_time, source) for c, w, merchant, ship_time, source in rows
    }


_SCAN_COLUMNS = (TrackingEvent.carrier, TrackingEvent.waybill, TrackingEvent.time,
                 TrackingEvent.kind, TrackingEvent.location, TrackingEvent.text)  # fmt: skip
_PG_SCANS = text(
    "SELECT t.carrier, t.waybill, t.time, t.kind, t.location, t.text FROM tracking_events AS t"
    " JOIN unnest(CAST(:carriers AS varchar[]), CAST(:waybills AS varchar[])) AS p(carrier,"
    " waybill) ON t.carrier = p.carrier AND t.waybill = p.waybill"
).columns(*_SCAN_COLUMNS)


def scans_of(session: Session, keys: Iterable[tuple[str, str]]) -> list[Any]:
    """Every stored scan of these (carrier, waybill) parcels, as plain rows, on the unique
    index. On PostgreSQL two arrays, like ``parcels``: the statement's text never changes, and
    a ``carrier IN … AND waybill IN …`` prepared by psycopg after five uses got a generic plan
    that read the whole table — a worker round slowed as the scans grew (measured: 1,300 →
    100 orders judged per second over 20 s of ingestion)."""
    return _by_parcel(session, keys, _PG_SCANS, TrackingEvent, _SCAN_COLUMNS)


def _by_parcel(
    session: Session,
    keys: Iterable[tuple[str, str]],
    on_postgres: TextualSelect,
    table: type[Shipment] | type[TrackingEvent],
    columns: tuple[Any, ...],
) -> list[Any]:
    """The rows of ``table`` (``columns``, carrier and waybill first) of these parcels: on
    PostgreSQL ``on_postgres`` with two arrays; on SQLite carriers IN and waybills IN (the
    unique index, cheap to compile), in slices under its bound-parameter limit."""
    wanted = sorted(set(keys))
    if not wanted:
        return []
    if session.get_bind().dialect.name == "postgresql":
        arrays = {"carriers": [c for c, _ in wanted], "waybills": [w for _, w in wanted]}
        return list(session.execute(on_postgres, arrays))
    carriers, asked = sorted({c for c, _ in wanted}), set(wanted)
    return [
        row
        for start in range(0, len(wanted), _PAIRS)
        for row in session.execute(
            select(*columns).where(
                table.carrier.in_(carriers),
                table.waybill.in_([w for _, w in wanted[start : start + _PAIRS]]),
            )
        )
        if (row[0], row[1]) in asked  # two INs may pair a carrier with another's waybill
    ]


def apply_scans(session: Session, rows: Sequence[TrackingRow], scope: Scope) -> list[str]:
    """Store a carrier's scans (a push: all of them or, on a refusal, none — the caller's
    savepoint); the outcome of each: created, updated (location or text filled) or
    unchanged. Raises :class:`RowRejected` for the first scan the sender may not push."""
    shipped = parcels(session, ((row.carrier, row.waybill) for row in rows))
    for row in rows:
        refusal = tracking_refusal(row, scope, shipped_by(shipped, row, scope))
        if refusal is not None:
            raise refusal
    now = utcnow()
    unique = {_key(row): row for row in rows}  # a push may repeat a scan
    inserted = insert_scans(session, [row.event_values(now) for row in unique.values()])
    return ["created" if key in inserted else _fill(session, row) for key, row in unique.items()]


def _key(row: TrackingRow) -> ScanKey:
    return (row.carrier, row.waybill, row.time, row.kind.value)


def shipped_by(shipped: Mapping[tuple[str, str], Parcel], row: TrackingRow, scope: Scope) -> bool:
    """Whether the scan's parcel is one the scope's merchant shipped (True: no merchant asked)."""
    parcel = shipped.get((row.carrier, row.waybill))
    return scope.merchant_id is None or (
        parcel is not None and parcel.merchant_id == scope.merchant_id
    )


def screen(
    row: TrackingRow,
    scope: Scope,
    shipped: Mapping[tuple[str, str], Parcel],
    now: datetime,
    *,
    reviewed: bool = False,
) -> RowRejected | None:
    """Why a scan is not stored as sent: its refusal (the sender's scope, the shipment), else
    its hold (``scan_hold``: a new scan of a live shipment at an implausible time; none once
    an operator ``reviewed`` it). The one screen of the single, group and batch paths."""
    refusal = tracking_refusal(row, scope, shipped_by(shipped, row, scope))
    if refusal is not None or reviewed:
        return refusal
    parcel = shipped.get((row.carrier, row.waybill))
    return scan_hold(
        row, None if parcel is None else (parcel.ship_time, parcel.ship_time_source), now
    )


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

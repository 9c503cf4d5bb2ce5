"""Dirty marks: every write that can change an order's verdicts marks the order in the same
transaction (``live_marks``), and the worker (``workflows.live``) judges it again.

The marks are taken where the writes happen, not at each call site, so that no path can
forget them: an ORM flush (``after_flush``: orders, shipments, after-sales, tracking events,
issued inspection codes, new or changed or deleted) and a bulk or upsert ``INSERT`` through
the session (``do_orm_execute``: the batch fast path, ``INSERT … ON CONFLICT``). A tracking
event marks the order shipped with its (carrier, waybill); a scan for a waybill not shipped
yet marks nothing, and the shipment, when it comes, marks its order. A report approval is a
guarded ``UPDATE`` (``workflows.actions.common.fire``): the decision marks its orders
(``mark_orders``) where it withdraws violations.

Concurrency (PostgreSQL): a mark is an upsert that sets ``dirty``; the worker claims marks
``FOR UPDATE SKIP LOCKED`` and clears them in the transaction that writes the verdicts. A
write committing while the worker judges its order waits on the claimed row and marks it
again once the worker commits, so no write is judged from facts older than itself. Order ids
are marked in sorted order so that two writers never wait on each other crosswise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import chain
from typing import Any

from sqlalchemy import Connection, Insert, bindparam, case, event, select, true, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, sessionmaker

from lvyue.store.live_tables import LiveMark
from lvyue.store.tables import AfterSale, Order, Shipment, TrackingEvent, utcnow
from lvyue.store.types import UtcDateTime
from lvyue.store.workflow_tables import InspectionCode

CHUNK = 500
_MARKS = LiveMark.__table__
_BY_ORDER = (Order, Shipment, AfterSale)
_INSERTS_BY_ORDER = {"orders", "shipments", "after_sales"}
_MARKING = (*_BY_ORDER, TrackingEvent, InspectionCode)


def _upsert(connection: Connection) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(_MARKS)


def _on_conflict(statement: Any) -> Any:
    """A mark that exists becomes dirty again. ``marked_at`` stays the oldest write still
    waiting (a mark already dirty keeps it): the worker takes the oldest first, and an order
    written to again and again does not move to the back of the queue."""
    return statement.on_conflict_do_update(
        index_elements=["order_id"],
        set_={
            "dirty": True,
            "marked_at": case(
                (_MARKS.c.dirty.is_(True), _MARKS.c.marked_at), else_=statement.excluded.marked_at
            ),
        },
    )


def mark_orders(connection: Connection, order_ids: Iterable[str]) -> None:
    """Mark ``order_ids`` to be judged again (in the caller's transaction)."""
    ids = sorted(set(order_ids))
    now = utcnow()
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        rows = [{"order_id": i, "dirty": True, "marked_at": now} for i in part]
        connection.execute(_on_conflict(_upsert(connection).values(rows)))


def mark_waybills(connection: Connection, parcels: Iterable[tuple[str, str]]) -> None:
    """Mark the orders shipped with these (carrier, waybill) parcels."""
    keys = sorted(set(parcels))
    moment = bindparam("marked_at", utcnow(), type_=UtcDateTime())
    for start in range(0, len(keys), CHUNK):
        found = (
            select(Shipment.order_id, true(), moment)
            .where(tuple_(Shipment.carrier, Shipment.waybill).in_(keys[start : start + CHUNK]))
            .order_by(Shipment.order_id)
        )
        statement = _upsert(connection).from_select(["order_id", "dirty", "marked_at"], found)
        connection.execute(_on_conflict(statement))


def mark_codes(connection: Connection, codes: Iterable[str]) -> None:
    """Mark the orders shipped with these inspection codes (their BT verdicts read them)."""
    wanted = sorted(set(codes))
    if wanted:
        found = connection.scalars(
            select(Shipment.order_id).where(Shipment.inspection_code.in_(wanted))
        )
        mark_orders(connection, found)


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    orders: set[str] = set()
    parcels: set[tuple[str, str]] = set()
    codes: set[str] = set()
    # ``session.dirty`` builds a new set on each access: taken once (per row it was O(n²),
    # a tenth of the live worker's round); rows that mark nothing (the worker's verdicts)
    # are not asked whether they changed
    modified = [r for r in session.dirty if isinstance(r, _MARKING) and session.is_modified(r)]
    for row in chain(session.new, modified, session.deleted):
        if isinstance(row, _BY_ORDER):
            orders.add(row.order_id)
        elif isinstance(row, TrackingEvent):
            parcels.add((row.carrier, row.waybill))
        elif isinstance(row, InspectionCode):
            codes.add(row.code)
    if orders or parcels or codes:
        connection = session.connection()
        mark_orders(connection, orders)
        mark_waybills(connection, parcels)
        mark_codes(connection, codes)


def _inserted_rows(state: ORMExecuteState, statement: Insert) -> Sequence[Mapping[str, Any]]:
    params = state.parameters
    if isinstance(params, Mapping) and params:
        return [params]
    if isinstance(params, Sequence) and params:
        return [p for p in params if isinstance(p, Mapping)]
    compiled = statement.compile(dialect=state.session.get_bind().dialect)
    return [compiled.params]


def _on_execute(state: ORMExecuteState) -> None:
    statement = state.statement
    if not isinstance(statement, Insert) or state.execution_options.get("marks_taken"):
        return  # marks_taken: the writer marks what it changed itself (``store.scans``)
    name = getattr(statement.table, "name", None)
    if name not in _INSERTS_BY_ORDER and name != "tracking_events":
        return
    rows = _inserted_rows(state, statement)
    connection = state.session.connection()
    if name == "tracking_events":
        mark_waybills(connection, ((r["carrier"], r["waybill"]) for r in rows))
    else:
        mark_orders(connection, (r["order_id"] for r in rows))


def mark_written(session: Session, order_ids: Iterable[str]) -> None:
    """Mark orders whose verdicts a guarded ``UPDATE`` may change (e.g. a report approval)."""
    mark_orders(session.connection(), order_ids)


def install(factory: sessionmaker[Session]) -> None:
    """Take marks on every session ``factory`` makes (``store.make_session_factory`` calls
    this, so every writer of the service, worker and CLI gets them; explicit, not on import)."""
    if not event.contains(factory, "after_flush", _after_flush):
        event.listen(factory, "after_flush", _after_flush)
        event.listen(factory, "do_orm_execute", _on_execute)

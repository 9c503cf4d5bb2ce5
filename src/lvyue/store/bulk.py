"""The fast path of writing rows into the store: rows whose natural key is new — in the
database and in the batch — are checked against lookups made once per batch and inserted with one
``executemany`` per table. The checks are those of the row-by-row path (``store.write``); rows
with a known or repeated key are handed back to it (they may update, or be unchanged).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from lvyue.model.rows import AfterSaleRow, OrderRow, TrackingRow
from lvyue.store.creator_tables import Promotion
from lvyue.store.refusals import (
    AFTER_SALE_COLUMNS,
    ORDER_COLUMNS,
    Numbered,
    RowRejected,
    Scope,
    after_sale_refusal,
    delayed_refusal,
    merchant_refusal,
    penalty_refusal,
    promotion_refusal,
    tracking_refusal,
)
from lvyue.store.scans import Parcel, ScanKey, insert_scans, parcels, screen, shipped_by
from lvyue.store.shipping import platform_shipments
from lvyue.store.tables import (
    AfterSale,
    AuditEntry,
    Merchant,
    Order,
    Shipment,
    TrackingEvent,
    utcnow,
)

K = TypeVar("K", bound=Hashable)
_LOOKUP_CHUNK = 900  # keeps IN lists under SQLite's bound-parameter limit
Rejected = list[tuple[int, Any, RowRejected]]


def _in_chunks(values: Iterable[K]) -> Iterable[list[K]]:
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), _LOOKUP_CHUNK):
        yield unique[start : start + _LOOKUP_CHUNK]


def _split(
    items: Sequence[Numbered], key: Callable[[Any], K], known: set[K]
) -> tuple[list[Numbered], list[Numbered]]:
    """(rows with a key new to the database and first in the batch, all the others)."""
    new: list[Numbered] = []
    rest: list[Numbered] = []
    seen = set(known)
    for item in items:
        k = key(item[2])
        (rest if k in seen else new).append(item)
        seen.add(k)
    return new, rest


def insert_new(
    session: Session,
    table: str,
    items: Sequence[Numbered],
    scope: Scope,
    actor: str,
    now: datetime,
) -> tuple[int, list[Numbered], Rejected]:
    """Insert the rows with new keys (received at ``now``, the service clock); returns
    (inserted, rows for the slow path, refused). Rows in none of these were found stored
    exactly as they are: unchanged."""
    if not items:
        return 0, [], []
    if table == "tracking":
        return _tracking(session, items, scope, now)
    handler = {"orders": _orders, "after_sales": _after_sales}[table]
    return handler(session, items, scope, actor)


def _orders(
    session: Session, items: Sequence[Numbered], scope: Scope, actor: str
) -> tuple[int, list[Numbered], Rejected]:
    ids = [item[2].order_id for item in items]  # type: ignore[attr-defined]
    stored: dict[str, Order] = {}
    for chunk in _in_chunks(ids):
        # whole rows, so that the row-by-row path finds them in the identity map
        stored.update(
            (o.order_id, o) for o in session.scalars(select(Order).where(Order.order_id.in_(chunk)))
        )
        session.scalars(select(Shipment).where(Shipment.order_id.in_(chunk))).all()
    known = set(stored)
    merchants: set[str] = set()
    for chunk in _in_chunks(item[2].merchant_id for item in items):  # type: ignore[attr-defined]
        merchants.update(
            session.scalars(select(Merchant.merchant_id).where(Merchant.merchant_id.in_(chunk)))
        )
    promotions = _promotions(session, items)
    new, rest = _split(items, lambda row: row.order_id, known)
    # An order re-sent exactly as stored changes nothing: counted here, without a savepoint
    # and a round trip each (a re-sent file was 10-14 times slower than the first upload).
    rest = [item for item in rest if not _same_order(item[2], stored, scope, merchants)]  # type: ignore[arg-type]
    orders, rejected, shipped = [], [], []
    for number, raw, parsed in new:
        row: OrderRow = parsed  # type: ignore[assignment]
        refusal = (
            merchant_refusal(row.merchant_id, scope, row.merchant_id in merchants)
            or delayed_refusal(row.delayed_shipping, scope)
            or penalty_refusal(row, scope)
            or promotion_refusal(row, promotions.get(row.promotion_id or ""))
        )
        if refusal is not None:
            rejected.append((number, raw, refusal))
        elif row.parcel() is None:
            orders.append(_order_values(row))
        elif scope.merchant_id is None:
            shipped.append((number, raw, row))  # the platform's records: checked in one go
        else:
            rest.append((number, raw, parsed))  # a merchant's shipping: store.shipping.ship
    records = [
        (r.order_id, r.merchant_id, r.pay_time, parcel)
        for _, _, r in shipped
        if (parcel := r.parcel()) is not None
    ]
    shipments, entries, refused = platform_shipments(session, records, actor)
    for number, raw, row in shipped:
        if row.order_id in refused:
            rejected.append((number, raw, refused[row.order_id]))
        else:
            orders.append(_order_values(row))
    if orders:
        session.execute(insert(Order), orders)
    if shipments:
        session.execute(insert(Shipment), shipments)
        session.execute(insert(AuditEntry), entries)
    rest.sort(key=lambda item: item[0])
    return len(orders), rest, rejected


def _promotions(session: Session, items: Sequence[Numbered]) -> dict[str, tuple[str, str]]:
    """(merchant, product) of each recorded promotion the batch's orders name."""
    named = [i[2].promotion_id for i in items if i[2].promotion_id]  # type: ignore[attr-defined]
    found: dict[str, tuple[str, str]] = {}
    for chunk in _in_chunks(named):
        query = select(Promotion.promotion_id, Promotion.merchant_id, Promotion.product_id)
        rows = session.execute(query.where(Promotion.promotion_id.in_(chunk)))
        found.update((pid, (merchant, product)) for pid, merchant, product in rows)
    return found


def _same_order(row: OrderRow, stored: dict[str, Order], scope: Scope, merchants: set[str]) -> bool:
    """True if applying ``row`` would leave its stored order as it is (the rules of
    ``corrections.resend_order``: an empty cell erases nothing, an equal one changes nothing)."""
    order = stored.get(row.order_id)
    if order is None or row.parcel() is not None or order.merchant_id != row.merchant_id:
        return False
    if merchant_refusal(row.merchant_id, scope, row.merchant_id in merchants) is not None:
        return False
    for name in ORDER_COLUMNS & row.model_fields_set:
        value = getattr(row, name)
        if value is not None and getattr(order, name) != value:
            return False
    return all(order.extra.get(k) == v for k, v in row.extra_columns().items())


def _order_values(row: OrderRow) -> dict[str, Any]:
    return {
        "order_id": row.order_id,
        "extra": row.extra_columns(),
        "created_at": utcnow(),
        **row.model_dump(include=ORDER_COLUMNS),
    }


def _tracking(
    session: Session, items: Sequence[Numbered], scope: Scope, now: datetime
) -> tuple[int, list[Numbered], Rejected]:
    """Scans: insert every allowed one in one set-based statement (``scans.insert_scans``);
    those already stored are looked up by key afterwards (not every scan of the waybills
    first: a waybill's history grows all day) and go to the row path only if they would
    fill a location or text."""
    shipped = parcels(session, ((i[2].carrier, i[2].waybill) for i in items))  # type: ignore[attr-defined]
    rejected: Rejected = []
    first: dict[ScanKey, Numbered] = {}
    rest: list[Numbered] = []
    for number, raw, parsed in items:
        row: TrackingRow = parsed  # type: ignore[assignment]
        refusal = screen(row, scope, shipped, now)
        if refusal is not None:
            rejected.append((number, raw, refusal))
        elif _scan_key(row) in first:
            rest.append((number, raw, parsed))  # repeated in the batch: the row path
        else:
            first[_scan_key(row)] = (number, raw, parsed)
    received = utcnow()
    inserted = insert_scans(session, [item[2].event_values(received) for item in first.values()])  # type: ignore[attr-defined]
    known = _stored_scans(session, [k for k in first if k not in inserted])
    rest += [
        item
        for k, item in first.items()
        if k not in inserted and not _same_scan(item[2], known, scope, shipped)  # type: ignore[arg-type]
    ]
    rest.sort(key=lambda item: item[0])
    return len(inserted), rest, rejected


def _scan_key(row: TrackingRow) -> ScanKey:
    return (row.carrier, row.waybill, row.time, row.kind.value)


def _stored_scans(
    session: Session, keys: Sequence[ScanKey]
) -> dict[ScanKey, tuple[str | None, str | None]]:
    """Location and text of stored scans, by key."""
    found: dict[ScanKey, tuple[str | None, str | None]] = {}
    columns = (TrackingEvent.carrier, TrackingEvent.waybill, TrackingEvent.time, TrackingEvent.kind)
    for start in range(0, len(keys), 200):  # 4 parameters a key: under SQLite's bound
        rows = session.execute(
            select(*columns, TrackingEvent.location, TrackingEvent.text).where(
                tuple_(*columns).in_(list(keys[start : start + 200]))
            )
        )
        found.update({(c, w, t, k): (loc, txt) for c, w, t, k, loc, txt in rows})
    return found


def _same_scan(
    row: TrackingRow,
    known: dict[tuple[str, str, datetime, str], tuple[str | None, str | None]],
    scope: Scope,
    shipped: Mapping[tuple[str, str], Parcel],
) -> bool:
    stored = known.get((row.carrier, row.waybill, row.time, row.kind.value))
    if stored is None or tracking_refusal(row, scope, shipped_by(shipped, row, scope)):
        return False
    return all(
        new is None or new == old for new, old in zip((row.location, row.text), stored, strict=True)
    )


def _after_sales(
    session: Session, items: Sequence[Numbered], scope: Scope, actor: str
) -> tuple[int, list[Numbered], Rejected]:
    known: set[str] = set()
    owners: dict[str, str] = {}
    for chunk in _in_chunks(item[2].aftersale_id for item in items):  # type: ignore[attr-defined]
        known.update(
            session.scalars(select(AfterSale.aftersale_id).where(AfterSale.aftersale_id.in_(chunk)))
        )
    for chunk in _in_chunks(item[2].order_id for item in items):  # type: ignore[attr-defined]
        owners.update(
            {
                o: m
                for o, m in session.execute(
                    select(Order.order_id, Order.merchant_id).where(Order.order_id.in_(chunk))
                )
            }
        )
    new, rest = _split(items, lambda row: row.aftersale_id, known)
    records, rejected = [], []
    for number, raw, parsed in new:
        row: AfterSaleRow = parsed  # type: ignore[assignment]
        owner = owners.get(row.order_id)
        refusal = after_sale_refusal(row, scope, owner)
        if refusal is not None:
            rejected.append((number, raw, refusal))
            continue
        values = row.model_dump(include=AFTER_SALE_COLUMNS)
        records.append({**values, "type": row.type.value, "merchant_id": owner})
    if records:
        session.execute(insert(AfterSale), records)
    return len(records), rest, rejected

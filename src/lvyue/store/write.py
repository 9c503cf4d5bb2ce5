"""Writing facts rows into the store (the service's ingestion), idempotently, with quarantine
for bad rows.

Natural keys make a replayed request or file change nothing: orders by ``order_id``,
shipments by order, after-sales by ``aftersale_id``, tracking events by (carrier, waybill,
time, kind) — so a carrier push repeated or reordered gives the same state. An empty time
means "has not happened yet": it never erases a time already recorded.
The caller owns the transaction: a batch commits whole or not at all.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lvyue.model.clock import business_now
from lvyue.model.rows import (
    ROW_MODELS,
    AfterSaleRow,
    OrderRow,
    TrackingRow,
    describe,
    unknown_columns,
)
from lvyue.store.audit import audit
from lvyue.store.bulk import insert_new  # the fast path for rows with new keys
from lvyue.store.corrections import resend_after_sale, resend_order
from lvyue.store.creator_tables import Promotion
from lvyue.store.refusals import (
    AFTER_SALE_COLUMNS,
    ECHO_CHARS,
    ORDER_COLUMNS,
    Numbered,
    after_sale_refusal,
    clip,
    delayed_refusal,
    merchant_refusal,
    penalty_refusal,
    promotion_refusal,
    scan_hold,
)
from lvyue.store.refusals import ClaimRefused as ClaimRefused
from lvyue.store.refusals import RowRejected as RowRejected  # re-exported for callers
from lvyue.store.refusals import ScanHeld as ScanHeld
from lvyue.store.refusals import Scope as Scope
from lvyue.store.scans import TRACKING_KEY, ScanKey, insert_scans, parcels, screen
from lvyue.store.shipping import ship, shipper_of
from lvyue.store.tables import (
    AfterSale,
    Merchant,
    Order,
    QuarantinedRow,
    TrackingEvent,
    utcnow,
)
from lvyue.store.upsert import insert_if_new

Outcome = Literal["created", "updated", "unchanged"]


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one line per quarantined row
    unknown_columns: list[str] = field(default_factory=list)  # not in the facts format

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def _set(target: Any, values: Mapping[str, Any]) -> bool:
    """Copy non-empty values onto a row; True if anything changed."""
    changed = False
    for name, value in values.items():
        if value is None:
            continue  # "has not happened": never erases what was recorded
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed = True
    return changed


def _check_merchant(session: Session, merchant_id: str, scope: Scope) -> None:
    refusal = merchant_refusal(merchant_id, scope, session.get(Merchant, merchant_id) is not None)
    if refusal is not None:
        raise refusal


def _promotion(session: Session, promotion_id: str | None) -> tuple[str, str] | None:
    if promotion_id is None:
        return None
    row = session.get(Promotion, promotion_id)
    return None if row is None else (row.merchant_id, row.product_id)


def _resent_promotion(session: Session, order: Order, row: OrderRow) -> RowRejected | None:
    """A re-sent order that fills in its product keeps to the product of the promotion it
    was recorded with (VF-9): the fill would otherwise count it against another product's."""
    recorded = order.extra.get("promotion_id")
    if row.product_id is None or not recorded:
        return None
    named = row.model_copy(update={"promotion_id": recorded})
    return promotion_refusal(named, _promotion(session, str(recorded)))


def apply_order(session: Session, row: OrderRow, scope: Scope, actor: str) -> Outcome:
    _check_merchant(session, row.merchant_id, scope)
    values = row.model_dump(include=ORDER_COLUMNS)
    extra = row.extra_columns()
    order = session.get(Order, row.order_id)
    if order is None and (
        refusal := delayed_refusal(row.delayed_shipping, scope)
        or penalty_refusal(row, scope)
        or promotion_refusal(row, _promotion(session, row.promotion_id))
    ):
        raise refusal
    if order is None:
        new = {"order_id": row.order_id, "extra": extra, "created_at": utcnow(), **values}
        if not insert_if_new(session, Order, new, ("order_id",)):  # a concurrent request won
            order = session.get(Order, row.order_id, populate_existing=True)
    if order is not None and order.merchant_id != row.merchant_id:  # never say whose
        review = {"order_id": row.order_id, "claimed_for": row.merchant_id}
        raise ClaimRefused("order_id", repr(row.order_id), {**review, "held_by": order.merchant_id})
    if order is None:
        order = session.get(Order, row.order_id)  # just inserted
        assert order is not None
        outcome: Outcome = "created"
    else:
        if refusal := _resent_promotion(session, order, row):
            raise refusal
        sent = {k: v for k, v in values.items() if k in row.model_fields_set}
        outcome = "updated" if resend_order(session, order, sent, extra, actor) else "unchanged"
    parcel = row.parcel()
    if parcel is not None:
        shipped = ship(session, order, parcel, shipper_of(scope, actor))
        if shipped != "unchanged" and outcome == "unchanged":
            outcome = "updated"
    return outcome


def apply_tracking(
    session: Session,
    row: TrackingRow,
    scope: Scope,
    *,
    now: datetime | None = None,
    reviewed: bool = False,
) -> Outcome:
    """Store one scan (natural key); a new scan of a live shipment with an implausible time
    raises ScanHeld (``refusals.scan_hold``) unless an operator ``reviewed`` it (a replay).
    The scan is inserted first (``scans.insert_scans``: it marks its order in the same
    statement on PostgreSQL) and looked up only when its key was already stored."""
    shipped = parcels(session, [(row.carrier, row.waybill)])
    held = screen(row, scope, shipped, now or business_now(), reviewed=reviewed)
    if held is not None and not isinstance(held, ScanHeld):
        raise held
    values = row.event_values(utcnow())
    if held is not None and _stored_scan(session, values) is None:
        raise held  # a new scan only: one already stored is not held
    if held is None and insert_scans(session, [values]):
        return "created"
    existing = _stored_scan(session, values)
    assert existing is not None  # stored, or inserted meanwhile by a concurrent request
    changed = _set(existing, {"location": row.location, "text": row.text})
    return "updated" if changed else "unchanged"


@dataclass(frozen=True)
class ScanWrite:
    """One scan to store as ``apply_tracking`` would, for ``insert_plain_scans``."""

    row: TrackingRow
    scope: Scope
    now: datetime


def insert_plain_scans(session: Session, writes: Sequence[ScanWrite]) -> list[bool]:
    """``apply_tracking``'s plain case for many scans in two statements (the service's group
    commit): a scan the same screen admits, holds nothing and whose key is new is inserted
    (True, ``apply_tracking`` would answer "created"). Every other — refused, held, stored
    already, or a repeat of an earlier one in ``writes`` — is left alone (False): the caller
    answers it with ``apply_tracking``, which says why."""
    shipped = parcels(session, ((w.row.carrier, w.row.waybill) for w in writes))
    received, seen = utcnow(), set()
    values: list[dict[str, Any] | None] = []
    for write in writes:
        key = scan_key(write.row)
        plain = key not in seen and screen(write.row, write.scope, shipped, write.now) is None
        seen.add(key)  # a repeat later in writes is not created: it is answered on its own
        values.append(write.row.event_values(received) if plain else None)
    inserted = insert_scans(session, [v for v in values if v is not None])
    pairs = zip(writes, values, strict=True)
    return [v is not None and scan_key(w.row) in inserted for w, v in pairs]


def _stored_scan(session: Session, values: Mapping[str, Any]) -> TrackingEvent | None:
    return session.scalars(
        select(TrackingEvent)
        .where(*(getattr(TrackingEvent, name) == values[name] for name in TRACKING_KEY))
        .execution_options(populate_existing=True)
    ).one_or_none()


def scan_key(row: TrackingRow) -> ScanKey:
    return (row.carrier, row.waybill, row.time, row.kind.value)


def held_scans(
    session: Session, rows: Sequence[TrackingRow], now: datetime
) -> dict[ScanKey, ScanHeld]:
    """The scans of ``rows`` to hold for review (``refusals.scan_hold``), by key: new ones
    (not stored yet) of live shipments with an implausible time. Set-based: two queries."""
    waybills = sorted({row.waybill for row in rows})
    if not waybills:
        return {}
    shipments = {
        key: (parcel.ship_time, parcel.ship_time_source)
        for key, parcel in parcels(session, ((row.carrier, row.waybill) for row in rows)).items()
    }
    stored = {
        (c, w, t, k)
        for c, w, t, k in session.execute(
            select(
                TrackingEvent.carrier, TrackingEvent.waybill, TrackingEvent.time, TrackingEvent.kind
            ).where(TrackingEvent.waybill.in_(waybills))
        )
    }
    held = {}
    for row in rows:
        if scan_key(row) in stored:
            continue
        found = scan_hold(row, shipments.get((row.carrier, row.waybill)), now)
        if found is not None:
            held[scan_key(row)] = found
    return held


def apply_after_sale(session: Session, row: AfterSaleRow, scope: Scope, actor: str) -> Outcome:
    order = session.get(Order, row.order_id)
    refusal = after_sale_refusal(row, scope, None if order is None else order.merchant_id)
    if refusal is not None or order is None:
        raise refusal or RowRejected("order_id: unknown order", "not_found")
    record = session.get(AfterSale, row.aftersale_id)
    if record is not None and record.order_id != row.order_id:
        raise RowRejected(f"aftersale_id: {row.aftersale_id!r} is taken", "conflict")
    values = row.model_dump(include=AFTER_SALE_COLUMNS - {"aftersale_id", "order_id"})
    values["type"] = row.type.value
    if record is None:
        session.add(
            AfterSale(
                aftersale_id=row.aftersale_id,
                order_id=row.order_id,
                merchant_id=order.merchant_id,
                **values,
            )
        )
        session.flush()
        return "created"
    return "updated" if resend_after_sale(session, record, values, actor) else "unchanged"


def apply_row(
    session: Session,
    table: str,
    row: BaseModel,
    scope: Scope,
    actor: str,
    *,
    now: datetime | None = None,
    reviewed: bool = False,
) -> Outcome:
    if isinstance(row, OrderRow):
        return apply_order(session, row, scope, actor)
    if isinstance(row, TrackingRow):
        return apply_tracking(session, row, scope, now=now, reviewed=reviewed)
    if isinstance(row, AfterSaleRow):
        return apply_after_sale(session, row, scope, actor)
    raise ValueError(f"no ingestion for table {table!r}")


def quarantine(
    session: Session,
    table: str,
    payload: Mapping[str, Any],
    error: str,
    scope: Scope,
    actor: str,
    row: int | None = None,
) -> QuarantinedRow:
    """Keep a refused row whole with its error. ``row``: its number in the upload, so that
    identical bad rows each get an entry; the same row at the same place from the same sender,
    still open in quarantine, is not kept twice (a re-sent file changes nothing)."""
    return _quarantine(session, table, payload, error, scope, actor, row)[0]


def _quarantine(
    session: Session,
    table: str,
    payload: Mapping[str, Any],
    error: str,
    scope: Scope,
    actor: str,
    row: int | None,
) -> tuple[QuarantinedRow, bool]:
    """``quarantine``, and whether the entry is new."""
    stored = _storable(dict(payload))
    digest = hashlib.sha256(
        json.dumps([table, scope.merchant_id, actor, row, stored], sort_keys=True).encode()
    ).hexdigest()
    existing = session.scalars(
        select(QuarantinedRow).where(
            QuarantinedRow.payload_hash == digest, QuarantinedRow.status == "open"
        )
    ).first()
    if existing is not None:
        return existing, False
    entry = QuarantinedRow(
        source=table,
        merchant_id=scope.merchant_id,
        payload=stored,
        payload_hash=digest,
        error=error.replace("\x00", "\\x00"),  # a text column holds no NUL on PostgreSQL
        received_by=actor,
    )
    session.add(entry)
    session.flush()
    return entry, True


def flag_for_review(
    session: Session,
    table: str,
    payload: Mapping[str, Any],
    error: ClaimRefused,
    scope: Scope,
    actor: str,
    row: int | None = None,
    line: str | None = None,
) -> QuarantinedRow:
    """Keep a refused claim for an operator: the payload in quarantine (the sender's shop reads
    it, with the same words it was answered with: ``line``) and an audit entry with what stood
    in the way (in no shop's trail: only operators read it)."""
    entry, new = _quarantine(session, table, payload, line or str(error), scope, actor, row)
    if not new:  # the same claim again (a carrier repeating its push): flagged once
        return entry
    audit(
        session,
        actor=actor,
        action="review.flag",
        entity=table,
        entity_id=f"{error.field} claim",
        merchant_id=None,
        detail={**error.review, "quarantine_id": entry.quarantine_id},
    )
    return entry


def _storable(value: Any) -> Any:
    """The payload as JSON every backend stores: NaN and infinities become their text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def write_rows(
    session: Session,
    table: str,
    rows: Iterable[Mapping[str, Any]],
    scope: Scope,
    actor: str,
    *,
    first_line: int = 1,
    now: datetime | None = None,
) -> BatchResult:
    """Validate and apply each row; a bad row goes to quarantine with the error and its raw
    payload. Each row is applied in a savepoint, so a refused row leaves no trace of itself.
    Nothing is committed here."""
    model = ROW_MODELS[table]
    result = BatchResult()
    refused: list[tuple[int, Mapping[str, Any], str]] = []
    claims: dict[int, ClaimRefused] = {}  # by row number: flagged for review
    valid: list[Numbered] = []
    columns: set[str] = set()
    for number, raw in enumerate(rows, start=first_line):
        columns.update(raw)
        try:
            valid.append((number, raw, model.model_validate(_blank_is_none(raw))))
        except ValidationError as error:
            refused.append((number, raw, describe(error)))
    result.unknown_columns = unknown_columns(table, columns)
    moment = now or business_now()  # the service clock: when these rows are received
    result.created, rest, rejected = insert_new(session, table, valid, scope, actor, moment)
    result.unchanged = len(valid) - result.created - len(rest) - len(rejected)  # known as is
    refused += [(number, raw, str(error)) for number, raw, error in rejected]
    claims.update({n: e for n, _, e in rejected if isinstance(e, ClaimRefused)})
    for number, raw, row in rest:
        try:
            with session.begin_nested():
                result.count(apply_row(session, table, row, scope, actor, now=moment))
        except RowRejected as error:
            refused.append((number, raw, str(error)))
            if isinstance(error, ClaimRefused):
                claims[number] = error
    for number, raw, message in sorted(refused, key=lambda item: item[0]):
        line = f"row {number}: {clip(message, 2 * ECHO_CHARS)}"
        if number in claims:
            claim = claims[number]
            entry = flag_for_review(session, table, raw, claim, scope, actor, row=number, line=line)
        else:
            entry = quarantine(session, table, raw, line, scope, actor, row=number)
        result.quarantined.append(entry.quarantine_id)
        result.errors.append(line)
    return result


def _blank_is_none(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (None if v == "" else v) for k, v in raw.items()}


Replayer = Callable[[Session, Mapping[str, Any], Scope, str], Outcome]
_REPLAYERS: dict[str, Replayer] = {}


def register_replayer(source: str, replayer: Replayer) -> None:
    """How to replay quarantined payloads of a source that is not a facts table (e.g. a raw
    carrier push); the adapter that quarantines them registers it."""
    _REPLAYERS[source] = replayer


def _replay_row(
    session: Session, source: str, payload: Mapping[str, Any], scope: Scope, actor: str
) -> Outcome:
    row = ROW_MODELS[source].model_validate(_blank_is_none(payload))
    # an operator's replay is the review: a held scan is accepted as it is
    return apply_row(session, source, row, scope, actor, reviewed=True)


def replay(session: Session, entry: QuarantinedRow, scope: Scope, actor: str) -> Outcome:
    """Apply a (fixed) quarantined row again; raises ValidationError, RowRejected or another
    ValueError if it is still bad, leaving nothing of it written."""
    replayer = _REPLAYERS.get(entry.source)
    if replayer is None and entry.source not in ROW_MODELS:
        raise ValueError(f"source: no replay for {entry.source!r}")
    with session.begin_nested():
        if replayer is None:
            outcome = _replay_row(session, entry.source, entry.payload, scope, actor)
        else:
            outcome = replayer(session, entry.payload, scope, actor)
    entry.status = "replayed"
    entry.resolved_by = actor
    entry.resolved_at = utcnow()
    return outcome

"""Shipping an order (发货): the one use case every entry point calls — the shipment endpoint,
order ingestion with ship fields (JSON, CSV, bulk), BTAS 绑码发货 and the agency's shipment,
the importers into the service.

In order: the permission (``orders:ship``; the agency ships under ``inspection:inspect``), the
registered ship checks (BTAS: BT-8, BT-10, BT-12, see ``store.hooks``), one shipment per order,
one shipment per (carrier, waybill), the ship time's provenance, then the row and its audit
entry. See docs/decisions/ship-facts-provenance.md.

"完成发货(商家在抖店平台内上传真实有效物流单号)": a shipment happens when the waybill is
uploaded to the platform, so its time is the server's clock. A merchant may state an earlier
time (an ERP uploading in batches) only within ``CLAIM_WINDOW`` before it is recorded; the
row keeps that it was claimed (``ship_time_source``) and when it was recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from lvyue.model import format_instant
from lvyue.model.clock import business_now
from lvyue.model.rows import ShipmentIn
from lvyue.store.audit import audit
from lvyue.store.evidence import PREFIX as EVIDENCE_PREFIX
from lvyue.store.evidence import names_a_stored_file
from lvyue.store.hooks import ship_checks
from lvyue.store.refusals import ClaimRefused, RowRejected, Scope
from lvyue.store.tables import Order, Shipment

Outcome = Literal["created", "updated", "unchanged"]
ShipperKind = Literal["merchant", "platform", "agency"]
# A merchant ships; the agency ships a passed item (BT-2); the platform records a shipment
# that happened in its own system (an operator's import, the demo importer).
SHIP_PERMISSION = {
    "merchant": "orders:ship",
    "platform": "orders:ingest",
    "agency": "inspection:inspect",
}
# Our choice (the seeds give no tolerance): how far before it is recorded a merchant may say
# it shipped, and how far ahead of the server clock (clock skew).
CLAIM_WINDOW = timedelta(hours=1)
CLOCK_SKEW = timedelta(minutes=5)


class ShipForbidden(RowRejected):
    """The caller lacks the permission to ship (HTTP 403 naming it; in a batch the row is
    quarantined)."""

    def __init__(self, permission: str) -> None:
        super().__init__(f"ship_time, carrier, waybill: shipping needs {permission}", "forbidden")
        self.permission = permission


@dataclass(frozen=True)
class Shipper:
    """Who ships: the account, what it holds, and whose record the shipment is.

    ``platform``: the platform's own record (an operator's import, the demo importer): its
    ship time is taken as recorded. ``merchant`` / ``agency``: a claim, bounded.
    """

    account_id: str
    kind: ShipperKind
    permissions: frozenset[str]


def shipper_of(scope: Scope, actor: str) -> Shipper:
    """The shipper behind an ingestion: a merchant's upload, or the platform's own import."""
    if scope.merchant_id is None:  # only operators and importers write for every merchant
        return Shipper(actor, "platform", frozenset({SHIP_PERMISSION["platform"]}))
    held = frozenset({"orders:ship"}) if scope.may_ship else frozenset()
    return Shipper(actor, "merchant", held)


def ship(
    session: Session,
    order: Order,
    parcel: ShipmentIn,
    shipper: Shipper,
    *,
    now: datetime | None = None,
    clause: str | None = None,
) -> Outcome:
    """Ship ``order`` with ``parcel``; raises ShipForbidden, ShipRefused (a rule, with its
    clause) or RowRejected (conflict: shipped otherwise, waybill taken; invalid: ship time)."""
    needed = SHIP_PERMISSION[shipper.kind]
    if needed not in shipper.permissions:
        raise ShipForbidden(needed)
    if shipper.kind != "platform":
        _no_stored_reference(parcel)
    recorded = now or business_now()  # the demo clock too
    existing = session.get(Shipment, order.order_id)
    if existing is not None:
        return _again(existing, parcel)
    _waybill_free(session, order, parcel)
    ship_time, source = ship_time_of(parcel.ship_time, recorded, shipper.kind)
    if ship_time < order.pay_time:  # nobody ships what is not paid for yet
        raise _before_payment(ship_time, order.pay_time)
    if source != "platform":  # a record of a past shipment is judged by the engine's checks
        checked = parcel.model_copy(update={"ship_time": ship_time})
        for check in ship_checks():
            check(session, order, checked)
    values = _shipment(order.order_id, order.merchant_id, parcel, ship_time, source, recorded)
    session.add(Shipment(**values, shipped_by=shipper.account_id))
    session.flush()
    audit(session, **_audit_entry(values, shipper.account_id, clause))
    return "created"


def ship_time_of(
    claimed: datetime | None, recorded: datetime, kind: ShipperKind
) -> tuple[datetime, str]:
    """(ship time, its source): the platform's record as is; else the server clock, or a
    claim no earlier than ``CLAIM_WINDOW`` before it is recorded (and not in the future)."""
    if claimed is None:
        return recorded, "server"
    if kind == "platform":
        return claimed, "platform"
    if claimed > recorded + CLOCK_SKEW:
        raise RowRejected(f"ship_time: {format_instant(claimed)} is in the future")
    if claimed < recorded - CLAIM_WINDOW:
        raise RowRejected(
            f"ship_time: {format_instant(claimed)} is more than {_hours(CLAIM_WINDOW)} before "
            "the shipment is recorded; a shipment's time is when its waybill is uploaded "
            "(omit ship_time to use the server clock)"
        )
    return claimed, "claimed"


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:g} h"


def _no_stored_reference(parcel: ShipmentIn) -> None:
    """A shipper writes no ``sha256:`` reference: that names a stored evidence file, which only
    its upload sets (BT-9). Written by hand it borrowed another shop's video, and read it back
    through one's own order (hostile review)."""
    if names_a_stored_file(parcel.packing_video):
        raise RowRejected(
            f"packing_video: a {EVIDENCE_PREFIX} reference is set by uploading the file "
            "(POST /orders/{id}/shipment/packing-video), not written"
        )


def _again(existing: Shipment, parcel: ShipmentIn) -> Outcome:
    """A repeated shipment changes nothing; another parcel for a shipped order is refused.
    Its time is never rewritten (a correction is the platform's, audited)."""
    if (existing.carrier, existing.waybill) != (parcel.carrier, parcel.waybill):
        raise RowRejected(
            f"order_id: {existing.order_id!r} already shipped with "
            f"{existing.carrier} {existing.waybill}",
            "conflict",
        )
    if parcel.ship_time is not None and parcel.ship_time != existing.ship_time:
        raise RowRejected(  # never answered "unchanged": the sent time was not recorded
            f"ship_time: order {existing.order_id!r} is recorded as shipped at "
            f"{format_instant(existing.ship_time)} ({existing.ship_time_source}); a recorded "
            "ship time is not changed by sending it again, it is corrected through "
            "POST /orders/{id}/corrections (the platform's, with a reason)",
            "conflict",
        )
    changed = False
    for name in ("inspection_code", "packing_video"):
        value = getattr(parcel, name)
        if value is not None and getattr(existing, name) is None:
            setattr(existing, name, value)
            changed = True
    return "updated" if changed else "unchanged"


def _waybill_free(session: Session, order: Order, parcel: ShipmentIn) -> None:
    """A (carrier, waybill) is one parcel: a second order claiming it is refused, without
    saying whose it is (a reused waybill is a known fake-shipment pattern)."""
    owner = session.scalar(
        select(Shipment.order_id).where(
            Shipment.carrier == parcel.carrier,
            Shipment.waybill == parcel.waybill,
            Shipment.order_id != order.order_id,
        )
    )
    if owner is not None:
        raise _waybill_taken(parcel, order.order_id, owner)


def platform_shipments(
    session: Session,
    orders: Sequence[tuple[str, str, datetime, ShipmentIn]],
    actor: str,
    now: datetime | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, RowRejected]]:
    """``ship`` for the platform's records of new orders in one batch (order id, merchant,
    pay time, parcel): the same checks — waybill free (stored or earlier in the batch), not
    before payment — as rows for one ``executemany`` of shipments and of audit entries, and
    the refused by order id. The platform's records run no ship checks (see ``ship``)."""
    recorded = now or business_now()  # the demo clock too
    taken: set[tuple[str, str]] = set()
    waybills = sorted({parcel.waybill for *_, parcel in orders})
    for start in range(0, len(waybills), 900):  # SQLite's bound-parameter limit
        chunk = waybills[start : start + 900]
        found = session.execute(
            select(Shipment.carrier, Shipment.waybill).where(Shipment.waybill.in_(chunk))
        )
        taken.update((c, w) for c, w in found)
    shipments, entries = [], []
    refused: dict[str, RowRejected] = {}
    for order_id, merchant_id, pay_time, parcel in orders:
        key = (parcel.carrier, parcel.waybill)
        ship_time, source = ship_time_of(parcel.ship_time, recorded, "platform")
        if key in taken:
            refused[order_id] = _waybill_taken(parcel, order_id, None)
        elif ship_time < pay_time:
            refused[order_id] = _before_payment(ship_time, pay_time)
        else:
            taken.add(key)
            values = _shipment(order_id, merchant_id, parcel, ship_time, source, recorded)
            shipments.append({**values, "shipped_by": actor})
            entries.append(_audit_entry(values, actor, None))
    return shipments, entries, refused


def _shipment(
    order_id: str,
    merchant_id: str,
    parcel: ShipmentIn,
    ship_time: datetime,
    source: str,
    recorded: datetime,
) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "merchant_id": merchant_id,
        "carrier": parcel.carrier,
        "waybill": parcel.waybill,
        "ship_time": ship_time,
        "ship_time_source": source,
        "recorded_at": recorded,
        "inspection_code": parcel.inspection_code,
        "packing_video": parcel.packing_video,
    }


def _audit_entry(shipment: dict[str, Any], actor: str, clause: str | None) -> dict[str, Any]:
    return {
        "actor": actor,
        "action": "order.ship",
        "entity": "order",
        "entity_id": shipment["order_id"],
        "merchant_id": shipment["merchant_id"],
        "clause": clause,
        "detail": {
            "carrier": shipment["carrier"],
            "waybill": shipment["waybill"],
            "ship_time": format_instant(shipment["ship_time"]),
            "ship_time_source": shipment["ship_time_source"],
            "inspection_code": shipment["inspection_code"] is not None,
            "packing_video": shipment["packing_video"],
        },
        "at": shipment["recorded_at"],
    }


def _before_payment(ship_time: datetime, pay_time: datetime) -> RowRejected:
    return RowRejected(
        f"ship_time: {format_instant(ship_time)} is before the order's pay_time "
        f"{format_instant(pay_time)}"
    )


def _waybill_taken(parcel: ShipmentIn, order_id: str, owner: str | None) -> ClaimRefused:
    """One waybill ships one order: a second claim is answered as any refused claim (never
    whose, nor whether the other shipment is the sender's own) and held for review."""
    review = {"carrier": parcel.carrier, "waybill": parcel.waybill, "order_id": order_id}
    return ClaimRefused(
        "waybill", f"{parcel.carrier} {parcel.waybill}", {**review, "held_by_order": owner}
    )

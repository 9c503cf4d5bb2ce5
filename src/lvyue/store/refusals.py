"""The checks of each ingested table, shared by the row-by-row path (``store.write``) and the
bulk path (``bulk``), which looks up what they need once per batch. A module of its own so that
neither path imports the other's module back (no import cycle)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from lvyue.model import format_instant
from lvyue.model.rows import AfterSaleRow, OrderRow, TrackingRow
from lvyue.store.tables import AfterSale, Order

Numbered = tuple[int, Mapping[str, Any], BaseModel]  # (line or row number, raw row, parsed row)
ECHO_CHARS = 200  # how much of a client's own text an error quotes back (ours)


def clip(text: str, limit: int = ECHO_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was: an error names the field
    at fault and quotes the start of the value, never echoes a 5 MB cell back."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


class RowRejected(ValueError):
    """A valid-looking row that cannot be applied. ``kind``: ``conflict`` (taken, already
    shipped), ``not_found`` (unknown or foreign reference), ``forbidden`` (a permission the
    row needs, e.g. ``orders:ship`` for ship fields) or ``invalid``."""

    def __init__(
        self,
        message: str,
        kind: Literal["conflict", "not_found", "forbidden", "invalid"] = "invalid",
    ):
        super().__init__(message)
        self.kind = kind


class ClaimRefused(RowRejected):
    """A claim on what is not the sender's to claim: an order id another shop's order has, a
    (carrier, waybill) another shipment has. Answered alike whatever stands in the way (409,
    never whose, never whether it is the sender's own shop), and kept for an operator's
    review (``ingest.flag_for_review``: quarantine entry + audit ``review.flag`` that only
    operators read): probing or squatting ids shows up there."""

    def __init__(self, field: str, value: str, review: dict[str, Any]) -> None:
        super().__init__(
            f"{field}: {value} cannot be recorded as sent; the claim is held for review",
            "conflict",
        )
        self.field = field
        self.review = review


class ScanHeld(ClaimRefused):
    """A new scan of a live shipment whose time is implausible (``scan_hold``): not applied —
    it would move the verdicts of the order — but kept for an operator's review (accepted
    by replaying it from the quarantine). Answered 202 ``held`` (a batch: quarantined)."""

    def __init__(self, reason: str, review: dict[str, Any]) -> None:
        RowRejected.__init__(self, f"{reason}; the scan is held for review", "conflict")
        self.field = "time"
        self.review = review


# Our bounds (the seeds give none): a carrier reports a scan as it happens, so a new scan of a
# live shipment (the server's clock or a merchant's bounded claim; not the platform's import
# of past shipments) stamped more than SCAN_LAG before it reaches us, or after the clock plus
# CLOCK_SKEW, or before the shipment was accepted, is held for review, never applied silently.
SCAN_LAG = timedelta(hours=24)
SCAN_CLOCK_SKEW = timedelta(minutes=5)
LIVE_SOURCES = frozenset({"server", "claimed"})


def scan_hold(
    row: TrackingRow, shipment: tuple[datetime, str] | None, now: datetime
) -> ScanHeld | None:
    """Why a new scan is held (None: apply it). ``shipment``: (ship time, its source) of the
    shipment with the scan's carrier and waybill, if any."""
    if shipment is None or shipment[1] not in LIVE_SOURCES:
        return None  # no verdict rests on it yet, or the platform's record of the past
    ship_time, _ = shipment
    when = format_instant(row.time)
    if row.time < ship_time:
        reason = f"time: {when} is before the shipment was accepted ({format_instant(ship_time)})"
    elif row.time < now - SCAN_LAG:
        lag = f"{SCAN_LAG.total_seconds() / 3600:g} h"
        reason = f"time: {when} is more than {lag} before it was received"
    elif row.time > now + SCAN_CLOCK_SKEW:
        reason = f"time: {when} is in the future (received {format_instant(now)})"
    else:
        return None
    review = {"carrier": row.carrier, "waybill": row.waybill, "kind": row.kind.value}
    return ScanHeld(reason, {**review, "time": when, "received": format_instant(now)})


@dataclass(frozen=True)
class Scope:
    """What the uploader may write: one merchant's facts and/or one carrier's scans (None: any)."""

    merchant_id: str | None = None
    carrier: str | None = None
    may_ship: bool = False  # holds orders:ship: rows with ship fields ship the order


# The OrderRow fields the store keeps in columns of the orders table (the ship fields go to
# the shipment, the rest to ``extra``): derived, so a column is declared once (model.rows).
ORDER_COLUMNS: set[str] = {c.name for c in Order.__table__.columns} & set(OrderRow.model_fields) - {
    "order_id"
}
# The AfterSaleRow fields the after_sales table keeps (all of them, VF-8's ``reason`` too).
AFTER_SALE_COLUMNS: set[str] = {c.name for c in AfterSale.__table__.columns} & set(
    AfterSaleRow.model_fields
)


def merchant_refusal(merchant_id: str, scope: Scope, exists: bool) -> RowRejected | None:
    if scope.merchant_id is not None and merchant_id != scope.merchant_id:
        return RowRejected(f"merchant_id: {merchant_id!r} is not your shop")
    if not exists:
        return RowRejected(f"merchant_id: unknown merchant {merchant_id!r}")
    return None


def delayed_refusal(delayed_shipping: bool, scope: Scope) -> RowRejected | None:
    """A merchant's order is delayed (延迟发货, SF-4) only through the tool, POST
    /delayed-shipping, which checks the announcement window and audits the setting — never by
    a flag in its own upload (it would grant itself the extended deadline). The platform's
    imports (no merchant scope) keep the flag as recorded."""
    if not delayed_shipping or scope.merchant_id is None:
        return None
    if not scope.may_ship:
        return RowRejected(
            "delayed_shipping: the delayed-shipping tool needs orders:ship", "forbidden"
        )
    return RowRejected(
        "delayed_shipping: a merchant does not set this flag by uploading the order; use the "
        "delayed-shipping tool, POST /delayed-shipping (it checks the announcement window)"
    )


def penalty_refusal(row: OrderRow, scope: Scope) -> RowRejected | None:
    """A settlement penalty (延长账期, VF-6a) is the platform's record of its own measure: a
    merchant's upload that declares one (the flag or its date) is refused, or a merchant could
    pick the date its orders settle on. The platform's imports keep them as recorded."""
    if scope.merchant_id is None:
        return None
    declared = [
        name
        for name, given in (
            ("settlement_extended_penalty", row.settlement_extended_penalty is True),
            ("penalty_settlement_time", row.penalty_settlement_time is not None),
        )
        if given
    ]
    if not declared:
        return None
    return RowRejected(
        f"{declared[0]}: a settlement penalty is recorded by the platform, not "
        "declared by the merchant"
    )


def promotion_refusal(row: OrderRow, stored: tuple[str, str] | None) -> RowRejected | None:
    """An order names the promotion it came from (VF-9): when that promotion is recorded
    (``stored``: its merchant and product), it must be of the order's shop and product — an
    order cannot be counted against another shop's or another product's promotion. An id not
    recorded (yet) is kept as sent: the claim check attributes only orders of a known one."""
    if row.promotion_id is None or stored is None:
        return None
    merchant_id, product_id = stored
    if merchant_id != row.merchant_id or row.product_id not in (None, product_id):
        return RowRejected(
            f"promotion_id: {row.promotion_id!r} is no promotion of this order's product"
        )
    return None


def tracking_refusal(row: TrackingRow, scope: Scope, merchant_shipped: bool) -> RowRejected | None:
    """A carrier pushes only its own scans; a merchant only scans of its own shipments."""
    if scope.carrier is not None and row.carrier != scope.carrier:
        return RowRejected(f"carrier: you push scans for {scope.carrier}, not {row.carrier}")
    if scope.merchant_id is not None and not merchant_shipped:
        return RowRejected(
            f"waybill: no shipment of yours with {row.carrier} {row.waybill}", "not_found"
        )
    return None


def after_sale_refusal(
    row: AfterSaleRow, scope: Scope, order_merchant: str | None
) -> RowRejected | None:
    if order_merchant is None or scope.merchant_id not in (None, order_merchant):
        return RowRejected(f"order_id: unknown order {row.order_id!r}", "not_found")
    return None

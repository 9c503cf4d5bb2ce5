"""The checks of each ingested table, shared by the row-by-row path (``store.write``) and the
bulk path (``bulk``), which looks up what they need once per batch. A module of its own so that
neither path imports the other's module back (no import cycle)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from lvyue.model.cells import cell_is_true
from lvyue.store.rows import AfterSaleRow, OrderRow, TrackingRow

Numbered = tuple[int, Mapping[str, Any], BaseModel]  # (line or row number, raw row, parsed row)


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


@dataclass(frozen=True)
class Scope:
    """What the uploader may write: one merchant's facts and/or one carrier's scans (None: any)."""

    merchant_id: str | None = None
    carrier: str | None = None
    may_ship: bool = False  # holds orders:ship: rows with ship fields ship the order


ORDER_COLUMNS: set[str] = {
    "merchant_id",
    "merchant_type",
    "category",
    "ship_mode",
    "pay_time",
    "promised_ship_time",
    "delayed_shipping",
    "confirmed_receipt_time",
    "product_id",
}


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
            (
                "settlement_extended_penalty",
                cell_is_true((row.model_extra or {}).get("settlement_extended_penalty")),
            ),
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

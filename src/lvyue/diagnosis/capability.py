"""Carrier capability (LD-3): per carrier the merchant ships with, volume and durations."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from lvyue.diagnosis.metrics import grouped

CAPABILITY_METRICS = (
    "pickup_from_pay_h",
    "pickup_from_ship_h",
    "transit_h",
    "pickup_24h_rate",
    "on_time_rate",
    "exception_rate",
)


def carrier_capability(shipments: ir.Table, merchant_id: str) -> ir.Table:
    """One row per carrier: volume, pickup (揽收) and pickup-to-signed (揽签) avg/P50/P90."""
    mine = shipments.filter(
        shipments.merchant_id == merchant_id, shipments.shipped, shipments.carrier.notnull()
    )
    return grouped(mine, ["carrier"], CAPABILITY_METRICS).order_by(ibis.desc("volume"))

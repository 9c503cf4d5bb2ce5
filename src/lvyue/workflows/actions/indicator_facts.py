"""The store as the indicators' facts tables (VF-8): orders with their shipments, tracking,
after-sales requests (with their ``reason``), reviews and complaints, as the facts format
names their columns, so ``lvyue.indicators.build`` reads the service's own data the way it
reads a facts directory (one set of Ibis expressions for both)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from lvyue.store.tables import AfterSale, Complaint, Order, Review, Shipment, TrackingEvent

TIME = pa.timestamp("us", tz="UTC")


def _table(rows: Iterable[Sequence[Any]], schema: pa.Schema) -> pa.Table:
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) or [() for _ in schema]
    return pa.table([pa.array(c, f.type) for c, f in zip(columns, schema, strict=True)], schema)


def _industry(extra: dict[str, Any], category: str) -> str:
    """The order's recorded industry, else its category's first level (as the facts reader)."""
    return str(extra.get("industry") or category.split(">")[0])


def stored_tables(session: Session) -> dict[str, pa.Table | None]:
    orders = session.execute(
        select(Order.order_id, Order.merchant_id, Order.merchant_type, Order.category,
               Order.product_id, Order.pay_time, Order.confirmed_receipt_time, Order.extra,
               Shipment.ship_time, Shipment.carrier, Shipment.waybill)
        .outerjoin(Shipment, Shipment.order_id == Order.order_id)
    )  # fmt: skip
    order_rows = [(*r[:7], _industry(r[7] or {}, r[3]), *r[8:]) for r in orders]
    scans = session.execute(
        select(TrackingEvent.carrier, TrackingEvent.waybill, TrackingEvent.time,
               TrackingEvent.kind)
        .join(Shipment, (Shipment.carrier == TrackingEvent.carrier)
              & (Shipment.waybill == TrackingEvent.waybill))
    )  # fmt: skip
    text = pa.string()
    return {
        "orders": _table(order_rows, pa.schema([
            ("order_id", text), ("merchant_id", text), ("merchant_type", text),
            ("category", text), ("product_id", text), ("pay_time", TIME),
            ("confirmed_receipt_time", TIME), ("industry", text), ("ship_time", TIME),
            ("carrier", text), ("waybill", text)])),
        "tracking": _table(scans, pa.schema([
            ("carrier", text), ("waybill", text), ("time", TIME), ("kind", text)])),
        "after_sales": _table(
            session.execute(select(AfterSale.order_id, AfterSale.type, AfterSale.reason,
                                   AfterSale.created_at)),
            pa.schema([("order_id", text), ("type", text), ("reason", text),
                       ("created_at", TIME)])),
        "reviews": _table(
            session.execute(select(Review.order_id, Review.product_id, Review.rating,
                                   Review.created_at)),
            pa.schema([("order_id", text), ("product_id", text), ("rating", pa.float64()),
                       ("created_at", TIME)])),
        "complaints": _table(
            session.execute(select(Complaint.order_id, Complaint.reason, Complaint.created_at)),
            pa.schema([("order_id", text), ("reason", text), ("created_at", TIME)])),
    }  # fmt: skip

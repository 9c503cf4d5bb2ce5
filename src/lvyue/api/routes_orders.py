"""Reading facts: orders with their shipment, tracking events and after-sales."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from lvyue.api.auth import Principal, current_principal, merchant_scope, own_order, require
from lvyue.api.deps import SessionDep
from lvyue.model import format_instant
from lvyue.store import AfterSale, Order, Shipment, TrackingEvent

router = APIRouter(tags=["facts"], dependencies=[Depends(current_principal)])


class ShipmentOut(BaseModel):
    carrier: str
    waybill: str
    ship_time: str
    ship_time_source: str = Field(
        description="server (the clock when recorded), claimed (the merchant's, within an "
        "hour before recorded_at) or platform (the platform's own record)"
    )
    recorded_at: str | None
    inspection_code: str | None
    packing_video: str | None


class TrackingOut(BaseModel):
    carrier: str
    waybill: str
    time: str
    kind: str
    location: str | None
    text: str | None


class AfterSaleOut(BaseModel):
    aftersale_id: str
    order_id: str
    type: str
    created_at: str
    merchant_handled_at: str | None
    return_shipped_at: str | None
    merchant_received_at: str | None
    return_signed_at: str | None
    refunded_at: str | None
    merchant_decision: str | None = None  # SF-9b: agreed | rejected
    reason: str | None = None  # VF-8: defect, not_as_described, …


class OrderOut(BaseModel):
    order_id: str
    merchant_id: str
    merchant_type: str
    category: str
    ship_mode: str
    pay_time: str
    promised_ship_time: str | None
    delayed_shipping: bool
    confirmed_receipt_time: str | None
    product_id: str | None
    extra: dict[str, Any]
    shipment: ShipmentOut | None


class OrderDetail(OrderOut):
    tracking: list[TrackingOut]
    after_sales: list[AfterSaleOut]


def _iso(moment: Any) -> Any:
    return None if moment is None else format_instant(moment)


def _order_out(order: Order, shipment: Shipment | None) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "merchant_id": order.merchant_id,
        "merchant_type": order.merchant_type,
        "category": order.category,
        "ship_mode": order.ship_mode,
        "pay_time": _iso(order.pay_time),
        "promised_ship_time": _iso(order.promised_ship_time),
        "delayed_shipping": order.delayed_shipping,
        "confirmed_receipt_time": _iso(order.confirmed_receipt_time),
        "product_id": order.product_id,
        "extra": order.extra,
        "shipment": None
        if shipment is None
        else {
            "carrier": shipment.carrier,
            "waybill": shipment.waybill,
            "ship_time": _iso(shipment.ship_time),
            "ship_time_source": shipment.ship_time_source,
            "recorded_at": _iso(shipment.recorded_at),
            "inspection_code": shipment.inspection_code,
            "packing_video": shipment.packing_video,
        },
    }


@router.get("/orders")
def list_orders(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("orders:view"))],
    merchant_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[OrderOut]:
    """Orders, newest payment first; a merchant sees its own, an operator any merchant's."""
    scope = merchant_scope(principal, merchant_id)
    query = select(Order, Shipment).outerjoin(Shipment, Shipment.order_id == Order.order_id)
    if scope is not None:
        query = query.where(Order.merchant_id == scope)
    query = query.order_by(Order.pay_time.desc(), Order.order_id).limit(limit).offset(offset)
    return [OrderOut(**_order_out(o, s)) for o, s in session.execute(query).all()]


@router.get("/orders/{order_id}")
def get_order(
    order_id: str,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("orders:view"))],
) -> OrderDetail:
    """One order with its shipment, tracking events (oldest first) and after-sales."""
    order = own_order(session, principal, order_id)
    shipment = session.get(Shipment, order_id)
    events: list[TrackingEvent] = []
    if shipment is not None:
        events = list(
            session.scalars(
                select(TrackingEvent)
                .where(
                    TrackingEvent.carrier == shipment.carrier,
                    TrackingEvent.waybill == shipment.waybill,
                )
                .order_by(TrackingEvent.time, TrackingEvent.kind)
            )
        )
    after_sales = session.scalars(
        select(AfterSale).where(AfterSale.order_id == order_id).order_by(AfterSale.created_at)
    ).all()
    return OrderDetail(
        **_order_out(order, shipment),
        tracking=[
            TrackingOut(
                carrier=e.carrier,
                waybill=e.waybill,
                time=_iso(e.time),
                kind=e.kind,
                location=e.location,
                text=e.text,
            )
            for e in events
        ],
        after_sales=[
            AfterSaleOut(
                aftersale_id=a.aftersale_id,
                order_id=a.order_id,
                type=a.type,
                created_at=_iso(a.created_at),
                merchant_handled_at=_iso(a.merchant_handled_at),
                return_shipped_at=_iso(a.return_shipped_at),
                merchant_received_at=_iso(a.merchant_received_at),
                return_signed_at=_iso(a.return_signed_at),
                refunded_at=_iso(a.refunded_at),
                merchant_decision=a.merchant_decision,
                reason=a.reason,
            )
            for a in after_sales
        ],
    )

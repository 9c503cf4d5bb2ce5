"""Reading the core order tables into what the rulebook reads (OrderContext)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from lvyue.model.cells import cell_is_true
from lvyue.model.enums import MerchantType, ShipMode
from lvyue.rulebook.context import FLAGS, Clock, OrderContext
from lvyue.store.tables import Merchant, Order, Shipment
from lvyue.workflows.actions.common import NotFound


def load_order(
    session: Session,
    order_id: str,
    merchant_id: str | None = None,
    consumer_id: str | None = None,
) -> Order:
    """The order; ``NotFound`` when missing or (with ``merchant_id``) another tenant's or (with
    ``consumer_id``) another consumer's — the same answer, so no id can be probed."""
    order = session.get(Order, order_id)
    if (
        order is None
        or (merchant_id is not None and order.merchant_id != merchant_id)
        or (consumer_id is not None and order.extra.get("consumer_id") != consumer_id)
    ):
        raise NotFound(f"order {order_id} not found")
    return order


def order_context(session: Session, order: Order, **clocks: datetime | None) -> OrderContext:
    """The order as the rulebook sees it, with its known instants plus ``clocks``."""
    merchant = session.get(Merchant, order.merchant_id)
    established = merchant is not None and merchant.established_store
    return context_of(order, session.get(Shipment, order.order_id), established, **clocks)


def context_of(
    order: Order, shipment: Shipment | None, established_store: bool, **clocks: datetime | None
) -> OrderContext:
    """``order_context`` from rows already loaded (the batch path of ``facts_for``)."""
    flags = {f for f in FLAGS if cell_is_true(order.extra.get(f))}
    if order.delayed_shipping:
        flags.add("delayed_shipping")
    if established_store:
        flags.add("established_store")
    known: dict[Clock, datetime] = {Clock.PAY_TIME: order.pay_time}
    if order.promised_ship_time is not None:
        known[Clock.PROMISED_SHIP_TIME] = order.promised_ship_time
    if shipment is not None:
        known[Clock.SHIP_TIME] = shipment.ship_time
    if order.confirmed_receipt_time is not None:
        known[Clock.RECEIPT_TIME] = order.confirmed_receipt_time
    for name, moment in clocks.items():
        if moment is not None:
            known[Clock(name)] = moment
    return OrderContext(
        merchant_type=MerchantType(order.merchant_type),
        category=order.category,
        ship_mode=ShipMode(order.ship_mode),
        flags=frozenset(flags),
        clocks=known,
    )

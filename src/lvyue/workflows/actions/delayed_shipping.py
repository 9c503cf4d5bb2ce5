"""Setting the delayed-shipping tool on a product (SF-4, VF-3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lvyue.model.enums import MerchantType, ShipMode
from lvyue.store.audit import audit
from lvyue.store.tables import Merchant, Order, Shipment
from lvyue.store.workflow_tables import DelayedShipping
from lvyue.workflows import delayed_shipping as tool
from lvyue.workflows.actions.common import NotFound, merchant_rows
from lvyue.workflows.machine import Conflict, Refusal
from lvyue.workflows.rules import Rules


def set_tool(
    session: Session,
    rules: Rules,
    *,
    merchant_id: str,
    product_id: str,
    category: str,
    ship_mode: ShipMode,
    actor: str,
    now: datetime,
) -> DelayedShipping:
    """Set the tool if the rulebook allows it now and for the product's paid, unshipped orders."""
    merchant = session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound(f"merchant {merchant_id} not found")
    if session.get(DelayedShipping, product_id) is not None:
        raise Conflict(f"product {product_id} already has the tool set", field="product_id")
    orders = session.scalars(
        select(Order)
        .outerjoin(Shipment, Shipment.order_id == Order.order_id)
        .where(
            Order.merchant_id == merchant_id,
            Order.product_id == product_id,
            Shipment.order_id.is_(None),
        )
    ).all()
    product = tool.Product(product_id, MerchantType(merchant.merchant_type), category, ship_mode)
    try:
        decision = tool.decide(rules, product, now, [(o.order_id, o.pay_time) for o in orders])
    except Refusal as refusal:
        audit(
            session,
            actor=actor,
            action="delayed_shipping.refused",
            entity="product",
            entity_id=product_id,
            merchant_id=merchant_id,
            clause=refusal.clause,
            detail={"reason": refusal.message},
            at=now,
        )
        session.commit()  # the refusal is a rule-driven decision: keep its audit entry
        raise
    row = DelayedShipping(
        product_id=product_id,
        merchant_id=merchant_id,
        category=category,
        ship_mode=ship_mode.value,
        clause=decision.clause,
        order_ids=list(decision.order_ids),
        set_by=actor,
        set_at=now,
    )
    session.add(row)
    for order in orders:
        order.delayed_shipping = True
    session.flush()
    audit(
        session,
        actor=actor,
        action="delayed_shipping.set",
        entity="product",
        entity_id=product_id,
        merchant_id=merchant_id,
        clause=decision.clause,
        detail={"orders": list(decision.order_ids)},
        at=now,
    )
    return row


def of_merchant(session: Session, merchant_id: str | None) -> list[DelayedShipping]:
    return merchant_rows(session, DelayedShipping, merchant_id, DelayedShipping.product_id)

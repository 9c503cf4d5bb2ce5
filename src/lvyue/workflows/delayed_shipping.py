"""Delayed-shipping tool (延迟发货工具, SF-4, VF-3): may a merchant set it on a product?

Allowed only where the rulebook's ``ship.delayed_tool_allowed`` resolves true for the
product at the time of setting and for every paid, unshipped order it would apply to; a
refusal names the clause that forbids it (e.g. VF-3 for flowers in the Valentine window, or
the daily clause when no announcement window allows it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from lvyue.model.enums import MerchantType, ShipMode
from lvyue.rulebook.context import Clock, OrderContext
from lvyue.workflows.machine import Refusal
from lvyue.workflows.rules import Rules, cited

PARAMETER = "ship.delayed_tool_allowed"


@dataclass(frozen=True)
class Product:
    product_id: str
    merchant_type: MerchantType
    category: str
    ship_mode: ShipMode


@dataclass(frozen=True)
class Decision:
    """The tool was allowed: by which clause, and for which orders."""

    product_id: str
    clause: str
    order_ids: tuple[str, ...]


def _context(product: Product, paid_at: datetime) -> OrderContext:
    return OrderContext(
        merchant_type=product.merchant_type,
        category=product.category,
        ship_mode=product.ship_mode,
        flags=frozenset({"delayed_shipping"}),
        clocks={Clock.PAY_TIME: paid_at},
    )


def decide(
    rules: Rules,
    product: Product,
    at: datetime,
    paid_orders: Iterable[tuple[str, datetime]] = (),
) -> Decision:
    """Allow the tool on ``product`` at ``at`` or raise ``Refusal`` naming the clause.

    ``paid_orders`` are (order id, pay time) of the product's paid, unshipped orders the
    setting would apply to: each must be allowed on its own payment time (SF-4: window
    orders; VF-3: not for flowers paid in the Valentine window).
    """
    answer = cited(rules.resolve(PARAMETER, _context(product, at)))
    if answer.value is not True:
        raise Refusal(
            f"product {product.product_id}: the delayed-shipping tool is not allowed for "
            f"{product.category} now ({answer.clause_id})",
            clause=answer.clause_id,
            field="product_id",
        )
    orders = tuple(paid_orders)
    for order_id, paid_at in orders:
        per_order = cited(rules.resolve(PARAMETER, _context(product, paid_at)))
        if per_order.value is not True:
            raise Refusal(
                f"order {order_id} of product {product.product_id}: the delayed-shipping "
                f"tool is not allowed for orders paid then ({per_order.clause_id})",
                clause=per_order.clause_id,
                field="product_id",
            )
    return Decision(product.product_id, answer.clause_id, tuple(o for o, _ in orders))

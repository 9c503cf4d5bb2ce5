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

from lvyue.engine.checks import MODE_RULE
from lvyue.model.enums import MerchantType, ShipMode
from lvyue.rulebook.context import Clock, OrderContext
from lvyue.workflows.machine import Refusal
from lvyue.workflows.rules import Rules, cited

PARAMETER = MODE_RULE.tool  # the ship-mode check's (engine.checks)
WINDOW_CLAUSE = "SF-4"  # the tool exists only in windows an announcement opens


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
    clause = _allowed(rules, product, at, f"product {product.product_id} now")
    orders = tuple(paid_orders)
    for order_id, paid_at in orders:
        _allowed(rules, product, paid_at, f"order {order_id} of product {product.product_id}")
    return Decision(product.product_id, clause, tuple(o for o, _ in orders))


def _allowed(rules: Rules, product: Product, paid_at: datetime, what: str) -> str:
    """The clause allowing the tool for an order paid at ``paid_at``, else ``Refusal``."""
    answer = cited(rules.resolve(PARAMETER, _context(product, paid_at)))
    if answer is None:
        raise Refusal(
            f"{what}: no announcement window allows the delayed-shipping tool for "
            f"{product.category} ({WINDOW_CLAUSE})",
            clause=WINDOW_CLAUSE,
            field="product_id",
        )
    if answer.value is not True:
        raise Refusal(
            f"{what}: the delayed-shipping tool is not allowed for {product.category} "
            f"({answer.clause_id})",
            clause=answer.clause_id,
            field="product_id",
        )
    return answer.clause_id

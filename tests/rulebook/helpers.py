"""Small builders shared by the rulebook tests."""

from __future__ import annotations

from datetime import datetime

from lvyue.model.enums import MerchantType, ShipMode
from lvyue.model.time import parse_instant
from lvyue.rulebook import Clock, OrderContext

FLOWER = "鲜花速递/花卉仿真/绿植园艺>生活鲜花"
FLOWER_CITY = "鲜花速递/花卉仿真/绿植园艺>鲜花速递(同城)"
PHONE = "二手商品>二手3C数码>手机"
SHOES = "服饰内衣>鞋"


def bj(text: str) -> datetime:
    """A Beijing wall-clock time as an aware instant."""
    return parse_instant(text)


def order(
    merchant_type: str = "domestic",
    category: str = SHOES,
    ship_mode: str = "spot",
    flags: tuple[str, ...] = (),
    **clocks: str,
) -> OrderContext:
    return OrderContext(
        merchant_type=MerchantType(merchant_type),
        category=category,
        ship_mode=ShipMode(ship_mode),
        flags=frozenset(flags),
        clocks={Clock(name): bj(value) for name, value in clocks.items()},
    )

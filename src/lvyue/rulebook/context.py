"""What the resolver reads of an order, and what it answers.

This module is the contract between the rulebook and its users (engine, workflows,
service). Keep it small and stable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from lvyue.model.cells import read_flag
from lvyue.model.enums import MerchantType, ShipMode
from lvyue.model.time import InstantError, parse_instant


class Clock(StrEnum):
    """The instant of an order a window is read on, or a duration is counted from (GN-2)."""

    CREATED_TIME = "created_time"  # 订单提交时间 (DR-7 counts from the order's submission)
    PAY_TIME = "pay_time"  # 支付完成时间
    PROMISED_SHIP_TIME = "promised_ship_time"  # 承诺发货时间 (presale)
    SHIP_TIME = "ship_time"  # 发货时间: tracking number uploaded
    PICKUP_TIME = "pickup_time"  # first pickup scan 揽收
    AFTERSALE_CREATED = "aftersale_created"  # 售后申请时间
    AFTERSALE_AGREED = "aftersale_agreed"  # merchant agreed to return/exchange
    RETURN_SHIPPED = "return_shipped"  # consumer uploaded the return tracking number
    RETURN_SIGNED = "return_signed"  # the return parcel was signed
    RECEIPT_TIME = "receipt_time"  # 确认收货时间
    AGREED_SHIP_TIME = "agreed_ship_time"  # SF-1 双方另有约定: a ship time both parties agreed
    ACTIVITY_SHIP_DEADLINE = "activity_ship_deadline"  # SF-2: the activity's own deadline
    PENALTY_SETTLEMENT_TIME = "penalty_settlement_time"  # VF-6: the 延长账期 penalty's date
    WEEK_START = "week_start"  # governance weeks (ISO week, Monday 00:00 Beijing)
    PERIOD_END = "period_end"  # the end of an indicator period (VF-8, lvyue.indicators)


# Product and merchant flags a scope may require to be true or false.
FLAGS: tuple[str, ...] = (
    "delayed_shipping",  # 延迟发货工具 set on the product/order
    "festival_open",  # 春节不打烊
    "established_store",  # DR-5: established store, experience score >= 4.4
    "settlement_extended_penalty",  # VF-6: settlement period already extended as a penalty
    # SF-9 商家已点击发货状态下: the merchant had shipped when the after-sales request was made
    "shipped_before_aftersale",
    "pre_inspection",  # BT-7: the product was listed with 前置质检/查验场景 ticked
    # derived by the engine (engine/clocks.py), not columns: the order carries an agreed ship
    # time (SF-1) / belongs to a platform festival activity (SF-2)
    "ship_time_agreed",
    "festival_activity",
)


@dataclass(frozen=True)
class OrderContext:
    """The facts of one order the rulebook's scopes and windows are read on.

    ``clocks`` holds the order's instants (aware); a clock the order has not reached yet
    (e.g. no ship_time) is simply absent.
    """

    merchant_type: MerchantType
    category: str  # full path, levels joined by ">"
    ship_mode: ShipMode
    flags: frozenset[str] = frozenset()
    clocks: Mapping[Clock, datetime] = field(default_factory=dict)


# Facts-format column names that mean a clock (docs/formats.md).
_CLOCKS = {c.value: c for c in Clock}
_CLOCK_ALIASES = {
    "confirmed_receipt_time": Clock.RECEIPT_TIME,  # orders
    "return_shipped_at": Clock.RETURN_SHIPPED,  # after_sales
    "return_signed_at": Clock.RETURN_SIGNED,
}


def order_context(data: Mapping[str, object]) -> OrderContext:
    """An OrderContext from a JSON-like mapping (facts-format names; naive times = Beijing).

    Flags come as ``flags: [..]`` or as one boolean per flag name. Raises ValueError with a
    one-line message naming the field.
    """
    try:
        merchant_type = MerchantType(str(data.get("merchant_type", "domestic")))
        ship_mode = ShipMode(str(data.get("ship_mode", "spot")))
    except ValueError as exc:
        raise ValueError(f"order: {exc}") from None
    flags = set(_flag_list(data.get("flags")))
    for flag in FLAGS:
        if flag in data and _truthy(data[flag], flag):
            flags.add(flag)
    clocks: dict[Clock, datetime] = {}
    for key, raw in data.items():
        clock = _CLOCK_ALIASES.get(key) or (
            Clock(key) if key in Clock.__members__.values() else None
        )
        if clock is None or raw in (None, ""):
            continue
        try:
            clocks[clock] = parse_instant(raw if isinstance(raw, str | datetime) else str(raw))
        except InstantError as exc:
            raise ValueError(f"order field {key}: {exc}") from None
    category = data.get("category", "")
    return OrderContext(merchant_type, str(category or ""), ship_mode, frozenset(flags), clocks)


def _flag_list(raw: object) -> list[str]:
    if raw is None:
        return []
    items = raw.split(";") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple):
        raise ValueError("order field flags: expected a list of flag names")
    names = [str(i).strip() for i in items if str(i).strip()]
    for name in names:
        if name not in FLAGS:
            raise ValueError(
                f"order field flags: unknown flag {name!r} (known: {', '.join(FLAGS)})"
            )
    return names


def _truthy(raw: object, field: str) -> bool:
    """A flag as every reader reads it (model.cells.read_flag); empty is false."""
    return read_flag(raw, f"order field {field}") is True

"""What the resolver reads of an order, and what it answers.

This module is the contract between the rulebook and its users (engine, workflows,
service). Keep it small and stable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from lvyue.model.enums import MerchantType, ShipMode


class Clock(StrEnum):
    """The instant of an order a window is read on, or a duration is counted from (GN-2)."""

    PAY_TIME = "pay_time"  # 支付完成时间
    PROMISED_SHIP_TIME = "promised_ship_time"  # 承诺发货时间 (presale)
    SHIP_TIME = "ship_time"  # 发货时间: tracking number uploaded
    PICKUP_TIME = "pickup_time"  # first pickup scan 揽收
    AFTERSALE_CREATED = "aftersale_created"  # 售后申请时间
    AFTERSALE_AGREED = "aftersale_agreed"  # merchant agreed to return/exchange
    RETURN_SHIPPED = "return_shipped"  # consumer uploaded the return tracking number
    RETURN_SIGNED = "return_signed"  # the return parcel was signed
    RECEIPT_TIME = "receipt_time"  # 确认收货时间
    WEEK_START = "week_start"  # governance weeks (ISO week, Monday 00:00 Beijing)


# Product and merchant flags a scope may require to be true or false.
FLAGS: tuple[str, ...] = (
    "delayed_shipping",  # 延迟发货工具 set on the product/order
    "festival_open",  # 春节不打烊
    "established_store",  # DR-5: established store, experience score >= 4.4
    "settlement_extended_penalty",  # VF-6: settlement period already extended as a penalty
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

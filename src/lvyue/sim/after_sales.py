"""After-sales requests (售后) of one chunk with their step times, some injected late."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from lvyue.model.enums import AfterSaleType, Check, MerchantDecision, VerdictStatus
from lvyue.sim.labels import Labels
from lvyue.sim.orders import NONE, Columns
from lvyue.sim.seasons import DAY, HOUR
from lvyue.sim.world import World

TYPES = (AfterSaleType.REFUND_ONLY, AfterSaleType.RETURN_REFUND, AfterSaleType.EXCHANGE)
REFUND_ONLY, RETURN_REFUND, EXCHANGE = 0, 1, 2
EXCHANGE_SHARE = 0.015  # of settled orders
LATE_SHARE = 0.01  # of requests, per injected timeout
# Past SF-9's relaxed limits (10 d, 21 d, 21 d) by at least a day: late under any rule.
LATE_CONFIRM_DAYS, LATE_RECEIVE_DAYS, LATE_REFUND_DAYS = 11, 22, 22


def after_sales_table(
    world: World, rng: np.random.Generator, o: Columns, order_ids: pa.StringArray, labels: Labels
) -> pa.Table:
    n = len(o["pay"])
    exchange = o["settled"] & (rng.random(n) < EXCHANGE_SHARE)
    rows = np.flatnonzero(o["refunded"] | exchange)
    k = len(rows)
    kind = np.full(k, REFUND_ONLY)
    goods_back = o["refunded_after_delivery"][rows] & (rng.random(k) < 0.7)
    kind[goods_back] = RETURN_REFUND
    kind[exchange[rows]] = EXCHANGE
    created = np.select(
        [o["cancelled"][rows], o["returned"][rows]],
        [
            o["pay"][rows] + rng.integers(HOUR // 2, 40 * HOUR, k),
            o["returned_at"][rows] + rng.integers(HOUR, 2 * DAY, k),
        ],
        o["signed"][rows] + rng.integers(2 * HOUR, 6 * DAY, k),
    )
    speed = world.merchant_speed[o["merchant"][rows]]
    u = rng.random(k)
    late_confirm = u < LATE_SHARE
    has_goods = kind != REFUND_ONLY
    late_receive = has_goods & (u >= LATE_SHARE) & (u < 3 * LATE_SHARE)
    late_refund = has_goods & (u >= 3 * LATE_SHARE) & (u < 5 * LATE_SHARE)

    handled = created + (speed * rng.lognormal(np.log(8.0), 0.9, k) * HOUR).astype(np.int64)
    handled = np.where(
        late_confirm, created + LATE_CONFIRM_DAYS * DAY + rng.integers(0, 5 * DAY, k), handled
    )
    shipped_back = handled + (rng.lognormal(np.log(30.0), 0.7, k) * HOUR).astype(np.int64)
    signed_back = shipped_back + rng.integers(40 * HOUR, 100 * HOUR, k)
    received = signed_back + (speed * rng.lognormal(np.log(10.0), 0.8, k) * HOUR).astype(np.int64)
    received = np.where(
        late_receive, shipped_back + LATE_RECEIVE_DAYS * DAY + rng.integers(0, 5 * DAY, k), received
    )
    refunded = received + rng.integers(HOUR // 2, 20 * HOUR, k)
    refunded = np.where(
        late_refund, signed_back + LATE_REFUND_DAYS * DAY + rng.integers(0, 5 * DAY, k), refunded
    )
    refunded = np.where(has_goods, refunded, handled + rng.integers(HOUR // 10, 6 * HOUR, k))

    ids = pa.compute.binary_join_element_wise("AS", order_ids.take(pa.array(rows)), "")
    for mask, check, days, clock in (
        (late_confirm, Check.AFTERSALE_MERCHANT_CONFIRM, LATE_CONFIRM_DAYS, "request"),
        (late_receive, Check.AFTERSALE_MERCHANT_RECEIVE, LATE_RECEIVE_DAYS, "return upload"),
        (late_refund, Check.AFTERSALE_REFUND, LATE_REFUND_DAYS, "return signed"),
    ):
        note = f"injected: merchant acted >= {days} days after the {clock} (SF-9: {days - 1})"
        labels.add(rows[mask], check, VerdictStatus.VIOLATED, note, ids.filter(pa.array(mask)))

    goods = has_goods
    return pa.table(
        {
            "aftersale_id": ids,
            "order_id": order_ids.take(pa.array(rows)),
            "type": pa.array([t.value for t in TYPES], pa.string()).take(pa.array(kind)),
            "created_at": created,
            "merchant_handled_at": handled,
            "return_shipped_at": np.where(goods, shipped_back, NONE),
            "merchant_received_at": np.where(goods, received, NONE),
            "return_signed_at": np.where(goods, signed_back, NONE),
            "refunded_at": refunded,
            # every simulated request ends refunded or re-shipped: the merchant agreed (SF-9b)
            "merchant_decision": pa.array(np.full(k, MerchantDecision.AGREED.value), pa.string()),
        }
    )

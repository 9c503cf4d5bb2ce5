"""Consumer experience facts of one chunk (VF-8): after-sales reasons, reviews, complaints.

Some merchants are abnormal on purpose (``abnormal_merchants``), each in one way, and the
``abnormal_merchants`` table labels them (the ground truth ``lvyue indicators`` is scored
against). Every rate here is the simulator's own choice (docs/simulator.md), not a rule.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from lvyue.model.enums import AfterSaleReason, ComplaintReason
from lvyue.sim.orders import NONE, Columns
from lvyue.sim.seasons import DAY, HOUR
from lvyue.sim.world import World

NORMAL, QUALITY, COMPLAINTS, REVIEWS = 0, 1, 2, 3
KIND_NAMES = ("normal", "quality", "complaints", "reviews")
ABNORMAL_SHARE = 0.08  # of merchants expected to sell at least MIN_EXPECTED_ORDERS
MIN_EXPECTED_ORDERS = 150  # fewer: too few orders for any indicator to tell
QUALITY_EXTRA_REFUND = 0.07  # quality-abnormal merchants: more refunds after delivery

AS_REASONS = tuple(r.value for r in AfterSaleReason)
# After-delivery reason mix (defect, not_as_described, logistics, no_longer_wanted, other)
# by merchant kind (normal, quality, complaints, reviews).
_USUAL_REASONS = (0.08, 0.06, 0.12, 0.62, 0.12)
AFTER_DELIVERY_MIX = np.array(
    [_USUAL_REASONS, (0.45, 0.30, 0.05, 0.15, 0.05), _USUAL_REASONS, _USUAL_REASONS]
)
REVIEW_SHARE = 0.35  # delivered orders that get a review
# Star distribution (1..5) of a review, by merchant kind.
_USUAL_STARS = (0.02, 0.02, 0.06, 0.20, 0.70)
STARS = np.array(
    [_USUAL_STARS, (0.15, 0.10, 0.15, 0.20, 0.40), _USUAL_STARS, (0.22, 0.12, 0.16, 0.20, 0.30)]
)
QUALITY_RETURN_STARS = (0.55, 0.25, 0.10, 0.05, 0.05)  # after a defect / not-as-described request
COMPLAINT_SHARE = np.array([0.004, 0.012, 0.04, 0.006])  # by merchant kind
CP_REASONS = tuple(r.value for r in ComplaintReason)
COMPLAINT_MIX = (0.30, 0.20, 0.0, 0.35, 0.05, 0.10)  # logistics complaints come from orders


def abnormal_merchants(world: World) -> npt.NDArray[np.int64]:
    """Per merchant: NORMAL or the way it is abnormal (own random stream: other draws keep)."""
    rng = np.random.default_rng([world.seed, 9])
    share = np.diff(world.merchant_cdf, prepend=0.0)
    eligible = np.flatnonzero(share * world.orders >= MIN_EXPECTED_ORDERS)
    kind = np.zeros(len(share), np.int64)
    k = max(3, round(ABNORMAL_SHARE * len(eligible))) if len(eligible) >= 6 else 0
    chosen = rng.choice(eligible, size=min(k, len(eligible)), replace=False)
    kind[chosen] = QUALITY + np.arange(len(chosen)) % 3
    return kind


def abnormal_table(world: World) -> pa.Table:
    """The labels: which merchants are abnormal on purpose, and how."""
    kind = abnormal_merchants(world)
    rows = np.flatnonzero(kind != NORMAL)
    notes = {
        QUALITY: "injected: defect / not-as-described after-sales, more refunds, low ratings",
        COMPLAINTS: f"injected: complaint rate x{COMPLAINT_SHARE[2] / COMPLAINT_SHARE[0]:g}",
        REVIEWS: "injected: 1-2 star reviews about a third of all reviews",
    }
    return pa.table(
        {
            "merchant_id": world.merchant_id.take(pa.array(rows, pa.int64())),
            "kind": pa.array([KIND_NAMES[k] for k in kind[rows]], pa.string()),
            "note": pa.array([notes[int(k)] for k in kind[rows]], pa.string()),
        }
    )


def extra_refund(world: World, merchant: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Added refund probability after delivery (quality-abnormal merchants)."""
    kind = abnormal_merchants(world)[merchant]
    return np.where(kind == QUALITY, QUALITY_EXTRA_REFUND, 0.0)


def _pick(rng: np.random.Generator, mixes: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """One draw per row from that row's distribution (rows of ``mixes`` sum to 1)."""
    u = rng.random(len(mixes))[:, None]
    picked = (u > np.cumsum(mixes, axis=1)).sum(axis=1).astype(np.int64)
    capped: npt.NDArray[np.int64] = np.minimum(picked, mixes.shape[1] - 1)
    return capped


def with_reasons(
    world: World, rng: np.random.Generator, o: Columns, order_ids: pa.StringArray, after: pa.Table
) -> tuple[pa.Table, npt.NDArray[np.bool_]]:
    """The after-sales table with ``reason``; and per order row: a quality request made."""
    rows = pc.index_in(after["order_id"], value_set=order_ids).to_numpy(zero_copy_only=False)
    kind = abnormal_merchants(world)[o["merchant"][rows]]
    reason = _pick(rng, AFTER_DELIVERY_MIX[kind])
    before = o["cancelled"][rows] & ~o["refunded_after_delivery"][rows]
    reason = np.where(before, 3, reason)  # cancelled before delivery: no longer wanted
    reason = np.where(o["returned"][rows] & ~o["refunded_after_delivery"][rows], 2, reason)
    quality = np.zeros(len(o["pay"]), bool)
    quality[rows[reason <= 1]] = True
    table = after.append_column("reason", pa.array(AS_REASONS, pa.string()).take(pa.array(reason)))
    return table, quality


# Ours: the simulated platform steps into every defect and not-as-described request on the
# festival's flower orders (VF-8a) and into half of the quality-abnormal merchants' (any
# order), an hour to two days after each was made; the engine reads an intervention only on
# the festival's flower orders (the others exercise that).
INTERVENE_SHARE = 0.5
QUALITY_REASONS = ("defect", "not_as_described")


def with_interventions(
    world: World, rng: np.random.Generator, o: Columns, order_ids: pa.StringArray, after: pa.Table
) -> pa.Table:
    """The after-sales table with ``intervention`` and ``intervened_at`` (VF-8a): 仅退款 on a
    refund-only request, else 退货退款 or 退货运费由商家承担 (an exchange: always the latter)."""
    rows = pc.index_in(after["order_id"], value_set=order_ids).to_numpy(zero_copy_only=False)
    kind = abnormal_merchants(world)[o["merchant"][rows]]
    quality = pc.is_in(after["reason"], pa.array(QUALITY_REASONS)).to_numpy(zero_copy_only=False)
    festival = o["flower"][rows] & o["in_vf"][rows]
    drawn = rng.random(len(rows)) < INTERVENE_SHARE
    picked = quality & (festival | ((kind == QUALITY) & drawn))
    types = after["type"].to_numpy(zero_copy_only=False)
    shipping = (types == "exchange") | (rng.random(len(rows)) < 0.5)
    name = np.where(types == "refund_only", "refund_only",
                    np.where(shipping, "return_shipping_merchant", "return_refund"))  # fmt: skip
    created = after["created_at"].to_numpy(zero_copy_only=False)
    at = np.where(picked, created + rng.integers(HOUR, 2 * DAY, len(rows)), NONE)
    table = after.append_column("intervention", pa.array(name, pa.string(), mask=~picked))
    return table.append_column("intervened_at", pa.array(at, pa.int64()))


def reviews_table(
    world: World,
    rng: np.random.Generator,
    o: Columns,
    order_ids: pa.StringArray,
    quality: npt.NDArray[np.bool_],
) -> pa.Table:
    delivered = o["signed"] != NONE
    rows = np.flatnonzero(delivered & (rng.random(len(delivered)) < REVIEW_SHARE))
    kind = abnormal_merchants(world)[o["merchant"][rows]]
    mix = STARS[kind]
    mix[quality[rows]] = QUALITY_RETURN_STARS
    stars = _pick(rng, mix) + 1
    created = o["signed"][rows] + rng.integers(2 * HOUR, 10 * DAY, len(rows))
    return pa.table(
        {
            "review_id": pc.binary_join_element_wise("RV", order_ids.take(pa.array(rows)), ""),
            "order_id": order_ids.take(pa.array(rows)),
            "product_id": world.product_id.take(pa.array(o["product"][rows])),
            "rating": stars.astype(np.int64),
            "created_at": created,
        }
    )


def complaints_table(
    world: World,
    rng: np.random.Generator,
    o: Columns,
    order_ids: pa.StringArray,
    quality: npt.NDArray[np.bool_],
) -> pa.Table:
    """Logistics complaints are the orders' own ``complained`` flag; others drawn here."""
    shipped = o["ship"] != NONE
    kind = abnormal_merchants(world)[o["merchant"]]
    share = COMPLAINT_SHARE[kind]
    share = np.where(quality, share + 0.10, share)  # a defect request often ends in a complaint
    drawn = shipped & (rng.random(len(shipped)) < share)
    reason = _pick(rng, np.tile(COMPLAINT_MIX, (len(shipped), 1)))
    logistics = CP_REASONS.index(ComplaintReason.LOGISTICS.value)
    reason = np.where(o["complained"], logistics, reason)
    rows = np.flatnonzero(drawn | o["complained"])
    start = np.where(o["signed"][rows] != NONE, o["signed"][rows], o["ship"][rows])
    created = start + rng.integers(HOUR, 7 * DAY, len(rows))
    return pa.table(
        {
            "complaint_id": pc.binary_join_element_wise("CP", order_ids.take(pa.array(rows)), ""),
            "order_id": order_ids.take(pa.array(rows)),
            "reason": pa.array(CP_REASONS, pa.string()).take(pa.array(reason[rows])),
            "created_at": created,
        }
    )

"""Outcomes of one chunk drawn from the true model (lvyue.sim.truth): refunds, settlement
(结算), logistics complaints, confirmed receipt."""

from __future__ import annotations

import numpy as np

from lvyue.sim import truth
from lvyue.sim.experience import extra_refund
from lvyue.sim.orders import NONE, Columns
from lvyue.sim.seasons import DAY, HOUR
from lvyue.sim.world import DOMESTIC, World

BUYER_CONFIRMS = 0.6  # share of buyers who confirm receipt before the automatic confirmation
AUTO_RECEIPT_DAYS = 15  # DR-4 (signed parcels)
SETTLE_DAYS, SETTLE_DAYS_ESTABLISHED, SETTLE_DAYS_VF = 10, 4, 30  # DR-5, VF-6


def draw_outcomes(world: World, rng: np.random.Generator, o: Columns) -> None:
    n, m = len(o["pay"]), o["merchant"]
    shipped = o["ship"] != NONE
    delivered = o["signed"] != NONE
    pickup_hours = np.nan_to_num(o["pickup_hours"])
    ratio = np.nan_to_num(o["transit_ratio"], nan=1.0)
    exception = o["exception"].astype(np.float64)
    base = truth.baselines("refund")[o["industry"]]
    p_refund = truth.refund_from_baseline(base, pickup_hours, ratio, exception)
    p_refund = p_refund + extra_refund(world, m)  # VF-8: quality-abnormal merchants
    refunded_after = delivered & (rng.random(n) < p_refund)
    o["refunded_after_delivery"] = refunded_after
    o["refunded"] = o["cancelled"] | o["returned"] | refunded_after
    base = truth.baselines("complaint")[o["industry"]]
    p_complaint = truth.complaint_from_baseline(base, pickup_hours, ratio, exception)
    o["complained"] = shipped & (rng.random(n) < p_complaint)

    confirm = o["signed"] + rng.integers(2 * HOUR, 5 * DAY, n)
    auto = np.maximum(o["ship"] + AUTO_RECEIPT_DAYS * DAY, o["signed"] + HOUR)
    receipt = np.where(rng.random(n) < BUYER_CONFIRMS, confirm, auto)
    keeps = delivered & ~refunded_after
    o["receipt"] = np.where(keeps, receipt, NONE)
    days = np.where(world.merchant_established[m], SETTLE_DAYS_ESTABLISHED, SETTLE_DAYS)
    vf = o["flower"] & o["in_vf"] & (o["mtype"] == DOMESTIC) & ~world.merchant_penalty[m]
    days = np.where(vf, SETTLE_DAYS_VF, days)
    o["settled"] = keeps
    o["settled_at"] = np.where(keeps, receipt + days * DAY, NONE)


def excess_sums(o: Columns, merchants: int) -> np.ndarray:
    """Per merchant: [orders, shipped, sum pickup excess, sum transit excess, exceptions]."""
    shipped = o["ship"] != NONE
    xp, xt = truth.excess(
        np.nan_to_num(o["pickup_hours"]), np.nan_to_num(o["transit_ratio"], nan=1.0)
    )
    m = o["merchant"]
    columns = [
        np.ones(len(m)),
        shipped,
        np.where(shipped, xp, 0.0),
        np.where(shipped, xt, 0.0),
        o["exception"],
    ]
    return np.stack(
        [np.bincount(m, weights=np.asarray(c, np.float64), minlength=merchants) for c in columns],
        axis=1,
    )

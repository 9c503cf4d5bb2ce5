"""Orders of one chunk: who buys what when, when the merchant ships, and the injected
shipping violations. Arrays are per order; instants are int64 epoch seconds, NONE = never."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from lvyue.sim import data, seasons
from lvyue.sim.seasons import DAY, HOUR, bj, within
from lvyue.sim.world import CROSS_BORDER, DOMESTIC, FACTORY_DIRECT, PRESALE, SPOT, STEP, World

Columns = dict[str, npt.NDArray[Any]]
NONE = np.iinfo(np.int64).min

# SF-5 cross-border presale: how the parcel travels (orders.cross_border_mode), by order index
# (no random draw, so the other streams stay as they were): even = 海外集货, odd = BBC保税.
NO_MODE, CONSOLIDATION, BONDED = -1, 0, 1
CROSS_BORDER_MODES = ("overseas_consolidation", "bbc_bonded")
LATE_WAREHOUSE_EVERY = 2  # of clean consolidation orders in the SF window uploaded in time
WAREHOUSE_BEFORE_UPLOAD = 6 * HOUR  # the warehouse records the inbound, then the upload

# Injected cases (one per order at most), with their share of orders.
CLEAN, LATE_SHIP, LATE_PICKUP, SLOW_HUB, CONTROL = 0, 1, 2, 3, 4
INJECTION_SHARES = {LATE_SHIP: 0.01, LATE_PICKUP: 0.006, SLOW_HUB: 0.006, CONTROL: 0.005}
CANCEL_SHARE = 0.025  # refunded before shipping
DIRTY_FLAG_EVERY = 50  # 1 in 50 tool products' orders outside the SF window keep the flag
RUSH_SHARE = 0.85  # of merchants about to miss their deadline, those who make it
SF_CATCH_UP = (bj("2023-01-28 08:00:00"), bj("2023-02-04 20:00:00"))  # ship after the holiday
NY_CATCH_UP = (bj("2024-02-17 08:00:00"), bj("2024-02-22 20:00:00"))


def draw_orders(world: World, rng: np.random.Generator, first: int, n: int) -> Columns:
    """Orders ``first .. first + n - 1``: merchant, product, payment and shipping."""
    m = np.minimum(
        np.searchsorted(world.merchant_cdf, rng.random(n), side="right"),
        len(world.merchant_cdf) - 1,
    )
    product = world.product_start[m] + (rng.random(n) * world.product_count[m]).astype(np.int64)
    category = world.product_category[product]
    industry = world.merchant_industry[m]
    flower_industry = np.array([i.name == "鲜花" for i in data.industries()])[industry]
    o: Columns = {
        "index": first + np.arange(n, dtype=np.int64),
        "merchant": m,
        "product": product,
        "category": category,
        "industry": industry,
        "mtype": world.merchant_type[m],
        "mode": world.product_mode[product],
        "flower": world.category_flower[category],
        "delayed": world.product_delayed[product],
        "festival_open": world.product_festival_open[product],
        "pay": seasons.draw_pay_times(rng, flower_industry),
    }
    if world.live_at is not None:
        o["pay"] = seasons.live_pay_times(rng, o["pay"], world.live_at)
    o["created"] = o["pay"] - rng.integers(5, 900, n)
    amount = np.array([i.amount for i in data.industries()])[industry]
    o["amount"] = np.round(amount * rng.lognormal(0.0, 0.5, n), 2)
    _deadlines(world, o)
    o["injection"] = _injections(rng, o)
    o["cancelled"] = (rng.random(n) < CANCEL_SHARE) & (o["injection"] == CLEAN)
    o["ship"] = _ship_times(world, rng, o)
    _warehouse_in(o)
    return o


def _warehouse_in(o: Columns) -> None:
    """cross_border_mode of cross-border presale orders, and the consolidation warehouse-in
    (集货入库) instant: just before the upload, except that every LATE_WAREHOUSE_EVERY-th clean
    consolidation order of the SF window uploads in time but is warehoused a day after its
    promise (SF-5: the warehouse-in record, not the upload, meets the promise); the other
    clean ones of the window are warehoused and uploaded in time."""
    presale = (o["mtype"] == CROSS_BORDER) & (o["mode"] == PRESALE)
    o["xb_mode"] = np.where(presale, o["index"] % 2, NO_MODE)
    consolidation = (o["xb_mode"] == CONSOLIDATION) & (o["ship"] != NONE)
    timely = (o["ship"] <= o["promised"]) & (o["injection"] == CLEAN)
    in_window = consolidation & timely & within(o["pay"], seasons.SF_PAY)
    late = in_window & ((o["index"] // 2) % LATE_WAREHOUSE_EVERY == 0)
    o["late_warehouse"], o["timely_warehouse"] = late, in_window & ~late
    early = np.maximum(o["ship"] - WAREHOUSE_BEFORE_UPLOAD, o["pay"] + 60)
    at = np.where(late, o["promised"] + DAY, early)
    o["warehouse_in"] = np.where(consolidation, at, NONE)


def _deadlines(world: World, o: Columns) -> None:
    """The deadline the merchant works to, and the most generous one any rule could give
    (so that a label "late" holds whatever the rulebook decides)."""
    pay, mode = o["pay"], o["mode"]
    presale = (mode == PRESALE) | (mode == STEP)
    promise = world.product_promise_days[o["product"]]
    o["promised"] = np.where(presale, pay + promise * DAY, NONE)
    daily = np.where(presale, o["promised"], pay + 48 * HOUR)  # DR-1
    domestic_spot = (o["mtype"] == DOMESTIC) & (mode == SPOT)
    in_sf, in_ny = within(pay, seasons.SF_PAY), within(pay, seasons.NY_PAY)
    in_vf = within(pay, seasons.VF_PAY)
    o["in_vf"] = in_vf
    # The tool is open only where an announcement opens it (SF-2: domestic spot, SF window);
    # elsewhere a small share of dirty rows carries the flag, which has no effect (labelled).
    dirty = o["delayed"] & ~in_sf & ~o["flower"] & (o["index"] % DIRTY_FLAG_EVERY == 0)
    o["delayed_dirty"] = dirty
    o["delayed"] = (o["delayed"] & in_sf) | dirty
    sf_tool = domestic_spot & o["delayed"] & in_sf  # SF-4
    ny = domestic_spot & ~o["festival_open"] & in_ny & ~(o["flower"] & in_vf)  # NY-1, VF-2
    believed = np.where(sf_tool, np.maximum(daily, seasons.SF_SHIP_BY), daily)
    o["believed"] = np.where(ny, np.maximum(believed, seasons.NY_SHIP_BY), believed)
    generous = np.where(domestic_spot & in_sf, np.maximum(daily, seasons.SF_SHIP_BY), daily)
    o["generous"] = np.where(
        domestic_spot & in_ny, np.maximum(generous, seasons.NY_SHIP_BY), generous
    )
    o["sf_tool"], o["ny_extended"], o["presale"] = sf_tool, ny, presale


def _injections(rng: np.random.Generator, o: Columns) -> npt.NDArray[np.int64]:
    u = rng.random(len(o["pay"]))
    injection = np.zeros(len(u), np.int64)
    edge = 0.0
    for case, share in INJECTION_SHARES.items():
        injection[(u >= edge) & (u < edge + share)] = case
        edge += share
    # Pickup and first-hub limits are domestic clauses (SF-6, SF-7): inject them there only.
    foreign = (o["mtype"] != DOMESTIC) & np.isin(injection, (LATE_PICKUP, SLOW_HUB))
    injection[foreign] = CLEAN
    # 厂家自送 orders are shipped by the factory: the engine holds no ship deadline on them.
    injection[(o["mode"] == FACTORY_DIRECT) & (injection == LATE_SHIP)] = CLEAN
    return injection


def _ship_times(world: World, rng: np.random.Generator, o: Columns) -> npt.NDArray[np.int64]:
    n, pay = len(o["pay"]), o["pay"]
    handling = world.merchant_speed[o["merchant"]] * rng.lognormal(np.log(10.0), 0.8, n)
    ship = pay + (handling * HOUR).astype(np.int64)
    promise = world.product_promise_days[o["product"]]
    early = (rng.random(n) * promise * 0.6 * DAY).astype(np.int64)
    ship = np.where(o["presale"], np.maximum(o["promised"] - early, pay + HOUR), ship)
    ship = np.where(o["sf_tool"], np.maximum(ship, rng.integers(*SF_CATCH_UP, n)), ship)
    holiday = o["ny_extended"] & (rng.random(n) < 0.7)
    ship = np.where(holiday, np.maximum(ship, rng.integers(*NY_CATCH_UP, n)), ship)
    rush = (ship > o["believed"]) & (rng.random(n) < RUSH_SHARE)
    ship = np.where(rush, o["believed"] - rng.integers(0, 6 * HOUR, n), ship)
    ship = np.maximum(ship, pay + 60)
    late = o["generous"] + DAY + rng.integers(0, 4 * DAY, n)
    ship = np.where(o["injection"] == LATE_SHIP, late, ship)
    prompt = pay + rng.integers(HOUR, 20 * HOUR, n)
    ship = np.where(o["injection"] == CONTROL, prompt, ship)
    return np.where(o["cancelled"], NONE, ship).astype(np.int64)

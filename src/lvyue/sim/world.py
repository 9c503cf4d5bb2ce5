"""The fixed part of a simulated marketplace: merchants, accounts, products and the carrier
network (outlets 网点, sorting centres, lanes), with the poor outlets and lanes as ground truth.
Built once per (orders, seed); the order chunks draw from it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from lvyue.model.enums import MerchantType, ShipMode
from lvyue.sim import data, truth
from lvyue.sim.seasons import bj

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

MERCHANT_TYPES = (MerchantType.DOMESTIC, MerchantType.CROSS_BORDER, MerchantType.INSTANT_RETAIL)
SHIP_MODES = (ShipMode.SPOT, ShipMode.PRESALE, ShipMode.STEP, ShipMode.FACTORY_DIRECT)
DOMESTIC, CROSS_BORDER, INSTANT_RETAIL = 0, 1, 2
SPOT, PRESALE, STEP, FACTORY_DIRECT = 0, 1, 2, 3
# Ship-mode mix per merchant type; flower products are mostly spot (VF-4 makes others a breach).
MODE_MIX = {
    DOMESTIC: (0.85, 0.06, 0.05, 0.04),
    CROSS_BORDER: (0.7, 0.3, 0.0, 0.0),
    INSTANT_RETAIL: (1.0, 0.0, 0.0, 0.0),
}
FLOWER_MODE_MIX = (0.93, 0.03, 0.02, 0.02)
VF_CATEGORIES = ("鲜花速递/花卉仿真/绿植园艺>生活鲜花", "鲜花速递/花卉仿真/绿植园艺>鲜花速递(同城)")
BONDED_CITIES = ("杭州市", "宁波市", "广州市", "郑州市", "重庆市", "深圳市")
AREAS = ("城东", "城西", "城南", "城北", "高新", "开发区", "经开", "新区")
SHOP_WORDS = (
    "优品",
    "良选",
    "悦家",
    "星辰",
    "初见",
    "拾光",
    "花语",
    "云裳",
    "匠心",
    "森林",
    "小鹿",
    "橙子",
)
SHOP_KINDS = ("旗舰店", "专营店", "专卖店", "小店", "的店")
PERMISSIONS = ("orders", "shipping", "aftersales", "reports", "inspection", "logistics_diagnosis")
# Poor outlets and lanes concentrate where the parcels are, so weekly governance sees them.
POOR_OUTLET_CANDIDATES, POOR_OUTLET_SHARE = 150, 0.15  # of the busiest outlets
POOR_OUTLET_TAIL_SHARE = 0.03  # of the other outlets
POOR_OUTLET_PICKUP = 4.0  # multiplier on the pickup delay at a poor outlet
POOR_OUTLET_HUB = 3.0  # multiplier on pickup -> first sorting centre
POOR_LANE_CANDIDATES = 80  # the busiest (carrier, origin, destination) lanes
POOR_LANE_SHARE = 0.2  # of those, persistently slow
POOR_LANE_TRANSIT = 1.9
POOR_LANE_EXCEPTION = 3.0
# A showcase world (the demo's, ``peers`` > 0): the 鲜花 instant-retail merchant's industry gets
# that many busy merchants, each expecting this many orders (LG-7 wants 100 shipped orders of a
# peer; the margin covers orders unshipped at a live world's instant, sim.cut, and chance), and
# topic analysis rolled out (LD-11). Ours.
SHOWCASE_PEER_ORDERS = 220
SHOWCASE_MAX_SHARE = 0.8  # of all orders on the moved merchants; a smaller world stays as drawn


@dataclass(frozen=True)
class Network:
    """Facilities (outlets and one sorting centre per carrier and city) and lanes."""

    facility_id: pa.StringArray
    facility_name: pa.StringArray
    facility_is_hub: Bools
    facility_city: Ints
    facility_carrier: Ints
    outlet_start: Ints  # [carrier, city] -> first outlet index
    outlet_count: Ints  # [carrier, city]
    hub: Ints  # [carrier, city] -> hub index
    pickup_factor: Floats  # per facility
    hub_factor: Floats  # per facility
    distance_km: Floats  # [origin city, dest city]
    standard_hours: Floats  # [origin city, dest city]
    lane_factor: Floats  # [carrier, origin city, dest city]

    def pickup_outlet(self, merchant: Ints, carrier: Ints, city: Ints) -> Ints:
        """The outlet that picks up a merchant's parcels of a carrier (one per shop)."""
        return _pickup_outlet(self.outlet_start, self.outlet_count, merchant, carrier, city)


def _pickup_outlet(start: Ints, count: Ints, merchant: Ints, carrier: Ints, city: Ints) -> Ints:
    result: Ints = start[carrier, city] + (merchant * 7 + carrier) % count[carrier, city]
    return result


@dataclass(frozen=True)
class World:
    orders: int
    seed: int
    merchant_id: pa.StringArray
    merchant_industry: Ints
    merchant_type: Ints
    merchant_city: Ints
    merchant_cdf: Floats  # cumulative order share, for drawing merchants
    merchant_speed: Floats  # handling-time multiplier
    merchant_established: Bools
    merchant_penalty: Bools  # VF-6: settlement period already extended as a penalty
    merchant_carriers: Ints  # [merchant, 2]: primary and secondary carrier
    merchant_created: Ints
    merchant_topic: Bools
    merchant_name: list[str]
    product_id: pa.StringArray
    product_start: Ints  # per merchant
    product_count: Ints  # per merchant
    product_category: Ints
    product_mode: Ints
    product_promise_days: Ints
    product_delayed: Bools
    product_festival_open: Bools
    categories: tuple[str, ...]
    category_industry: Ints
    category_flower: Bools  # VF-1 scope
    category_btas: Bools  # BT-1 scope
    network: Network
    live_at: int | None = None  # a world living at this instant (seasons.live_pay_times)


def _pick(rng: np.random.Generator, weights: npt.ArrayLike, n: int) -> Ints:
    cdf = np.cumsum(np.asarray(weights, np.float64))
    return np.searchsorted(cdf / cdf[-1], rng.random(n), side="right").astype(np.int64)


def padded(prefix: str, numbers: Ints, width: int) -> pa.StringArray:
    """prefix + zero-padded numbers, vectorised: ("M", [7], 7) -> ["M0000007"]."""
    digits = pc.utf8_lpad(
        pc.cast(pa.array(numbers, pa.int64()), pa.string()), width=width, padding="0"
    )
    return pc.binary_join_element_wise(prefix, digits, "")


def build_world(orders: int, seed: int, live_at: int | None = None, peers: int = 0) -> World:
    """``peers`` > 0: a showcase world (see SHOWCASE_PEER_ORDERS); 0 leaves the world as drawn."""
    rng = np.random.default_rng([seed, 1])
    industries = data.industries()
    categories = tuple(c for i in industries for c in i.categories)
    category_industry = np.array([k for k, i in enumerate(industries) for _ in i.categories])
    n = int(np.clip(orders // 400, 40, 50_000))

    industry = _pick(rng, [i.share for i in industries], n)
    industry[: len(industries)] = np.arange(len(industries))  # every industry is present
    mtype = np.zeros(n, np.int64)
    for k, spec in enumerate(industries):
        rows = industry == k
        mtype[rows] = _pick(rng, spec.types, int(rows.sum()))
    mtype[: len(industries)] = DOMESTIC
    names = [i.name for i in industries]
    industry[len(industries)], mtype[len(industries)] = names.index("美妆"), CROSS_BORDER
    industry[len(industries) + 1], mtype[len(industries) + 1] = names.index("鲜花"), INSTANT_RETAIL

    table = data.cities()
    city = _pick(rng, table.origin_weight, n)
    bonded = np.array([table.city.index(c) for c in BONDED_CITIES])
    cross = mtype == CROSS_BORDER
    city[cross] = bonded[rng.integers(0, len(bonded), int(cross.sum()))]

    weight = rng.lognormal(0.0, 1.2, n)
    newcomer = rng.random(n) < 0.02  # LD-10: new shops without history
    newcomer[: len(industries) + 2] = False
    weight[newcomer] = 0.0
    showcase = len(industries) + 1  # the 鲜花 instant-retail merchant
    showcased = _concentrate(industry, mtype, weight, showcase, peers, orders)
    created = rng.integers(bj("2018-01-01 00:00:00"), bj("2022-12-01 00:00:00"), n)
    created[newcomer] = rng.integers(
        bj("2024-03-01 00:00:00"), bj("2024-03-25 00:00:00"), int(newcomer.sum())
    )

    profiles = data.carriers()
    shares = [c.share for c in profiles]
    carriers = np.stack([_pick(rng, shares, n), _pick(rng, shares, n)], axis=1)
    sf = [c.code for c in profiles].index("shunfeng")
    carriers[mtype == INSTANT_RETAIL] = sf  # 同城: fast couriers

    products = _products(rng, industry, mtype, categories, category_industry)
    merchant_ids = padded("M", np.arange(n, dtype=np.int64) + 1, 7)
    shop_names = [
        table.short(int(c))
        + SHOP_WORDS[k % len(SHOP_WORDS)]
        + industries[i].name
        + SHOP_KINDS[k % 5]
        for k, (c, i) in enumerate(zip(city, industry, strict=True))
    ]
    cdf = np.cumsum(weight)
    world = World(
        orders=orders,
        seed=seed,
        merchant_id=merchant_ids,
        merchant_industry=industry,
        merchant_type=mtype,
        merchant_city=city,
        merchant_cdf=cdf / cdf[-1],
        merchant_speed=rng.lognormal(0.0, 0.35, n),
        merchant_established=rng.random(n) < 0.4,
        merchant_penalty=rng.random(n) < 0.02,
        merchant_carriers=carriers,
        merchant_created=created.astype(np.int64),
        merchant_topic=rng.random(n) < 0.3,
        merchant_name=shop_names,
        categories=categories,
        category_industry=category_industry,
        category_flower=np.array([c in VF_CATEGORIES for c in categories]),
        category_btas=np.array([industries[i].btas for i in category_industry]),
        network=_network(rng, weight, city, carriers),
        live_at=live_at,
        **products,
    )
    if not showcased:
        return world
    return replace(world, merchant_topic=world.merchant_topic | (industry == industry[showcase]))


def _concentrate(
    industry: Ints, mtype: Ints, weight: Floats, showcase: int, peers: int, orders: int
) -> bool:
    """Move the ``peers`` busiest domestic merchants (after the fixed ones) into the showcase
    merchant's industry, each with at least SHOWCASE_PEER_ORDERS expected orders, in place;
    False (nothing moved) when the world is too small to hold them."""
    share = SHOWCASE_PEER_ORDERS / orders
    if not peers or peers * share > SHOWCASE_MAX_SHARE:
        return False
    free = np.flatnonzero((np.arange(len(weight)) > showcase) & (mtype == DOMESTIC) & (weight > 0))
    moved = free[np.argsort(-weight[free], kind="stable")[:peers]]
    industry[moved] = industry[showcase]
    rest = weight.sum() - weight[moved].sum()  # the weight of share s is s / (1 - k s) * rest
    weight[moved] = np.maximum(weight[moved], share / (1 - len(moved) * share) * rest)
    return True


def _products(
    rng: np.random.Generator,
    industry: Ints,
    mtype: Ints,
    categories: tuple[str, ...],
    category_industry: Ints,
) -> dict[str, Any]:
    count = 2 + rng.poisson(4, len(industry))
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    owner = np.repeat(np.arange(len(industry)), count)
    n = len(owner)
    first_cat = np.searchsorted(category_industry, np.arange(category_industry.max() + 1))
    cats_per = np.bincount(category_industry)
    category = first_cat[industry[owner]] + (rng.random(n) * cats_per[industry[owner]]).astype(
        np.int64
    )
    flower = np.isin(np.array(categories)[category], VF_CATEGORIES)
    mode = np.zeros(n, np.int64)
    for kind, mix in MODE_MIX.items():
        rows = (mtype[owner] == kind) & ~flower
        mode[rows] = _pick(rng, mix, int(rows.sum()))
    rows = flower & (mtype[owner] == DOMESTIC)
    mode[rows] = _pick(rng, FLOWER_MODE_MIX, int(rows.sum()))
    domestic = mtype[owner] == DOMESTIC
    return {
        "product_id": padded("36", 41_257_000_000_000_000 + np.arange(n, dtype=np.int64) * 7, 17),
        "product_start": start.astype(np.int64),
        "product_count": count.astype(np.int64),
        "product_category": category.astype(np.int64),
        "product_mode": mode,
        "product_promise_days": rng.integers(2, 16, n),  # SF-5 / DR-1: 2-15 days
        "product_delayed": domestic & (mode == SPOT) & (rng.random(n) < 0.2),
        "product_festival_open": domestic & (rng.random(n) < 0.12),
    }


def _network(rng: np.random.Generator, weight: Floats, city: Ints, carriers: Ints) -> Network:
    """Outlets and sorting centres of every carrier in every city, lanes, and the poor ones
    (given the merchants' order weights, cities and primary/secondary carriers)."""
    table = data.cities()
    profiles = data.carriers()
    nc, ny = len(profiles), len(table)
    ids: list[str] = []
    names: list[str] = []
    is_hub: list[bool] = []
    where: list[int] = []
    whose: list[int] = []
    start = np.zeros((nc, ny), np.int64)
    count = np.zeros((nc, ny), np.int64)
    hub = np.zeros((nc, ny), np.int64)
    for c, profile in enumerate(profiles):
        for y in range(ny):
            short = table.short(y)
            k = 3 + min(int(table.origin_weight[y] // 2), 5)
            start[c, y], count[c, y] = len(ids), k
            ids += [f"{profile.code}-{short}-{j + 1:03d}" for j in range(k)]
            names += [f"{short}{AREAS[j]}{profile.outlet_word}" for j in range(k)]
            hub[c, y] = len(ids)
            ids.append(f"{profile.code}-{short}-hub")
            names.append(f"{short}{profile.hub_word}")
            is_hub += [False] * k + [True]
            where += [y] * (k + 1)
            whose += [c] * (k + 1)
    hubs = np.array(is_hub)
    merchant = np.arange(len(weight))
    outlet_volume = np.zeros(len(ids))
    lane_volume = np.zeros((nc, ny))
    for k, share in ((0, 0.8), (1, 0.2)):  # primary and secondary carrier
        used = _pickup_outlet(start, count, merchant, carriers[:, k], city)
        np.add.at(outlet_volume, used, share * weight)
        np.add.at(lane_volume, (carriers[:, k], city), share * weight)
    busiest = np.argsort(-outlet_volume, kind="stable")[:POOR_OUTLET_CANDIDATES]
    odds = np.where(hubs, 0.0, POOR_OUTLET_TAIL_SHARE)
    odds[busiest] = POOR_OUTLET_SHARE
    poor = rng.random(len(ids)) < odds
    km = truth.distance_km(
        table.lat[:, None], table.lon[:, None], table.lat[None, :], table.lon[None, :]
    )
    np.fill_diagonal(km, truth.SAME_CITY_KM)
    lane_factor = np.ones((nc, ny, ny))
    # Poor lanes among the busiest ones, so that weekly governance sees enough parcels on them.
    volume = lane_volume[:, :, None] * table.population[None, None, :]
    for c in range(nc):
        np.fill_diagonal(volume[c], 0.0)
    busiest = np.argsort(-volume.ravel(), kind="stable")[:POOR_LANE_CANDIDATES]
    poor_lanes = busiest[rng.random(len(busiest)) < POOR_LANE_SHARE]
    lane_factor.flat[poor_lanes] = POOR_LANE_TRANSIT
    return Network(
        facility_id=pa.array(ids, pa.string()),
        facility_name=pa.array(names, pa.string()),
        facility_is_hub=hubs,
        facility_city=np.array(where, np.int64),
        facility_carrier=np.array(whose, np.int64),
        outlet_start=start,
        outlet_count=count,
        hub=hub,
        pickup_factor=np.where(poor, POOR_OUTLET_PICKUP, 1.0),
        hub_factor=np.where(poor, POOR_OUTLET_HUB, 1.0),
        distance_km=km,
        standard_hours=truth.lane_standard_hours(km),
        lane_factor=lane_factor,
    )

"""Parcels of one chunk: carrier, outlet, lane, the scan timeline (揽收 → 分拨 → 派件 → 签收),
exceptions and returns, and the ``tracking`` rows with each carrier's scan texts."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lvyue.sim import data, seasons, truth
from lvyue.sim.orders import CONTROL, LATE_PICKUP, NONE, SLOW_HUB, Columns
from lvyue.sim.seasons import DAY, HOUR
from lvyue.sim.world import INSTANT_RETAIL, POOR_LANE_EXCEPTION, World

# pickup, hub_arrival, hub_departure, out_for_delivery, ..., and the SF-5 warehouse-in
KINDS = (*data.KINDS_WITH_TEXT, "warehouse_in")
# The consolidation warehouse's own record (no carrier writes it): one text for all carriers.
WAREHOUSE_IN_TEXT = "包裹已到达海外集货仓，已集货入库"
ROADS = (
    "人民路",
    "建设路",
    "中山路",
    "解放路",
    "文化路",
    "新华路",
    "和平路",
    "长江路",
    "学府路",
    "幸福路",
)
PICKUP, HUB_ARRIVAL, HUB_DEPARTURE, OUT_FOR_DELIVERY, SIGNED, EXCEPTION, RETURNED = range(7)
WAREHOUSE_IN = 7


def draw_parcels(world: World, rng: np.random.Generator, o: Columns) -> None:
    """Adds carrier, cities, facilities, scan instants and parcel metrics to ``o``."""
    n, m, net = len(o["pay"]), o["merchant"], world.network
    profiles = data.carriers()
    shipped = o["ship"] != NONE
    carrier = np.where(
        rng.random(n) < 0.8, world.merchant_carriers[m, 0], world.merchant_carriers[m, 1]
    )
    origin = world.merchant_city[m]
    population = data.cities().population
    dest = np.searchsorted(np.cumsum(population) / population.sum(), rng.random(n), side="right")
    dest = np.where(o["mtype"] == INSTANT_RETAIL, origin, np.minimum(dest, len(population) - 1))
    o["carrier"], o["origin"], o["dest"] = carrier, origin, dest
    start, count = _district_offsets()
    o["district"] = start[dest] + (rng.random(n) * count[dest]).astype(np.int64)
    o["road"] = rng.integers(0, len(ROADS), n)
    o["house"] = rng.integers(1, 400, n)
    o["outlet"] = net.pickup_outlet(m, carrier, origin)
    o["dest_outlet"] = net.outlet_start[carrier, dest] + rng.integers(
        0, net.outlet_count[carrier, dest]
    )
    ship = np.where(shipped, o["ship"], o["pay"])
    slow = seasons.slowdown(ship)

    pickup_h = rng.lognormal(np.log(5.0), 0.7, n) * net.pickup_factor[o["outlet"]] * slow
    pickup_h *= np.array([p.pickup for p in profiles])[carrier]
    hub_h = rng.lognormal(np.log(4.0), 0.6, n) * net.hub_factor[o["outlet"]] * slow
    inj = o["injection"]
    pickup_h = np.where(inj == LATE_PICKUP, rng.uniform(73, 160, n), pickup_h)  # > SF-6's 48 h
    hub_h = np.where(inj == SLOW_HUB, rng.uniform(145, 200, n), hub_h)  # > SF-7's 120 h
    pickup_h = np.where(inj == CONTROL, rng.uniform(0.5, 18, n), pickup_h)
    hub_h = np.where(inj == CONTROL, rng.uniform(0.5, 18, n), hub_h)

    # a parcel warehoused late (SF-5 injection) is picked up after its warehouse-in
    pickup = np.where(o["late_warehouse"], o["warehouse_in"], ship) + _seconds(pickup_h)
    first_hub = pickup + _seconds(hub_h)
    scans_arrival = np.array([p.hub_arrival for p in profiles])[carrier]
    departure = np.where(scans_arrival, first_hub + _seconds(rng.uniform(1, 5, n)), first_hub)
    standard = net.standard_hours[origin, dest]
    lane = net.lane_factor[carrier, origin, dest]
    total = standard * np.array([p.transit for p in profiles])[carrier] * lane * slow
    total *= rng.lognormal(0.0, 0.25, n)
    dest_arrival = departure + _seconds(np.maximum(0.55 * total, 2))
    out = dest_arrival + _seconds(np.maximum(0.25 * total, 1))
    signed = out + _seconds(rng.uniform(0.5, 6, n))

    p_exception = np.array([p.exception for p in profiles])[carrier] * slow
    p_exception *= np.where(lane > 1, POOR_LANE_EXCEPTION, 1.0)
    exception = shipped & (rng.random(n) < p_exception)
    exception_at = out + _seconds(rng.uniform(1, 4, n))
    returned = exception & (rng.random(n) < truth.COEFFICIENTS.return_given_exception)
    returned_at = exception_at + rng.integers(DAY, 3 * DAY, n)
    signed = np.where(exception, exception_at + _seconds(rng.uniform(12, 48, n)), signed)
    signed = np.where(returned, NONE, signed)

    o["pickup"] = np.where(shipped, pickup, NONE)
    o["hub_arrival"] = np.where(shipped & scans_arrival, first_hub, NONE)
    o["hub_departure"] = np.where(shipped, departure, NONE)
    o["dest_arrival"] = np.where(shipped & (dest != origin), dest_arrival, NONE)
    o["out_for_delivery"] = np.where(shipped, out, NONE)
    o["signed"] = np.where(shipped, signed, NONE)
    o["exception"], o["returned"] = exception, returned
    o["exception_at"] = np.where(exception, exception_at, NONE)
    o["returned_at"] = np.where(returned, returned_at, NONE)
    last = np.where(returned, returned_at, signed)
    o["pickup_hours"] = np.where(shipped, (pickup - ship) / HOUR, np.nan)
    o["transit_ratio"] = np.where(shipped, (last - pickup) / HOUR / standard, np.nan)
    o["waybill"] = _waybills(o["index"], carrier, rng)


@cache
def _district_offsets() -> tuple[np.ndarray, np.ndarray]:
    count = np.array([len(d) for d in data.cities().districts], np.int64)
    return np.concatenate([[0], np.cumsum(count)[:-1]]), count


@cache
def district_names() -> pa.StringArray:
    return pa.array([d for ds in data.cities().districts for d in ds], pa.string())


def addresses(o: Columns) -> tuple[pa.StringArray, pa.StringArray]:
    """(dest_district, address) of each order: 浙江省杭州市西湖区文化路12号."""
    table = data.cities()
    district = district_names().take(pa.array(o["district"]))
    parts = (
        pa.array(table.province, pa.string()).take(pa.array(o["dest"])),
        pa.array(table.city, pa.string()).take(pa.array(o["dest"])),
        district,
        pa.array(ROADS, pa.string()).take(pa.array(o["road"])),
        pc.cast(pa.array(o["house"]), pa.string()),
    )
    return district, pc.binary_join_element_wise(*parts, "号", "")


def _seconds(hours: np.ndarray) -> np.ndarray:
    return (np.asarray(hours) * HOUR).astype(np.int64)


def _waybills(index: np.ndarray, carrier: np.ndarray, rng: np.random.Generator) -> pa.StringArray:
    """Tracking numbers in each carrier's shape, unique: the order index and a check digit."""
    profiles = data.carriers()
    numbers = index * 10 + rng.integers(0, 10, len(index))  # unique per order
    order = np.argsort(carrier, kind="stable")
    parts = []
    for c, profile in enumerate(profiles):
        rows = order[carrier[order] == c]
        base = 3 * 10 ** (profile.waybill_digits - 1)  # no leading zeros
        text = pc.cast(pa.array(base + numbers[rows]), pa.string())
        digits = pc.utf8_lpad(text, width=profile.waybill_digits, padding="0")
        parts.append(pc.binary_join_element_wise(profile.waybill_prefix, digits, ""))
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return pa.concat_arrays(parts).take(pa.array(inverse))


@dataclass(frozen=True)
class _Templates:
    start: np.ndarray  # [carrier, kind] -> first template in ``flat``
    count: np.ndarray  # [carrier, kind]
    flat: tuple[data.Template, ...]


@cache
def _templates() -> _Templates:
    profiles = data.carriers()
    start = np.zeros((len(profiles), len(KINDS)), np.int64)
    count = np.zeros_like(start)
    flat: list[data.Template] = []
    for c, profile in enumerate(profiles):
        for k, kind in enumerate(KINDS):
            variants = profile.templates.get(kind) or (
                (data.split_template(WAREHOUSE_IN_TEXT),) if kind == "warehouse_in" else ()
            )
            if not variants:
                raise ValueError(f"carrier {profile.code} has no {kind} scan template")
            start[c, k], count[c, k] = len(flat), len(variants)
            flat.extend(variants)
    return _Templates(start, count, tuple(flat))


# Scan slots of a parcel, in the order they happen (so no sort is needed).
SLOTS = (
    ("warehouse_in", WAREHOUSE_IN),
    ("pickup", PICKUP),
    ("hub_arrival", HUB_ARRIVAL),
    ("hub_departure", HUB_DEPARTURE),
    ("dest_arrival", HUB_ARRIVAL),
    ("out_for_delivery", OUT_FOR_DELIVERY),
    ("exception_at", EXCEPTION),
    ("signed", SIGNED),
    ("returned_at", RETURNED),
)


def tracking_table(world: World, rng: np.random.Generator, o: Columns) -> pa.Table:
    """One row per scan: (carrier, waybill, time, kind, location, text, outlet, city)."""
    net = world.network
    origin_hub = net.hub[o["carrier"], o["origin"]]
    dest_hub = net.hub[o["carrier"], o["dest"]]
    # the warehouse-in scan is placed at the origin hub: no outlet, the bonded city
    facilities = (
        origin_hub,
        o["outlet"],
        origin_hub,
        origin_hub,
        dest_hub,
        *(o["dest_outlet"],) * 4,
    )
    times = np.stack([o[name] for name, _ in SLOTS], axis=1)
    hit = times != NONE
    row, slot = np.nonzero(hit)  # row-major: by order, then slot, i.e. by time
    kind = np.array([code for _, code in SLOTS])[slot]
    facility = np.stack(facilities, axis=1)[row, slot]
    onward = np.where(kind == HUB_DEPARTURE, o["dest"][row], -1)
    carrier = o["carrier"][row]
    t = _templates()
    variant = t.start[carrier, kind] + (rng.random(len(kind)) * t.count[carrier, kind]).astype(
        np.int64
    )
    city = pa.array(net.facility_city[facility])
    outlet_ids = pc.if_else(pa.array(net.facility_is_hub), None, net.facility_id)
    return pa.table(
        {
            "carrier": _carrier_codes().take(pa.array(carrier)),
            "waybill": o["waybill"].take(pa.array(row)),
            "time": times[hit],
            "kind": pa.array(KINDS, pa.string()).take(pa.array(kind)),
            "location": _locations().take(city),
            "text": _texts(world, variant, facility, onward),
            "outlet": outlet_ids.take(pa.array(facility)),
            "city": pa.array(data.cities().city, pa.string()).take(city),
        }
    )


@cache
def _carrier_codes() -> pa.StringArray:
    return pa.array([p.code for p in data.carriers()], pa.string())


@cache
def _locations() -> pa.StringArray:
    table = data.cities()
    pairs = zip(table.province, table.city, strict=True)
    return pa.array([p if p == c else p + c for p, c in pairs], pa.string())


# Scan texts already written, by key: the facility numbering comes from the data files alone,
# so keys mean the same in every world of this process. Bounded: texts are cheap to rewrite.
_TEXTS: dict[int, str] = {}
_TEXTS_LIMIT = 2_000_000


def _texts(
    world: World, variant: np.ndarray, facility: np.ndarray, onward: np.ndarray
) -> pa.StringArray:
    """Scan texts: each distinct (template, facility, next city) is written once, then taken."""
    net = world.network
    ny, nf = len(data.cities()), len(net.facility_is_hub)
    key = (variant * nf + facility) * (ny + 1) + (onward + 1)
    codes, unique = pd.factorize(key)  # hash-based; order of first appearance
    if len(_TEXTS) > _TEXTS_LIMIT:
        _TEXTS.clear()
    t = _templates()
    cities = data.cities().city
    names = net.facility_name.to_pylist()
    texts = []
    for k in unique.tolist():
        text = _TEXTS.get(k)
        if text is None:
            v, rest = divmod(k, nf * (ny + 1))
            f, x = divmod(rest, ny + 1)
            place_city = cities[net.facility_city[f]]
            text = _fill(t.flat[v], place_city, names[f], cities[x - 1] if x else "")
            _TEXTS[k] = text
        texts.append(text)
    return pa.array(texts, pa.string()).take(pa.array(codes))


def _fill(template: data.Template, city: str, place: str, onward: str) -> str:
    lit = template.literals
    used = [v if u else "" for v, u in zip((city, place, onward), template.uses, strict=True)]
    return f"{lit[0]}{used[0]}{lit[1]}{used[1]}{lit[2]}{used[2]}{lit[3]}"

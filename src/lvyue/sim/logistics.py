"""Parcels of one chunk: carrier, outlet, lane, the scan timeline (揽收 → 分拨 → 派件 → 签收),
exceptions and returns, and the ``tracking`` rows with each carrier's scan texts."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lvyue.sim import data, seasons, truth
from lvyue.sim.orders import CONTROL, LATE_PICKUP, NONE, SLOW_HUB, Columns
from lvyue.sim.seasons import DAY, HOUR
from lvyue.sim.world import INSTANT_RETAIL, POOR_LANE_EXCEPTION, World

KINDS = data.KINDS_WITH_TEXT  # pickup, hub_arrival, hub_departure, out_for_delivery, ...
PICKUP, HUB_ARRIVAL, HUB_DEPARTURE, OUT_FOR_DELIVERY, SIGNED, EXCEPTION, RETURNED = range(7)


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
    o["outlet"] = (
        net.outlet_start[carrier, origin] + (m * 7 + carrier) % net.outlet_count[carrier, origin]
    )
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

    pickup = ship + _seconds(pickup_h)
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
    start: np.ndarray  # [carrier, kind] -> first template
    count: np.ndarray  # [carrier, kind]
    literals: tuple[pa.StringArray, pa.StringArray, pa.StringArray, pa.StringArray]
    uses: tuple[np.ndarray, np.ndarray, np.ndarray]


@cache
def _templates() -> _Templates:
    profiles = data.carriers()
    start = np.zeros((len(profiles), len(KINDS)), np.int64)
    count = np.zeros_like(start)
    flat: list[data.Template] = []
    for c, profile in enumerate(profiles):
        for k, kind in enumerate(KINDS):
            variants = profile.templates[kind]
            if not variants:
                raise ValueError(f"carrier {profile.code} has no {kind} scan template")
            start[c, k], count[c, k] = len(flat), len(variants)
            flat.extend(variants)
    literals = tuple(pa.array([t.literals[i] for t in flat], pa.string()) for i in range(4))
    uses = tuple(np.array([t.uses[i] for t in flat]) for i in range(3))
    return _Templates(
        start,
        count,
        (literals[0], literals[1], literals[2], literals[3]),
        (uses[0], uses[1], uses[2]),
    )


def tracking_table(world: World, rng: np.random.Generator, o: Columns) -> pa.Table:
    """One row per scan: (carrier, waybill, time, kind, location, text, outlet, city)."""
    events = [
        (PICKUP, o["pickup"], o["origin"], o["outlet"], -1),
        (HUB_ARRIVAL, o["hub_arrival"], o["origin"], _hub(world, o, o["origin"]), -1),
        (HUB_DEPARTURE, o["hub_departure"], o["origin"], _hub(world, o, o["origin"]), o["dest"]),
        (HUB_ARRIVAL, o["dest_arrival"], o["dest"], _hub(world, o, o["dest"]), -1),
        (OUT_FOR_DELIVERY, o["out_for_delivery"], o["dest"], o["dest_outlet"], -1),
        (EXCEPTION, o["exception_at"], o["dest"], o["dest_outlet"], -1),
        (SIGNED, o["signed"], o["dest"], o["dest_outlet"], -1),
        (RETURNED, o["returned_at"], o["dest"], o["dest_outlet"], -1),
    ]
    rows, times, kinds, cities, places, nexts = [], [], [], [], [], []
    for kind, when, city, place, nxt in events:
        hit = np.flatnonzero(when != NONE)
        rows.append(hit)
        times.append(when[hit])
        kinds.append(np.full(len(hit), kind))
        cities.append(city[hit])
        places.append(place[hit])
        nexts.append(nxt[hit] if isinstance(nxt, np.ndarray) else np.full(len(hit), -1))
    row, time = np.concatenate(rows), np.concatenate(times)
    order = np.lexsort((time, row))
    row, time = row[order], time[order]
    kind = np.concatenate(kinds)[order]
    city, place, nxt = (np.concatenate(a)[order] for a in (cities, places, nexts))
    carrier = o["carrier"][row]
    net, table = world.network, data.cities()
    city_names = pa.array(table.city, pa.string())
    outlet_ids = pc.if_else(pa.array(net.facility_is_hub), None, net.facility_id)
    return pa.table(
        {
            "carrier": pa.array([p.code for p in data.carriers()], pa.string()).take(
                pa.array(carrier)
            ),
            "waybill": o["waybill"].take(pa.array(row)),
            "time": time,
            "kind": pa.array(KINDS, pa.string()).take(pa.array(kind)),
            "location": _locations().take(pa.array(city)),
            "text": _texts(
                rng,
                carrier,
                kind,
                city_names.take(pa.array(city)),
                net.facility_name.take(pa.array(place)),
                city_names,
                nxt,
            ),
            "outlet": outlet_ids.take(pa.array(place)),
            "city": city_names.take(pa.array(city)),
        }
    )


def _hub(world: World, o: Columns, city: np.ndarray) -> np.ndarray:
    return np.asarray(world.network.hub[o["carrier"], city])


@cache
def _locations() -> pa.StringArray:
    table = data.cities()
    return pa.array(
        [p if p == c else p + c for p, c in zip(table.province, table.city, strict=True)],
        pa.string(),
    )


def _texts(
    rng: np.random.Generator,
    carrier: np.ndarray,
    kind: np.ndarray,
    city: pa.StringArray,
    place: pa.StringArray,
    city_names: pa.StringArray,
    nxt: np.ndarray,
) -> pa.StringArray:
    t = _templates()
    variant = t.start[carrier, kind] + (rng.random(len(kind)) * t.count[carrier, kind]).astype(
        np.int64
    )
    pick = pa.array(variant)
    next_name = city_names.take(pa.array(np.maximum(nxt, 0)))
    fields = [
        pc.if_else(pa.array(t.uses[i][variant]), value, "")
        for i, value in enumerate((city, place, next_name))
    ]
    lit = [t.literals[i].take(pick) for i in range(4)]
    return pc.binary_join_element_wise(
        lit[0], fields[0], lit[1], fields[1], lit[2], fields[2], lit[3], ""
    )

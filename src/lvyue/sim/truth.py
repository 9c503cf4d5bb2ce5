"""The true outcome model of the simulator: how logistics quality drives settlement,
complaints and conversion (结算率 / 客诉 / 转化率, LD-1, LD-6). docs/simulator.md explains it.

The simulator draws outcomes from exactly these functions, so a diagnosis can compare its
predicted gain with the true one: ``settlement_probability`` at the improved metrics minus at
the observed ones, averaged over the orders.

Metrics of one shipped order, measurable from the facts:
- ``pickup_hours``: ship_time -> first pickup scan (揽收时长);
- ``transit_ratio``: first pickup scan -> signed (揽签时长, or -> the last scan when the parcel
  never arrived), divided by the lane standard ``lane_standard_hours`` of its origin and
  destination cities;
- ``exception``: the parcel had an exception scan (疑难件).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lvyue.sim import data

FloatArray = npt.NDArray[np.float64]
ArrayLike = FloatArray | float
IndustryLike = str | npt.NDArray[np.str_] | npt.NDArray[np.object_] | list[str]

PICKUP_STANDARD_HOURS = 24.0  # DR-2: the pickup delay the platform expects
ROAD_FACTOR = 1.25  # road distance / great-circle distance
SAME_CITY_KM = 30.0


@dataclass(frozen=True)
class Coefficients:
    """Effects of one unit of logistics excess on the log-odds of each outcome."""

    refund_pickup: float = 0.5  # per day of pickup beyond 24 h
    refund_transit: float = 0.8  # per lane standard beyond the standard
    refund_exception: float = 1.8
    complaint_pickup: float = 0.7
    complaint_transit: float = 1.1
    complaint_exception: float = 2.4
    conversion_pickup: float = -0.35  # merchant means, see conversion_rate
    conversion_transit: float = -0.5
    conversion_exception: float = -3.0
    return_given_exception: float = 0.35  # P(parcel returned to sender | exception)


COEFFICIENTS = Coefficients()


def distance_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> FloatArray:
    """Road distance estimate: great-circle distance x ROAD_FACTOR; SAME_CITY_KM within a city."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat, dlon = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    km = 2 * 6371.0 * np.arcsin(np.sqrt(a)) * ROAD_FACTOR
    return np.asarray(np.maximum(km, SAME_CITY_KM), dtype=np.float64)


def lane_standard_hours(km: ArrayLike) -> FloatArray:
    """The platform's standard pickup-to-signed time for a lane of this road distance."""
    return np.asarray(18.0 + np.asarray(km, dtype=np.float64) / 28.0, dtype=np.float64)


def city_lane_standard_hours(origin_city: str, dest_city: str) -> float:
    """The lane standard between two of the simulator's cities (e.g. 杭州市 -> 广州市)."""
    table = data.cities()
    o, d = table.city.index(origin_city), table.city.index(dest_city)
    km = distance_km(table.lat[o], table.lon[o], table.lat[d], table.lon[d])
    return float(lane_standard_hours(0.0 if o == d else km))


def excess(pickup_hours: ArrayLike, transit_ratio: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """(days of pickup beyond 24 h, lane standards of transit beyond the standard), >= 0."""
    pickup = np.maximum(np.asarray(pickup_hours, np.float64) - PICKUP_STANDARD_HOURS, 0) / 24
    transit = np.maximum(np.asarray(transit_ratio, np.float64) - 1.0, 0)
    return pickup, transit


def baselines(field: str) -> FloatArray:
    """One outcome's baseline log-odds per industry, in ``data.industries()`` order."""
    return np.array([float(getattr(i, field)) for i in data.industries()])


def _baseline(industry: IndustryLike, field: str) -> FloatArray:
    table = {i.name: float(getattr(i, field)) for i in data.industries()}
    names = np.atleast_1d(np.asarray(industry, dtype=object))
    unknown = set(names.tolist()) - table.keys()
    if unknown:
        raise ValueError(f"unknown industry: {sorted(unknown)[0]!r}")
    uniques, inverse = np.unique(names.astype(str), return_inverse=True)
    return np.array([table[u] for u in uniques])[inverse]


def _sigmoid(x: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def _log_odds(
    base: FloatArray,
    effects: tuple[float, float, float],
    pickup: ArrayLike,
    transit: ArrayLike,
    exception: ArrayLike,
) -> FloatArray:
    """sigmoid(base + the (pickup, transit, exception) effects times those terms): the one
    logistic form every outcome shares; only its coefficients differ."""
    on_pickup, on_transit, on_exception = effects
    logit = (
        base
        + on_pickup * np.asarray(pickup, np.float64)
        + on_transit * np.asarray(transit, np.float64)
        + on_exception * np.asarray(exception, np.float64)
    )
    return _sigmoid(logit)


def refund_probability(
    industry: IndustryLike, pickup_hours: ArrayLike, transit_ratio: ArrayLike, exception: ArrayLike
) -> FloatArray:
    """P(the consumer gets a refund) for a shipped order that reached them."""
    base = _baseline(industry, "refund")
    return refund_from_baseline(base, pickup_hours, transit_ratio, exception)


def refund_from_baseline(
    base: FloatArray, pickup_hours: ArrayLike, transit_ratio: ArrayLike, exception: ArrayLike
) -> FloatArray:
    """``refund_probability`` with the industry baselines already looked up."""
    c = COEFFICIENTS
    xp, xt = excess(pickup_hours, transit_ratio)
    effects = (c.refund_pickup, c.refund_transit, c.refund_exception)
    return _log_odds(base, effects, xp, xt, exception)


def settlement_probability(
    industry: IndustryLike, pickup_hours: ArrayLike, transit_ratio: ArrayLike, exception: ArrayLike
) -> FloatArray:
    """P(a shipped order is settled 结算): not returned by the carrier and not refunded."""
    returned = COEFFICIENTS.return_given_exception * np.asarray(exception, np.float64)
    refund = refund_probability(industry, pickup_hours, transit_ratio, exception)
    return np.asarray((1 - returned) * (1 - refund), dtype=np.float64)


def complaint_probability(
    industry: IndustryLike, pickup_hours: ArrayLike, transit_ratio: ArrayLike, exception: ArrayLike
) -> FloatArray:
    """P(a logistics complaint 物流客诉) for a shipped order."""
    base = _baseline(industry, "complaint")
    return complaint_from_baseline(base, pickup_hours, transit_ratio, exception)


def complaint_from_baseline(
    base: FloatArray, pickup_hours: ArrayLike, transit_ratio: ArrayLike, exception: ArrayLike
) -> FloatArray:
    """``complaint_probability`` with the industry baselines already looked up."""
    c = COEFFICIENTS
    xp, xt = excess(pickup_hours, transit_ratio)
    effects = (c.complaint_pickup, c.complaint_transit, c.complaint_exception)
    return _log_odds(base, effects, xp, xt, exception)


def conversion_rate(
    industry: IndustryLike,
    mean_pickup_excess: ArrayLike,
    mean_transit_excess: ArrayLike,
    exception_rate: ArrayLike,
) -> FloatArray:
    """A merchant's true conversion rate (转化率: buyers / visitors) given the means over its
    shipped orders of the two ``excess`` terms and its exception rate."""
    c = COEFFICIENTS
    return _log_odds(
        _baseline(industry, "conversion"),
        (c.conversion_pickup, c.conversion_transit, c.conversion_exception),
        mean_pickup_excess,
        mean_transit_excess,
        exception_rate,
    )

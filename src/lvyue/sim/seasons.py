"""When things happen: the payment calendar, the announcement windows, festival slowdowns.

All instants are int64 epoch seconds (UTC); the constants are written in Beijing time as the
announcements write them.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from lvyue.model.time import epoch_seconds, parse_instant

Seconds = npt.NDArray[np.int64]
HOUR = 3600
DAY = 86400


def bj(text: str) -> int:
    """Epoch seconds of a Beijing wall-clock time."""
    return epoch_seconds(parse_instant(text))


FIRST_DAY = date(2023, 1, 1)
LAST_DAY = date(2024, 3, 31)
DAYS = (LAST_DAY - FIRST_DAY).days + 1
DAY_STARTS = np.array([bj(str(FIRST_DAY + timedelta(days=i))) for i in range(DAYS)], np.int64)

# Windows as [start, end) epoch seconds.
SF_PAY = (bj("2023-01-14 00:00:00"), bj("2023-02-03 00:00:00"))  # SF-1
SF_SHIP_BY = bj("2023-02-04 23:59:59")  # SF-4
SF_SHIPPED = (bj("2023-01-14 00:00:00"), bj("2023-02-05 00:00:00"))  # SF-6, SF-7
SF_AFTERSALE = (bj("2023-01-14 00:00:00"), bj("2023-01-30 00:00:00"))  # SF-9
NY_PAY = (bj("2024-02-02 00:00:00"), bj("2024-02-21 00:00:00"))  # NY-1
NY_SHIP_BY = bj("2024-02-22 23:59:59")  # NY-1
VF_PAY = (bj("2024-02-08 00:00:00"), bj("2024-02-15 00:00:00"))  # VF-2

# Instants at the edges of the windows: some orders are paid exactly there.
EDGES = np.array(
    [
        bj(t)
        for t in (
            "2023-01-13 23:59:59",
            "2023-01-14 00:00:00",
            "2023-02-02 23:59:59",
            "2023-02-03 00:00:00",
            "2024-02-01 23:59:59",
            "2024-02-02 00:00:00",
            "2024-02-20 23:59:59",
            "2024-02-21 00:00:00",
        )
    ],
    np.int64,
)
FLOWER_EDGES = np.array(
    [
        bj(t)
        for t in (
            "2024-02-07 23:59:59",
            "2024-02-08 00:00:00",
            "2024-02-14 23:59:59",
            "2024-02-15 00:00:00",
        )
    ],
    np.int64,
)

# Orders by hour of the day (Beijing): quiet nights, lunch bump, evening live-stream peak.
HOUR_WEIGHTS = np.array(
    [
        3,
        1.5,
        0.8,
        0.5,
        0.4,
        0.5,
        1,
        2,
        3.5,
        4.5,
        5,
        5.5,
        6,
        5.5,
        5,
        5,
        5,
        5.5,
        6.5,
        8,
        9.5,
        10,
        9,
        6,
    ]
)
# Monday .. Sunday.
WEEKDAY_WEIGHTS = np.array([0.92, 0.9, 0.93, 0.95, 1.02, 1.13, 1.15])

# (first day, last day, factor) multiplying the daily volume.
GENERAL_EVENTS = (
    ("2023-01-05", "2023-01-13", 1.3),  # 年货节
    ("2023-01-18", "2023-01-27", 0.45),  # 春节
    ("2023-06-01", "2023-06-17", 1.3),
    ("2023-06-18", "2023-06-18", 2.5),  # 618
    ("2023-10-31", "2023-11-10", 1.5),
    ("2023-11-11", "2023-11-11", 3.0),  # 双11
    ("2023-12-12", "2023-12-12", 1.6),
    ("2024-01-20", "2024-02-03", 1.3),  # 年货节
    ("2024-02-07", "2024-02-17", 0.5),  # 春节
)
FLOWER_EVENTS = (
    ("2023-02-10", "2023-02-14", 5.0),  # 情人节
    ("2023-03-06", "2023-03-08", 2.5),  # 妇女节
    ("2023-05-10", "2023-05-14", 3.0),  # 母亲节
    ("2023-05-18", "2023-05-20", 4.0),  # 520
    ("2023-08-18", "2023-08-22", 4.0),  # 七夕
    ("2024-02-08", "2024-02-12", 8.0),  # 情人节 2024 (VF window)
    ("2024-02-13", "2024-02-14", 12.0),
)


def _day_index(text: str) -> int:
    return (date.fromisoformat(text) - FIRST_DAY).days


def day_weights(flower: bool) -> npt.NDArray[np.float64]:
    """Relative order volume per day of the simulated period."""
    days = np.arange(DAYS)
    weekday = (FIRST_DAY.weekday() + days) % 7
    weights = (1.0 + 0.35 * days / DAYS) * WEEKDAY_WEIGHTS[weekday]
    for first, last, factor in FLOWER_EVENTS if flower else GENERAL_EVENTS:
        weights[_day_index(first) : _day_index(last) + 1] *= factor
    result: npt.NDArray[np.float64] = weights
    return result


def _cdf(weights: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    cdf = np.cumsum(weights)
    result: npt.NDArray[np.float64] = cdf / cdf[-1]
    return result


GENERAL_CDF = _cdf(day_weights(False))
FLOWER_CDF = _cdf(day_weights(True))
HOUR_CDF = _cdf(HOUR_WEIGHTS.astype(np.float64))

# Carriers slow down around the Spring Festival (peaks on 除夕 2023-01-21 and 2024-02-09).
_FESTIVALS = np.array([bj("2023-01-21 00:00:00"), bj("2024-02-09 00:00:00")], np.int64)


def slowdown(moments: Seconds) -> npt.NDArray[np.float64]:
    """Multiplier (>= 1) on pickup, sorting and transit times at these instants."""
    factor = np.ones(len(moments))
    for peak in _FESTIVALS:
        days = (moments - peak) / DAY
        factor += 1.2 * np.exp(-((days / 6.0) ** 2))
    return factor


def draw_pay_times(rng: np.random.Generator, flower: npt.NDArray[np.bool_]) -> Seconds:
    """Payment instants with the seasonal, weekly and daily profile; some at window edges."""
    n = len(flower)
    u = rng.random(n)
    day = np.where(flower, np.searchsorted(FLOWER_CDF, u), np.searchsorted(GENERAL_CDF, u))
    hour = np.searchsorted(HOUR_CDF, rng.random(n))
    pay = DAY_STARTS[np.minimum(day, DAYS - 1)] + hour * HOUR + rng.integers(0, HOUR, n)
    edge = rng.random(n) < 0.004
    pay[edge] = EDGES[rng.integers(0, len(EDGES), int(edge.sum()))]
    flower_edge = flower & (rng.random(n) < 0.01)
    pay[flower_edge] = FLOWER_EDGES[rng.integers(0, len(FLOWER_EDGES), int(flower_edge.sum()))]
    return pay.astype(np.int64)


# A world that lives at an instant (the demo's now, docs/simulator.md): the orders the calendar
# would place after it are paid in the days just before it instead.
LIVE_DAYS = 3


def live_pay_times(rng: np.random.Generator, pay: Seconds, live_at: int) -> Seconds:
    """``pay`` with every payment at or after ``live_at`` moved into the ``LIVE_DAYS`` days
    before it (hour-of-day profile kept): nothing has happened after "now", and the moment
    the world lives at has orders in every stage — paid, shipping, some running late."""
    later = pay >= live_at
    n = int(later.sum())
    today = (live_at + 8 * HOUR) // DAY * DAY - 8 * HOUR  # Beijing midnight before live_at
    hour = np.searchsorted(HOUR_CDF, rng.random(n))
    moved = today - rng.integers(0, LIVE_DAYS, n) * DAY + hour * HOUR + rng.integers(0, HOUR, n)
    moved = np.where(moved >= live_at, moved - LIVE_DAYS * DAY, moved)  # later today: earlier
    out = pay.copy()
    out[later] = moved
    return out


def within(moments: Seconds, window: tuple[int, int]) -> npt.NDArray[np.bool_]:
    return (moments >= window[0]) & (moments < window[1])

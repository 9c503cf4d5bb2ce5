"""Small synthetic marketplace for diagnosis tests (vectorised; fixed seed).

Small and exact where the simulator is large and realistic: a known poor outlet, a known
poor route, merchants with slow handover, and settlement drawn from a true model written
independently of the simulator's (``true_probability``), a second check of the settlement
model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from lvyue.diagnosis import Thresholds

CITIES = [
    ("浙江省", "杭州市"),
    ("浙江省", "宁波市"),
    ("广东省", "广州市"),
    ("北京市", "北京市"),
    ("四川省", "成都市"),
    ("新疆维吾尔自治区", "乌鲁木齐市"),
]
CARRIERS = ["zhongtong", "yuantong", "shunfeng"]
INDUSTRIES = ["服饰内衣", "食品饮料"]
POOR_OUTLET = "yuantong-杭州市-1"  # picks up slowly
POOR_ROUTE = ("zhongtong", "杭州市", "北京市")  # delivers late
START = 1672502400  # 2023-01-01 00:00 Beijing = 2022-12-31T16:00Z
# True settlement model (same shape as lvyue.sim.truth): settled = not returned and not
# refunded; refund log-odds = base + 0.5·pickup days beyond 24 h + 0.8·transit beyond the
# lane standard (in standards) + 1.8·exception; P(returned | exception) = 0.35.
TRUE_BASE = {"服饰内衣": -2.4, "食品饮料": -2.9}


# Thresholds for the synthetic marketplace (the shipped ones come from the rulebook).
THRESHOLDS = Thresholds(
    route_on_time_rate_min=0.85,
    route_exception_rate_max=0.08,
    outlet_pickup_24h_rate_min=0.85,
    min_volume=30,
    control_after_weeks=3,
    lift_after_weeks=2,
    min_history_orders=100,
)


@dataclass
class Synth:
    facts: dict[str, pa.Table]
    features: dict[str, np.ndarray]  # per order: merchant index, industry index, the truth inputs


def _ts(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~valid
    return pa.array(seconds.astype("int64"), type=pa.int64(), mask=mask).cast(
        pa.timestamp("s", tz="UTC")
    )


def true_probability(industry: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """P(settled) from raw (pickup_h from shipping, transit_h, standard_h, exception);
    ``industry`` holds names. Same signature as a fitted model's ``predict``."""
    pickup_h, transit_h, std_h, exception = raw.T
    base = np.array([TRUE_BASE[str(i)] for i in industry])
    logit = (
        base
        + 0.5 * np.maximum(pickup_h - 24.0, 0) / 24.0
        + 0.8 * np.maximum(transit_h / std_h - 1.0, 0)
        + 1.8 * exception
    )
    refund = 1.0 / (1.0 + np.exp(-logit))
    return (1 - 0.35 * exception) * (1 - refund)


def make(orders: int = 20_000, merchants: int = 40, weeks: int = 6, seed: int = 7) -> Synth:
    rng = np.random.default_rng(seed)
    n = orders
    m_industry = np.arange(merchants) % len(INDUSTRIES)
    m_handover = rng.gamma(2.0, 4.0, merchants)  # hours from pay to ship, per merchant
    m_origin = rng.integers(0, 3, merchants)  # ships from the first three cities
    merchant = rng.integers(0, merchants, n)
    carrier = rng.integers(0, len(CARRIERS), n)
    origin = m_origin[merchant]
    dest = rng.integers(0, len(CITIES), n)
    outlet_no = rng.integers(0, 2, n)
    pay = START + rng.integers(0, weeks * 7 * 86400, n)
    ship = pay + (rng.exponential(m_handover[merchant]) * 3600).astype(np.int64)
    outlet = np.array(
        [
            f"{CARRIERS[c]}-{CITIES[o][1]}-{k}"
            for c, o, k in zip(carrier, origin, outlet_no, strict=True)
        ]
    )
    slow_outlet = outlet == POOR_OUTLET
    pickup_delay_h = rng.gamma(2.0, 3.0, n) + np.where(slow_outlet, 30.0, 0.0)
    pickup = ship + (pickup_delay_h * 3600).astype(np.int64)
    same_city = origin == dest
    same_prov = np.array([CITIES[o][0] == CITIES[d][0] for o, d in zip(origin, dest, strict=True)])
    remote = dest == 5
    base_days = np.where(same_city, 0.3, np.where(same_prov, 1.0, np.where(remote, 3.5, 2.0)))
    poor_route = (carrier == CARRIERS.index(POOR_ROUTE[0])) & (origin == 0) & (dest == 3)
    transit_days = base_days + rng.gamma(2.0, 0.2, n) + np.where(poor_route, 2.5, 0.0)
    signed = pickup + (transit_days * 86400).astype(np.int64)
    exception = rng.random(n) < np.where(poor_route, 0.15, 0.01)
    std = np.where(same_city, 1, np.where(same_prov, 2, np.where(remote, 5, 3)))
    day = lambda s: (s + 8 * 3600) // 86400  # noqa: E731
    late = (day(signed) - day(pickup)) > std
    raw = np.column_stack(
        [(pickup - ship) / 3600.0, (signed - pickup) / 3600.0, 24.0 * std, exception]
    )
    names = np.array(INDUSTRIES)[m_industry[merchant]]
    prob = true_probability(names, raw)
    settled = rng.random(n) < prob
    order_ids = np.array([f"O{i:07d}" for i in range(n)])
    waybills = np.array([f"W{i:09d}" for i in range(n)])
    orders_t = pa.table(
        {
            "order_id": order_ids,
            "merchant_id": np.array([f"M{i:03d}" for i in merchant]),
            "merchant_type": np.full(n, "domestic"),
            "category": np.array([INDUSTRIES[i] + ">测试" for i in m_industry[merchant]]),
            "industry": np.array([INDUSTRIES[i] for i in m_industry[merchant]]),
            "ship_mode": np.full(n, "spot"),
            "pay_time": _ts(pay),
            "promised_ship_time": pa.nulls(n, pa.timestamp("s", tz="UTC")),
            "delayed_shipping": np.zeros(n, bool),
            "ship_time": _ts(ship),
            "confirmed_receipt_time": pa.nulls(n, pa.timestamp("s", tz="UTC")),
            "inspection_code": pa.nulls(n, pa.string()),
            "carrier": np.array([CARRIERS[c] for c in carrier]),
            "waybill": waybills,
            "origin_province": np.array([CITIES[o][0] for o in origin]),
            "origin_city": np.array([CITIES[o][1] for o in origin]),
            "dest_province": np.array([CITIES[d][0] for d in dest]),
            "dest_city": np.array([CITIES[d][1] for d in dest]),
            "amount": np.round(rng.uniform(20, 300, n), 2),
            "complained": rng.random(n) < np.where(late, 0.08, 0.01),
            "logistics_return": rng.random(n) < np.where(exception, 0.2, 0.005),
            "settled": settled,
        }
    )
    kinds = np.concatenate([np.full(n, "pickup"), np.full(n, "signed"), np.full(n, "exception")])
    ex_idx = np.flatnonzero(exception)
    tracking = pa.table(
        {
            "carrier": np.concatenate(
                [orders_t["carrier"].to_numpy()] * 2 + [orders_t["carrier"].to_numpy()[ex_idx]]
            ),
            "waybill": np.concatenate([waybills, waybills, waybills[ex_idx]]),
            "time": _ts(np.concatenate([pickup, signed, pickup[ex_idx] + 7200])),
            "kind": kinds[: 2 * n + ex_idx.size],
            "outlet": np.concatenate([outlet, np.full(n, None), np.full(ex_idx.size, None)]),
        }
    )
    merchants_t = pa.table(
        {
            "merchant_id": [f"M{i:03d}" for i in range(merchants)],
            "name": [f"店铺{i}" for i in range(merchants)],
            "merchant_type": ["domestic"] * merchants,
            "industry": [INDUSTRIES[i] for i in m_industry],
            "topic_analysis_enabled": [i % 5 != 4 for i in range(merchants)],
        }
    )
    return Synth(
        facts={"orders": orders_t, "tracking": tracking, "merchants": merchants_t},
        features={
            "merchant": merchant,
            "industry": m_industry[merchant],
            "late": late,
            "exception": exception,
            "settled": settled,
        },
    )

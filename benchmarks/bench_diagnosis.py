"""Diagnosis benchmark: weekly governance and one merchant's full diagnosis over N shipments,
against a hand-written DuckDB SQL query for the same weekly governance (results checked equal).

Usage: ``python -m benchmarks.run --only diagnosis [--orders N | --full]`` (default 1 M
shipments; ``--full`` = 10 M). Data: a vectorised synthetic marketplace in the diagnosis input
shape (orders, pickup/signed/exception scans, lane standards), generated here because the
project simulator writes ~10 k orders/s, too slow for 10 M in a benchmark run.
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
from rich.console import Console
from rich.table import Table

from lvyue.diagnosis import Period, Thresholds, diagnose, parse_week
from lvyue.diagnosis.governance import outlet_week, route_week
from lvyue.diagnosis.metrics import rows
from lvyue.diagnosis.source import shipments_expr
from lvyue.diagnosis.standards import standards_data
from lvyue.diagnosis.weeks import week_bounds

CITIES = [
    ("浙江省", "杭州市"), ("浙江省", "宁波市"), ("广东省", "广州市"), ("广东省", "深圳市"),
    ("北京市", "北京市"), ("上海市", "上海市"), ("四川省", "成都市"), ("湖北省", "武汉市"),
    ("江苏省", "南京市"), ("江苏省", "苏州市"), ("山东省", "青岛市"), ("河南省", "郑州市"),
    ("新疆维吾尔自治区", "乌鲁木齐市"), ("西藏自治区", "拉萨市"), ("福建省", "厦门市"),
    ("陕西省", "西安市"),
]  # fmt: skip
CARRIERS = ["zhongtong", "yuantong", "yunda", "shentong", "jtexpress", "shunfeng", "jd", "ems"]
INDUSTRIES = ["服饰", "美妆", "食品", "数码", "家居"]
START = 1672502400  # 2023-01-01 00:00 Beijing
WEEKS = 26
THRESHOLDS = Thresholds(0.85, 0.05, 0.85, 30, 3, 2, 100)


def _flat(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _dict(indices: np.ndarray, values: list[str]) -> pa.Array:
    codes = pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(values))
    return _flat(codes.cast(pa.string()))


def generate(n: int, seed: int = 0) -> dict[str, pa.Table]:
    """Orders (diagnosis columns, epoch seconds), tracking scans and lane standards."""
    rng = np.random.default_rng(seed)
    merchants = max(50, n // 2_000)
    m = rng.integers(0, merchants, n)
    m_origin = rng.integers(0, len(CITIES), merchants)
    origin, dest = m_origin[m], rng.integers(0, len(CITIES), n)
    carrier = rng.integers(0, len(CARRIERS), n)
    outlet_no = carrier * len(CITIES) * 4 + origin * 4 + rng.integers(0, 4, n)
    outlet_names = [f"{c}-{o[1]}-{k}" for c in CARRIERS for o in CITIES for k in range(4)]
    pay = START + rng.integers(0, WEEKS * 7 * 86_400, n)
    ship = pay + (rng.gamma(2.0, 5.0, n) * 3600).astype(np.int64)
    slow = (outlet_no % 37) == 0  # some persistently slow outlets
    pickup = ship + ((rng.gamma(2.0, 3.0, n) + slow * 30) * 3600).astype(np.int64)
    km = np.abs(origin - dest) * 150.0 + 30.0
    signed = pickup + ((18 + km / 28) * rng.gamma(8.0, 0.14, n) * 3600).astype(np.int64)
    exception = rng.random(n) < 0.02
    ids = np.arange(n)
    waybill = _flat(pa.array(ids.astype(str)))
    carrier_col = _dict(carrier, CARRIERS)
    orders = pa.table(
        {
            "order_id": waybill,
            "merchant_id": _dict(m, [f"M{i:06d}" for i in range(merchants)]),
            "carrier": carrier_col,
            "waybill": waybill,
            "industry": _dict(m % len(INDUSTRIES), INDUSTRIES),
            "category": pa.nulls(n, pa.string()),
            "origin_province": _dict(origin, [c[0] for c in CITIES]),
            "origin_city": _dict(origin, [c[1] for c in CITIES]),
            "dest_province": _dict(dest, [c[0] for c in CITIES]),
            "dest_city": _dict(dest, [c[1] for c in CITIES]),
            "dest_district": pa.nulls(n, pa.string()),
            "outlet": pa.nulls(n, pa.string()),  # taken from the pickup scan, as in real facts
            "pay_s": pay,
            "ship_s": ship,
            "complained": rng.random(n) < 0.01,
            "logistics_return": rng.random(n) < 0.005,
            "settled": rng.random(n) < 0.9 - 0.2 * exception,
            "amount": np.round(rng.uniform(20, 300, n), 2),
        }
    )
    ex = np.flatnonzero(exception)
    tracking = pa.table(
        {
            "carrier": pa.concat_arrays([carrier_col, carrier_col, carrier_col.take(ex)]),
            "waybill": pa.concat_arrays([waybill, waybill, waybill.take(ex)]),
            "t": np.concatenate([pickup, signed, pickup[ex] + 7200]),
            "kind": _dict(
                np.concatenate([np.zeros(n, int), np.ones(n, int), np.full(ex.size, 2)]),
                ["pickup", "signed", "exception"],
            ),
            "outlet": pa.concat_arrays(
                [_dict(outlet_no, outlet_names), pa.nulls(n + ex.size, pa.string())]
            ),
        }
    )
    pairs = [(o, d) for o in range(len(CITIES)) for d in range(len(CITIES))]
    lanes = pa.table(
        {
            "lane_origin": [CITIES[o][1] for o, _ in pairs],
            "lane_dest": [CITIES[d][1] for _, d in pairs],
            "lane_hours": [18 + (abs(o - d) * 150.0 + 30.0) / 28 for o, d in pairs],
        }
    )
    return {"orders": orders, "tracking": tracking, "lanes": lanes}


def governance_sql(week_no: int) -> tuple[str, str]:
    """The same weekly route and outlet governance, written by hand for DuckDB."""
    lo, hi = week_bounds(week_no)
    std = standards_data()
    remote = " OR ".join(
        f"starts_with(o.{side}_province, '{name}')"
        for name in std["remote_provinces"]["names"]
        for side in ("dest", "origin")
    )
    base = f"""
    WITH per_waybill AS (
      SELECT carrier, waybill,
             min(t) FILTER (WHERE kind = 'pickup') AS pickup_s,
             min(t) FILTER (WHERE kind = 'signed') AS signed_s,
             min(outlet) FILTER (WHERE kind = 'pickup') AS scan_outlet,
             bool_or(kind = 'exception') AS exception
      FROM tracking GROUP BY carrier, waybill
    ), s AS (
      SELECT o.carrier, o.origin_city, o.dest_city,
             coalesce(o.outlet, w.scan_outlet) AS outlet,
             coalesce(w.exception, false) AS exception,
             w.pickup_s, w.signed_s, o.ship_s,
             ceil(coalesce(l.lane_hours, 24.0 * CASE
                 WHEN o.origin_province IS NULL OR o.dest_province IS NULL THEN NULL
                 WHEN o.origin_city IS NOT NULL AND o.origin_city = o.dest_city
                      THEN {std["same_city"]}
                 WHEN o.origin_province = o.dest_province THEN {std["same_province"]}
                 WHEN {remote} THEN {std["remote_provinces"]["days"]}
                 ELSE {std["default"]} END) / 24.0) AS standard_days
      FROM orders o
      LEFT JOIN per_waybill w ON o.carrier = w.carrier AND o.waybill = w.waybill
      LEFT JOIN lanes l ON o.origin_city = l.lane_origin AND o.dest_city = l.lane_dest
      WHERE coalesce(o.ship_s, w.pickup_s) >= {lo} AND coalesce(o.ship_s, w.pickup_s) < {hi}
    )"""
    day = "floor((({x}) + 28800) / 86400)"
    on_time = (
        f"CASE WHEN signed_s IS NULL THEN NULL ELSE "
        f"{day.format(x='signed_s')} - {day.format(x='pickup_s')} <= standard_days END"
    )
    routes = f"""{base}
    SELECT carrier, origin_city, dest_city, count(*) AS volume,
           CASE WHEN count({on_time}) > 0
                THEN sum(CAST({on_time} AS BIGINT)) / count({on_time}) END AS on_time_rate,
           sum(CAST(exception AS BIGINT)) / count(exception) AS exception_rate,
           quantile_cont((signed_s - pickup_s) / 3600.0, 0.9) AS transit_p90_h
    FROM s WHERE carrier IS NOT NULL AND origin_city IS NOT NULL AND dest_city IS NOT NULL
    GROUP BY ALL"""
    outlets = f"""{base}
    SELECT carrier, outlet, count(*) AS volume,
           sum(CAST(coalesce((pickup_s - ship_s) / 3600.0 <= 24, false) AS BIGINT)) / count(*)
             AS pickup_24h_rate,
           quantile_cont((pickup_s - ship_s) / 3600.0, 0.9) AS pickup_p90_h
    FROM s WHERE carrier IS NOT NULL AND outlet IS NOT NULL
    GROUP BY ALL"""
    return routes, outlets


def _timed(fn: Any, repeat: int) -> tuple[float, Any]:
    best, result = math.inf, None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def _equal(a: list[dict[str, Any]], b: list[dict[str, Any]], keys: tuple[str, ...]) -> bool:
    index = {tuple(r[k] for k in keys): r for r in b}
    if len(a) != len(b):
        return False
    for row in a:
        other = index.get(tuple(row[k] for k in keys))
        if other is None:
            return False
        for name, value in row.items():
            if not _close(value, other[name]):
                return False
    return True


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench_diagnosis")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--full", action="store_true", help="10 M shipments")
    parser.add_argument("--repeat", type=int, default=3)
    args, _ = parser.parse_known_args(argv)
    n = 10_000_000 if args.full else args.orders
    console = Console()
    started = time.perf_counter()
    data = generate(n)
    generated = time.perf_counter() - started
    con = ibis.duckdb.connect()
    raw = con.con  # the same DuckDB connection runs the hand-written SQL
    for name, table in data.items():
        raw.register(name, table)
    shipments = shipments_expr(con.table("orders"), con.table("tracking"), con.table("lanes"))
    week = parse_week("2023-W10")
    route_sql, outlet_sql = governance_sql(week)

    def ibis_governance() -> tuple[Any, Any]:
        return (
            con.to_pyarrow(route_week(shipments, week)),
            con.to_pyarrow(outlet_week(shipments, week)),
        )

    def sql_governance() -> tuple[Any, Any]:
        return raw.sql(route_sql).to_arrow_table(), raw.sql(outlet_sql).to_arrow_table()

    # Interleaved, best of ``repeat`` each, after one warm-up of each (first scans page the
    # Arrow data in; measured first, either side would look ~2x slower on this machine).
    sql_governance(), ibis_governance()
    t_sql = t_ibis = math.inf
    for _ in range(args.repeat):
        t, (r_sql, o_sql) = _timed(sql_governance, 1)
        t_sql = min(t_sql, t)
        t, (r_ibis, o_ibis) = _timed(ibis_governance, 1)
        t_ibis = min(t_ibis, t)
    equal = _equal(rows(r_ibis), rows(r_sql), ("carrier", "origin_city", "dest_city")) and _equal(
        rows(o_ibis), rows(o_sql), ("carrier", "outlet")
    )
    merchant = "M000001"
    period = Period.parse("2023-01-01..2023-06-30")
    merchants = pa.table({"merchant_id": [merchant], "topic_analysis_enabled": [True]})
    t_diag, diagnosis = _timed(
        lambda: diagnose(shipments, merchants, merchant, period, THRESHOLDS, backend=con), 1
    )
    table = Table(title=f"Diagnosis benchmark: {n:,} shipments (generated in {generated:.1f} s)")
    for col in ("measure", "seconds", "vs hand-written SQL", "checked"):
        table.add_column(col, justify="right" if col != "measure" else "left")
    table.add_row("weekly governance, hand-written DuckDB SQL", f"{t_sql:.2f}", "1.00×", "")
    table.add_row(
        "weekly governance, Ibis expressions",
        f"{t_ibis:.2f}",
        f"{t_ibis / t_sql:.2f}×",
        "equal" if equal else "[red]DIFFERENT[/red]",
    )
    table.add_row(
        f"full diagnosis of {merchant} ({diagnosis.volume:,} shipped, {diagnosis.topic_status})",
        f"{t_diag:.2f}",
        f"{t_diag / t_sql:.2f}×",
        "",
    )
    console.print(table)
    console.print(
        f"routes {r_ibis.num_rows}, outlets {o_ibis.num_rows}; target Ibis ≤ 1.5× SQL: "
        f"{'met' if t_ibis <= 1.5 * t_sql else 'missed'}"
    )


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])

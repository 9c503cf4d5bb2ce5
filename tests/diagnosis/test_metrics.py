"""Metric definitions on hand-made shipments: durations, rates, natural-day on-time, weeks."""

from __future__ import annotations

import math
from datetime import date, datetime

import ibis
import pyarrow as pa

from lvyue.diagnosis import build, parse_week, week_label
from lvyue.diagnosis.metrics import aggregations, fmt, rows
from lvyue.diagnosis.period import Period
from lvyue.diagnosis.weeks import week_of
from lvyue.model.time import BEIJING

CON = ibis.duckdb.connect()


def _bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BEIJING)  # type: ignore[misc]


def _facts(
    orders: list[dict[str, object]], scans: list[tuple[str, datetime, str]]
) -> dict[str, pa.Table]:
    base = {
        "merchant_id": "M1",
        "carrier": "zhongtong",
        "origin_province": "浙江省",
        "origin_city": "杭州市",
        "dest_province": "北京市",
        "dest_city": "北京市",
        "industry": "服饰",
    }
    table = pa.Table.from_pylist([{**base, **o} for o in orders])
    tracking = pa.Table.from_pylist(
        [{"carrier": "zhongtong", "waybill": w, "time": t, "kind": k} for w, t, k in scans]
    )
    return {"orders": table, "tracking": tracking}


def _summary(facts: dict[str, pa.Table]) -> dict[str, object]:
    t = build(facts).shipments
    shipped = t.filter(t.shipped)
    return rows(CON.to_pyarrow(shipped.aggregate(**aggregations(shipped))))[0]


def test_durations_rates_and_natural_day_on_time() -> None:
    orders = [
        # picked up 10 h after pay; Hangzhou → Beijing standard 3 days; signed 3 days later
        {
            "order_id": "a",
            "waybill": "A",
            "pay_time": _bj(2023, 2, 6, 8),
            "ship_time": _bj(2023, 2, 6, 12),
        },
        # picked up 30 h after pay, signed 4 natural days after the pickup day: late
        {
            "order_id": "b",
            "waybill": "B",
            "pay_time": _bj(2023, 2, 6, 8),
            "ship_time": _bj(2023, 2, 7, 9),
        },
        # picked up at 23:30, signed 3 days + 1 h later at 00:30: 4 natural days, late
        {
            "order_id": "c",
            "waybill": "C",
            "pay_time": _bj(2023, 2, 6, 20),
            "ship_time": _bj(2023, 2, 6, 21),
        },
    ]
    scans = [
        ("A", _bj(2023, 2, 6, 18), "pickup"),
        ("A", _bj(2023, 2, 9, 17), "signed"),
        ("B", _bj(2023, 2, 7, 14), "pickup"),
        ("B", _bj(2023, 2, 11, 9), "signed"),
        ("B", _bj(2023, 2, 8, 9), "exception"),
        ("C", _bj(2023, 2, 6, 23, 30), "pickup"),
        ("C", _bj(2023, 2, 10, 0, 30), "signed"),
    ]
    s = _summary(_facts(orders, scans))
    assert s["volume"] == 3
    assert math.isclose(s["pickup_from_pay_h_avg"], (10 + 30 + 3.5) / 3)
    assert math.isclose(s["pickup_from_pay_h_p50"], 10.0)
    assert math.isclose(s["pickup_24h_rate"], 2 / 3)
    assert math.isclose(s["pickup_48h_rate"], 1.0)
    assert math.isclose(s["on_time_rate"], 1 / 3)
    assert math.isclose(s["exception_rate"], 1 / 3)
    assert s["settlement_rate"] is None  # no outcomes recorded: not 0, not NaN


def test_empty_population_is_null_not_nan() -> None:
    facts = _facts(
        [{"order_id": "a", "waybill": "A", "pay_time": _bj(2023, 2, 6, 8), "ship_time": None}],
        [],
    )
    s = _summary(facts)
    assert s["volume"] == 0
    for key, value in s.items():
        assert value is None or not (isinstance(value, float) and math.isnan(value)), key
    assert fmt("on_time_rate", s["on_time_rate"]) == "n/a"


def test_iso_weeks_are_beijing_weeks() -> None:
    assert week_label(parse_week("2023-W05")) == "2023-W05"
    assert parse_week("2023-W05") == week_of(date(2023, 1, 30)) == week_of(date(2023, 2, 5))
    orders = [
        {
            "order_id": "mon",
            "waybill": "A",
            "pay_time": _bj(2023, 1, 30),
            "ship_time": _bj(2023, 1, 30),
        },
        {
            "order_id": "sun",
            "waybill": "B",
            "pay_time": _bj(2023, 2, 5, 23),
            "ship_time": _bj(2023, 2, 5, 23, 59),
        },
        {
            "order_id": "next",
            "waybill": "C",
            "pay_time": _bj(2023, 2, 6),
            "ship_time": _bj(2023, 2, 6),
        },
    ]
    t = build(_facts(orders, [])).shipments
    table = CON.to_pyarrow(t.select("order_id", "week_no")).to_pylist()
    weeks = {r["order_id"]: r["week_no"] for r in table}
    assert weeks["mon"] == weeks["sun"] == parse_week("2023-W05")
    assert weeks["next"] == parse_week("2023-W06")


def test_period_bounds_are_beijing_days() -> None:
    lo, hi = Period.parse("2023-01-01..2023-01-31").bounds()
    assert lo == int(_bj(2023, 1, 1).timestamp())
    assert hi - lo == 31 * 86_400

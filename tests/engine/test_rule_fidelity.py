"""Issue 10 rule-fidelity readings through both engine paths (online and DuckDB batch, held
equal by the ``evaluate`` fixture): SF-7 scope, SF-9 events, agreement vs rejection."""

from __future__ import annotations

from tests.engine.conftest import Evaluate, at, order, scan

AS_OF = "2024-06-01 00:00:00"


def test_sf7_cross_border_gets_120_hours_in_the_window(evaluate: Evaluate) -> None:
    cb = {"merchant_type": "cross_border"}
    v = evaluate(
        AS_OF,
        orders=[
            order("last", "2023-02-03 10:00:00", ship_time="2023-02-04 23:59:59", **cb),
            order("late", "2023-02-03 10:00:00", ship_time="2023-02-04 23:59:59", **cb),
            order("after", "2023-02-03 10:00:00", ship_time="2023-02-05 00:00:00", **cb),
        ],
        tracking=[
            scan("last", "2023-02-05 10:00:00"),
            scan("last", "2023-02-10 10:00:00", "hub_arrival"),  # exactly 120 h
            scan("late", "2023-02-05 10:00:00"),
            scan("late", "2023-02-10 10:00:01", "hub_arrival"),  # 120 h + 1 s
            scan("after", "2023-02-05 10:00:00"),
            scan("after", "2023-02-06 10:00:00", "hub_departure"),  # exactly 24 h
        ],
    )
    assert (v["last", "", "first_hub"]["clauses"], v["last", "", "first_hub"]["status"]) == (
        "SF-7", "ok")  # fmt: skip
    assert v["late", "", "first_hub"]["status"] == "violated"
    assert v["late", "", "first_hub"]["deadline"] == at("2023-02-10 10:00:00")
    assert (v["after", "", "first_hub"]["clauses"], v["after", "", "first_hub"]["status"]) == (
        "DR-2b", "ok")  # fmt: skip
    assert v["last", "", "pickup"]["clauses"] == "DR-2a"  # SF-6 is domestic only

"""ship_deadline and ship_mode at both sides of each seed window edge (SF-4, NY-1, VF-2..5)."""

from __future__ import annotations

from tests.engine.conftest import FLOWERS, Evaluate, at, order, scan

AS_OF = "2024-06-01 00:00:00"


def test_sf4_delayed_tool_window_edge(evaluate: Evaluate) -> None:
    v = evaluate(
        AS_OF,
        orders=[
            # paid on the last second of SF-1's window with the tool: SF-4's fixed date
            order("in", "2023-02-02 23:59:59", delayed_shipping="true",
                  ship_time="2023-02-04 23:59:59"),
            order("in_late", "2023-02-02 23:59:59", delayed_shipping="true",
                  ship_time="2023-02-05 00:00:00"),
            # one second later: the daily 48 h, and the tool was not allowed any more
            order("out", "2023-02-03 00:00:00", delayed_shipping="true",
                  ship_time="2023-02-04 23:59:59"),
            # in the window without the tool: the original deadline (SF-4 last sentence)
            order("no_tool", "2023-02-01 10:00:00", ship_time="2023-02-04 23:59:59"),
        ],
    )  # fmt: skip
    assert v["in", "", "ship_deadline"]["status"] == "ok"
    assert v["in", "", "ship_deadline"]["clauses"] == "SF-4"
    assert v["in", "", "ship_deadline"]["deadline"] == at("2023-02-04 23:59:59")
    assert v["in_late", "", "ship_deadline"]["status"] == "violated"
    assert v["in_late", "", "ship_deadline"]["reason"] == "late"
    assert v["in", "", "ship_mode"]["status"] == "ok"
    assert "SF-2" in v["in", "", "ship_mode"]["clauses"].split(";")
    out = v["out", "", "ship_deadline"]
    assert out["deadline"] == at("2023-02-05 00:00:00")  # 48 h after payment
    assert out["status"] == "ok"
    assert out["clauses"].startswith("DR-1")
    # outside the window the flag has no effect (no DR-1e): the mode alone is judged
    assert v["out", "", "ship_mode"]["status"] == "ok"
    assert v["out", "", "ship_mode"]["clauses"] == "DR-1f"
    no_tool = v["no_tool", "", "ship_deadline"]
    assert no_tool["deadline"] == at("2023-02-03 10:00:00")
    assert no_tool["status"] == "violated"


def test_ny1_window_edges_and_festival_open(evaluate: Evaluate) -> None:
    v = evaluate(
        AS_OF,
        orders=[
            order("before", "2024-02-01 23:59:59", ship_time="2024-02-04 10:00:00"),
            order("first", "2024-02-02 00:00:00", ship_time="2024-02-22 23:59:59"),
            order("last", "2024-02-20 23:59:59", ship_time="2024-02-23 00:00:00"),
            order("after", "2024-02-21 00:00:00", ship_time="2024-02-22 23:59:59"),
            order("open", "2024-02-05 00:00:00", festival_open="true",
                  ship_time="2024-02-07 00:00:01"),
        ],
    )  # fmt: skip
    assert v["before", "", "ship_deadline"]["deadline"] == at("2024-02-03 23:59:59")
    assert v["before", "", "ship_deadline"]["status"] == "violated"
    assert v["first", "", "ship_deadline"]["clauses"] == "NY-1"
    assert v["first", "", "ship_deadline"]["deadline"] == at("2024-02-22 23:59:59")
    assert v["first", "", "ship_deadline"]["status"] == "ok"
    assert v["last", "", "ship_deadline"]["clauses"] == "NY-1"
    assert v["last", "", "ship_deadline"]["status"] == "violated"
    assert v["after", "", "ship_deadline"]["deadline"] == at("2024-02-23 00:00:00")
    assert v["open", "", "ship_deadline"]["status"] == "violated"  # daily 48 h applies
    assert v["open", "", "ship_deadline"]["clauses"] != "NY-1"


def test_vf2_flowers_keep_the_daily_limit_inside_the_window_only(evaluate: Evaluate) -> None:
    v = evaluate(
        AS_OF,
        orders=[
            order("in", "2024-02-14 23:59:59", category=FLOWERS, ship_time="2024-02-17 00:00:00"),
            order("out", "2024-02-15 00:00:00", category=FLOWERS, ship_time="2024-02-17 00:00:00"),
            order("other", "2024-02-14 23:59:59", ship_time="2024-02-17 00:00:00"),
        ],
    )
    assert v["in", "", "ship_deadline"]["clauses"] == "VF-2;DR-1a"  # VF-2 cancels NY-1
    assert v["in", "", "ship_deadline"]["deadline"] == at("2024-02-16 23:59:59")
    assert v["in", "", "ship_deadline"]["status"] == "violated"
    assert v["out", "", "ship_deadline"]["clauses"] == "NY-1"
    assert v["out", "", "ship_deadline"]["status"] == "ok"
    assert v["other", "", "ship_deadline"]["clauses"] == "NY-1"


def test_vf3_vf4_vf5_modes_and_tool_for_flowers(evaluate: Evaluate) -> None:
    v = evaluate(
        AS_OF,
        orders=[
            order("fd_before", "2024-02-07 23:59:59", category=FLOWERS, ship_mode="factory_direct"),
            order("fd_from", "2024-02-08 00:00:00", category=FLOWERS, ship_mode="factory_direct"),
            order("fd_later", "2024-03-01 00:00:00", category=FLOWERS, ship_mode="factory_direct",
                  ship_time="2024-03-01 10:00:00"),
            # VF-5 withdraws the permission to ship by 厂家自送 from 02-08 00:00:00 whatever the
            # pay time: paid before, shipped on either side of the instant
            order("fd_paid_before_shipped_before", "2024-02-06 10:00:00", category=FLOWERS,
                  ship_mode="factory_direct", ship_time="2024-02-07 23:59:59"),
            order("fd_paid_before_shipped_after", "2024-02-06 10:00:00", category=FLOWERS,
                  ship_mode="factory_direct", ship_time="2024-02-08 00:00:00"),
            order("presale_in", "2024-02-10 00:00:00", category=FLOWERS, ship_mode="presale",
                  promised_ship_time="2024-02-13 00:00:00"),
            order("presale_after", "2024-02-15 00:00:00", category=FLOWERS, ship_mode="presale",
                  promised_ship_time="2024-02-18 00:00:00"),
            order("tool_in", "2024-02-08 00:00:00", category=FLOWERS, delayed_shipping="true"),
        ],
    )  # fmt: skip
    assert v["fd_before", "", "ship_mode"]["status"] == "ok"
    assert v["fd_from", "", "ship_mode"]["status"] == "violated"
    assert v["fd_from", "", "ship_mode"]["reason"] == "mode_not_allowed"
    assert v["fd_later", "", "ship_mode"]["clauses"] == "VF-5"
    assert v["fd_later", "", "ship_mode"]["status"] == "violated"
    assert v["fd_paid_before_shipped_before", "", "ship_mode"]["status"] == "ok"
    after = v["fd_paid_before_shipped_after", "", "ship_mode"]
    assert (after["status"], after["clauses"]) == ("violated", "VF-5")
    assert v["presale_in", "", "ship_mode"]["clauses"] == "VF-4"
    assert v["presale_in", "", "ship_mode"]["status"] == "violated"
    assert v["presale_after", "", "ship_mode"]["status"] == "ok"
    assert v["tool_in", "", "ship_mode"]["reason"] == "delayed_tool_not_allowed"
    assert v["tool_in", "", "ship_mode"]["clauses"] == "VF-3"


def test_sf5_cross_border_presale_ships_by_the_promise(evaluate: Evaluate) -> None:
    """Met by the carrier's pickup record for BBC bonded (SF-5c), not by the upload."""
    v = evaluate(
        AS_OF,
        orders=[
            order("p_ok", "2023-01-20 10:00:00", merchant_type="cross_border",
                  ship_mode="presale", promised_ship_time="2023-01-30 10:00:00",
                  ship_time="2023-01-29 10:00:00", cross_border_mode="bbc_bonded"),
            order("p_late", "2023-01-20 10:00:00", merchant_type="cross_border",
                  ship_mode="presale", promised_ship_time="2023-01-30 10:00:00",
                  ship_time="2023-01-29 10:00:00", cross_border_mode="bbc_bonded"),
        ],
        tracking=[scan("p_ok", "2023-01-30 10:00:00"), scan("p_late", "2023-01-30 10:00:01")],
    )  # fmt: skip
    assert v["p_ok", "", "ship_deadline"]["deadline"] == at("2023-01-30 10:00:00")
    assert v["p_ok", "", "ship_deadline"]["status"] == "ok"
    assert v["p_ok", "", "ship_deadline"]["clauses"] == "SF-5;SF-5c"
    assert v["p_late", "", "ship_deadline"]["status"] == "violated"


def test_reports_waive_or_move_the_deadline(evaluate: Evaluate) -> None:
    late = {"ship_time": "2023-03-10 00:00:00"}
    v = evaluate(
        AS_OF,
        orders=[order(o, "2023-03-01 00:00:00", **late) for o in ("w", "n", "r", "x")],
        reports=[
            {"report_id": "R1", "merchant_id": "m1", "type": "force_majeure",
             "status": "approved", "order_ids": "w"},
            {"report_id": "R2", "merchant_id": "m1", "type": "consumer_requested_delay",
             "status": "approved", "order_ids": "n;zz", "new_deadline": "2023-03-10 00:00:00"},
            {"report_id": "R3", "merchant_id": "m1", "type": "address_abnormal",
             "status": "rejected", "order_ids": "r"},
            {"report_id": "R4", "merchant_id": "m2", "type": "force_majeure",
             "status": "approved", "order_ids": "x"},
        ],
    )  # fmt: skip
    assert v["w", "", "ship_deadline"]["status"] == "exempted"
    assert v["w", "", "ship_deadline"]["clauses"].endswith(";SF-8")
    assert v["w", "", "pickup"]["status"] == "exempted"
    assert v["n", "", "ship_deadline"]["status"] == "ok"
    assert v["n", "", "ship_deadline"]["deadline"] == at("2023-03-10 00:00:00")
    assert v["n", "", "ship_deadline"]["clauses"].endswith(";SF-8")
    assert v["n", "", "pickup"]["status"] == "violated"  # a new ship deadline only
    assert v["r", "", "ship_deadline"]["status"] == "violated"
    assert v["x", "", "ship_deadline"]["status"] == "violated"  # another merchant's report


def test_delayed_flag_outside_an_opened_window_has_no_effect(evaluate: Evaluate) -> None:
    """SF-4: "未使用【延迟发货】工具设置的,按订单原有发货时效考核"; no source forbids the flag on
    ordinary days, so outside SF-2's window it changes nothing and is no violation."""
    v = evaluate(
        AS_OF,
        orders=[
            order("before_ok", "2023-01-13 23:59:59", delayed_shipping="true",
                  ship_time="2023-01-15 23:59:59"),
            order("before_late", "2023-01-13 23:59:59", delayed_shipping="true",
                  ship_time="2023-01-16 00:00:00"),
            order("ordinary", "2024-04-01 10:00:00", delayed_shipping="true",
                  ship_time="2024-04-03 10:00:00"),
            order("ordinary_late", "2024-04-01 10:00:00", delayed_shipping="true",
                  ship_time="2024-04-03 10:00:01"),
            order("first_in", "2023-01-14 00:00:00", delayed_shipping="true",
                  ship_time="2023-02-04 23:59:59"),
        ],
    )  # fmt: skip
    for oid in ("before_ok", "before_late", "ordinary", "ordinary_late"):
        assert v[oid, "", "ship_mode"]["status"] == "ok"
        assert v[oid, "", "ship_mode"]["clauses"] == "DR-1f"
        assert v[oid, "", "ship_deadline"]["clauses"] == "DR-1a"
    assert v["before_ok", "", "ship_deadline"]["status"] == "ok"
    assert v["before_late", "", "ship_deadline"]["status"] == "violated"  # 48 h stands
    assert v["ordinary", "", "ship_deadline"]["status"] == "ok"
    assert v["ordinary_late", "", "ship_deadline"]["status"] == "violated"
    assert v["first_in", "", "ship_deadline"]["clauses"] == "SF-4"
    assert v["first_in", "", "ship_deadline"]["status"] == "ok"
    assert v["first_in", "", "ship_mode"]["clauses"] == "DR-1f;SF-2"

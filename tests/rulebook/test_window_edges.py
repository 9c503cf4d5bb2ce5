"""Every parameter-setting clause of SF, NY, VF and BT on both sides of each window edge.

Each row: the clause under test, the parameter, an order in its scope, the clock the window
is read on, and two instants one second apart (Beijing time) with the clause that governs
at each. Windows are written end-inclusive (23:59:59) and compared exactly.
"""

from __future__ import annotations

import pytest
from tests.rulebook.helpers import FLOWER, FLOWER_CITY, PHONE, order

from lvyue.rulebook import load_rulebook

DOMESTIC_SPOT = {"merchant_type": "domestic", "ship_mode": "spot"}
DELAYED = {**DOMESTIC_SPOT, "flags": ("delayed_shipping",)}
CB_PRESALE = {"merchant_type": "cross_border", "ship_mode": "presale"}
AFTER_SHIP = {"flags": ("shipped_before_aftersale",)}
FLOWERS = {**DOMESTIC_SPOT, "category": FLOWER}

# (clause, parameter, order fields, clock, last second on one side, first on the other,
#  governing clause at the first instant, at the second)
EDGES = [
    # Spring Festival 2023: paid 2023-01-14 00:00:00 – 2023-02-02 23:59:59
    ("SF-2", "ship.delayed_tool_allowed", DOMESTIC_SPOT, "pay_time",
     "2023-01-13 23:59:59", "2023-01-14 00:00:00", None, "SF-2"),
    ("SF-2", "ship.delayed_tool_allowed", DOMESTIC_SPOT, "pay_time",
     "2023-02-02 23:59:59", "2023-02-03 00:00:00", "SF-2", None),
    ("SF-4", "ship.deadline", DELAYED, "pay_time",
     "2023-01-13 23:59:59", "2023-01-14 00:00:00", "DR-1a", "SF-4"),
    ("SF-4", "ship.deadline", DELAYED, "pay_time",
     "2023-02-02 23:59:59", "2023-02-03 00:00:00", "SF-4", "DR-1a"),
    ("SF-5", "ship.deadline", CB_PRESALE, "pay_time",
     "2023-01-13 23:59:59", "2023-01-14 00:00:00", "DR-1b", "SF-5"),
    ("SF-5", "ship.deadline", CB_PRESALE, "pay_time",
     "2023-02-02 23:59:59", "2023-02-03 00:00:00", "SF-5", "DR-1b"),
    ("SF-5a", "ship.presale_min", CB_PRESALE, "pay_time",
     "2023-01-13 23:59:59", "2023-01-14 00:00:00", "DR-1c", "SF-5a"),
    ("SF-5a", "ship.presale_min", CB_PRESALE, "pay_time",
     "2023-02-02 23:59:59", "2023-02-03 00:00:00", "SF-5a", "DR-1c"),
    ("SF-5b", "ship.presale_max", CB_PRESALE, "pay_time",
     "2023-01-13 23:59:59", "2023-01-14 00:00:00", "DR-1d", "SF-5b"),
    ("SF-5b", "ship.presale_max", CB_PRESALE, "pay_time",
     "2023-02-02 23:59:59", "2023-02-03 00:00:00", "SF-5b", "DR-1d"),
    # shipped 2023-01-14 00:00:00 – 2023-02-04 23:59:59
    ("SF-6", "pickup.limit", DOMESTIC_SPOT, "ship_time",
     "2023-01-13 23:59:59", "2023-01-14 00:00:00", "DR-2a", "SF-6"),
    ("SF-6", "pickup.limit", DOMESTIC_SPOT, "ship_time",
     "2023-02-04 23:59:59", "2023-02-05 00:00:00", "SF-6", "DR-2a"),
    ("SF-7", "first_hub.limit", DOMESTIC_SPOT, "ship_time",
     "2023-01-13 23:59:59", "2023-01-14 00:00:00", "DR-2b", "SF-7"),
    ("SF-7", "first_hub.limit", DOMESTIC_SPOT, "ship_time",
     "2023-02-04 23:59:59", "2023-02-05 00:00:00", "SF-7", "DR-2b"),
    # after-sales steps 2023-01-14 00:00:00 – 2023-01-29 23:59:59, after shipping
    *[
        (cid, param, AFTER_SHIP, clock, before, after, first, second)
        for cid, param, daily, clock in [  # each step on its own event (SF-9 as worded)
            ("SF-9a", "aftersale.merchant_confirm.limit", "DR-3a", "aftersale_created"),
            ("SF-9b", "aftersale.consumer_return.limit", "DR-3b", "aftersale_agreed"),
            ("SF-9c", "aftersale.merchant_receive.limit", "DR-3c", "return_shipped"),
            ("SF-9d", "aftersale.refund.limit", "DR-3d", "return_shipped"),
        ]
        for before, after, first, second in [
            ("2023-01-13 23:59:59", "2023-01-14 00:00:00", daily, cid),
            ("2023-01-29 23:59:59", "2023-01-30 00:00:00", cid, daily),
        ]
    ],
    # New Year 2024: paid 2024-02-02 00:00:00 – 2024-02-20 23:59:59 (not 春节不打烊)
    ("NY-1", "ship.deadline", DOMESTIC_SPOT, "pay_time",
     "2024-02-01 23:59:59", "2024-02-02 00:00:00", "DR-1a", "NY-1"),
    ("NY-1", "ship.deadline", DOMESTIC_SPOT, "pay_time",
     "2024-02-20 23:59:59", "2024-02-21 00:00:00", "NY-1", "DR-1a"),
    # 春节不打烊 products paid 2024-01-29 – 2024-02-17
    ("NY-2", "aftersale.consumer_return.limit", {"flags": ("festival_open",)}, "pay_time",
     "2024-01-28 23:59:59", "2024-01-29 00:00:00", "DR-3b", "NY-2"),
    ("NY-2", "aftersale.consumer_return.limit", {"flags": ("festival_open",)}, "pay_time",
     "2024-02-17 23:59:59", "2024-02-18 00:00:00", "NY-2", "DR-3b"),
    # Valentine's 2024 flowers: paid 2024-02-08 00:00:00 – 2024-02-14 23:59:59
    ("VF-2", "ship.deadline", FLOWERS, "pay_time",
     "2024-02-07 23:59:59", "2024-02-08 00:00:00", "NY-1", "VF-2;DR-1a"),
    ("VF-2", "ship.deadline", FLOWERS, "pay_time",
     "2024-02-14 23:59:59", "2024-02-15 00:00:00", "VF-2;DR-1a", "NY-1"),
    ("VF-2", "ship.deadline", {**FLOWERS, "category": FLOWER_CITY}, "pay_time",
     "2024-02-14 23:59:59", "2024-02-15 00:00:00", "VF-2;DR-1a", "NY-1"),
    ("VF-3", "ship.delayed_tool_allowed", FLOWERS, "pay_time",
     "2024-02-07 23:59:59", "2024-02-08 00:00:00", None, "VF-3"),
    ("VF-3", "ship.delayed_tool_allowed", FLOWERS, "pay_time",
     "2024-02-14 23:59:59", "2024-02-15 00:00:00", "VF-3", None),
    # shipped on 02-20: VF-5 (read on ship_time) governs outside VF-4's pay window
    ("VF-4", "ship.modes_allowed", {**FLOWERS, "ship_time": "2024-02-20 10:00:00"}, "pay_time",
     "2024-02-07 23:59:59", "2024-02-08 00:00:00", "VF-5", "VF-4"),
    ("VF-4", "ship.modes_allowed", {**FLOWERS, "ship_time": "2024-02-20 10:00:00"}, "pay_time",
     "2024-02-14 23:59:59", "2024-02-15 00:00:00", "VF-4", "VF-5"),
    ("VF-5", "ship.modes_allowed", {**FLOWERS, "pay_time": "2024-02-01 10:00:00"}, "ship_time",
     "2024-02-07 23:59:59", "2024-02-08 00:00:00", "DR-1f", "VF-5"),  # whatever the pay time
    ("VF-6", "settlement.delay", FLOWERS, "pay_time",
     "2024-02-07 23:59:59", "2024-02-08 00:00:00", "DR-5a", "VF-6"),
    ("VF-6", "settlement.delay", FLOWERS, "pay_time",
     "2024-02-14 23:59:59", "2024-02-15 00:00:00", "VF-6", "DR-5a"),
    # BTAS: shipped from 2022-02-23 00:00:00, every leaf under the second-hand categories
    ("BT-1", "inspection.required", {"category": PHONE}, "ship_time",
     "2022-02-22 23:59:59", "2022-02-23 00:00:00", None, "BT-1"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("clause", "parameter", "fields", "clock", "first", "second", "at_first", "at_second"),
    EDGES,
    ids=[f"{e[0]}@{e[5][:10]}" for e in EDGES],
)
def test_window_edge(
    clause: str,
    parameter: str,
    fields: dict[str, object],
    clock: str,
    first: str,
    second: str,
    at_first: str | None,
    at_second: str,
) -> None:
    rb = load_rulebook()
    assert any(clause in (x or "").split(";") for x in (at_first, at_second))
    for moment, expected in ((first, at_first), (second, at_second)):
        answer = rb.resolve(parameter, order(**fields, **{clock: moment}))  # type: ignore[arg-type]
        got = answer.cited if answer else None  # VF-2;DR-1a: VF-2 cancelled NY-1
        assert got == expected, f"{parameter} at {moment}: {got} != {expected}"


def test_vf5_withdraws_factory_direct_after_the_window() -> None:
    shipped = order(**FLOWERS, pay_time="2024-03-01", ship_time="2024-03-02")
    answer = load_rulebook().resolve("ship.modes_allowed", shipped)
    assert answer is not None and answer.clause_id == "VF-5"
    assert sorted(m.value for m in answer.value) == [  # type: ignore[union-attr]
        "deposit_presale", "presale", "spot", "step"]  # fmt: skip


def test_vf5_edge_is_seen_in_what_vf4_overrides() -> None:
    """Inside the festival window VF-4 (spot only) is an exception to VF-5 (no 厂家自送)."""
    rb = load_rulebook()
    first, second = "2024-02-07 23:59:59", "2024-02-08 00:00:00"
    before = rb.resolve("ship.modes_allowed", order(**FLOWERS, pay_time=first, ship_time=first))
    after = rb.resolve("ship.modes_allowed", order(**FLOWERS, pay_time=second, ship_time=second))
    assert before is not None and (before.clause_id, before.overridden) == ("DR-1f", ())
    assert after is not None and (after.clause_id, after.overridden) == ("VF-4", ("DR-1f", "VF-5"))


# The values the seasonal clauses set, as REQUIREMENTS.md states them.
SEASONAL_VALUES = [
    ("SF-2", "true"),
    ("SF-4", "2023-02-04 23:59:59"),
    ("SF-5", "0 s after promised_ship_time"),
    ("SF-5a", "48 h after pay_time"),
    ("SF-5b", "15 d after pay_time"),
    ("SF-6", "48 h after ship_time"),
    ("SF-7", "5 d after pickup_time"),  # 120 h
    ("SF-9a", "10 d after aftersale_created"),
    ("SF-9b", "28 d after aftersale_agreed"),
    ("SF-9c", "21 d after return_shipped"),
    ("SF-9d", "21 d after return_signed"),
    ("NY-1", "2024-02-22 23:59:59"),
    ("NY-2", "28 d after aftersale_agreed"),
    ("VF-3", "false"),
    ("VF-4", "spot"),
    ("VF-5", "deposit_presale;presale;spot;step"),
    ("VF-6", "30 d after receipt_time"),
    ("BT-1", "true"),
]


@pytest.mark.parametrize(("clause", "value"), SEASONAL_VALUES)
def test_seasonal_clause_values(clause: str, value: str) -> None:
    """(VF-2 has no value of its own: it cancels NY-1, see test_semantics.py.)"""
    from lvyue.rulebook import format_value

    c = load_rulebook().clause(clause)
    assert c.value is not None and format_value(c.value) == value

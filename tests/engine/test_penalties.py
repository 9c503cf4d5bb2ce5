"""DR-6 caps: points per day and week, deposit per order and per store-day (Beijing days)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyarrow.compute as pc
import pytest
from tests.engine.conftest import at

from lvyue.engine.order import OrderFacts
from lvyue.engine.penalties import Late, penalties
from lvyue.model.enums import MerchantType, ShipMode
from lvyue.model.rows import OrderRow


def _late(i: int, deadline: str, late_days: float | None) -> Late:
    due = at(deadline)
    row = OrderRow(order_id=f"o{i:03d}", merchant_id="m1", merchant_type=MerchantType.DOMESTIC,
                   category="食品饮料>零食", ship_mode=ShipMode.SPOT,
                   pay_time=due - timedelta(hours=48))  # fmt: skip
    facts = OrderFacts(row)
    shipped = None if late_days is None else due + timedelta(days=late_days)
    return Late(facts, None, due, shipped)


def test_day_and_week_caps(rulebook: Any) -> None:
    as_of = at("2023-04-01 00:00:00")
    # 30 orders due on Monday 2023-03-06 (Beijing), never shipped: 2 deductions each
    monday = [_late(i, "2023-03-06 23:00:00", None) for i in range(30)]
    # one due just after Beijing midnight: another day, same ISO week
    tuesday = [_late(100, "2023-03-07 00:00:00", 0.5)]
    table = penalties(monday + tuesday, as_of, rulebook)
    rows = {r["order_id"]: r for r in table.to_pylist()}
    monday_rows = [r for r in table.to_pylist() if r["day"] == "2023-03-06"]
    assert len(monday_rows) == 30
    assert sum(r["points"] for r in monday_rows) == pytest.approx(2.0)  # A2 a day
    assert sum(r["deduction_yuan"] for r in monday_rows) == 500  # 500 yuan a day
    assert rows["o000"]["deduction_yuan"] == 20  # at most twice per order
    assert "points" in rows["o029"]["capped"] and "yuan" in rows["o029"]["capped"]
    assert rows["o100"]["day"] == "2023-03-07"
    assert rows["o100"]["week"] == rows["o000"]["week"] == "2023-W10"
    assert rows["o100"]["points"] == 0.1 and rows["o100"]["deduction_yuan"] == 10


def test_week_cap(rulebook: Any) -> None:
    lates = [_late(d * 100 + i, f"2023-03-{6 + d:02d} 12:00:00", 0.1)
             for d in range(5) for i in range(20)]  # fmt: skip
    table = penalties(lates, at("2023-04-01 00:00:00"), rulebook)
    assert pc.sum(table["points"]).as_py() == pytest.approx(
        6.0
    )  # A6 a week, though 5 days × A2 = A10

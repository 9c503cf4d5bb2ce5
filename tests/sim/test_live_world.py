"""A world living at an instant (the demo's now): nothing is paid after it, and the orders
the calendar would place later are paid in the days just before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow.compute as pc

from lvyue.sim import simulate

NOW = datetime(2024, 2, 10, 4, 0, tzinfo=UTC)


def test_nothing_is_paid_after_the_instant_the_world_lives_at() -> None:
    calendar = simulate(400, 7)["orders"]
    living = simulate(400, 7, live_at=NOW)["orders"]
    later = pc.sum(pc.greater_equal(calendar["pay_time"], NOW)).as_py()
    assert later > 0 and pc.max(living["pay_time"]).as_py() < NOW
    recent = pc.greater_equal(living["pay_time"], NOW - timedelta(days=3))
    before = pc.sum(
        pc.and_(
            pc.greater_equal(calendar["pay_time"], NOW - timedelta(days=3)),
            pc.less(calendar["pay_time"], NOW),
        )
    ).as_py()
    assert pc.sum(recent).as_py() == before + later  # every later order moved, none lost

"""VF-6 "(因违规产生延长账期处罚的订单除外)": which orders an extended settlement reaches and the
date it gives them — the one rule the batch (``settlement_penalties``) and the service's
stored facts share (``engine.clocks``), at both sides of its edge."""

from __future__ import annotations

from datetime import timedelta

from lvyue.engine.clocks import VF6_DAYS, penalty_date, reaches
from lvyue.model.time import parse_instant

START = parse_instant("2024-03-20 00:00:00")


def test_an_order_vf6_already_settled_is_not_reached() -> None:
    settled = START - timedelta(days=VF6_DAYS)  # VF-6 settles it exactly at the start
    assert not reaches(settled, START)
    assert reaches(settled + timedelta(seconds=1), START)
    assert reaches(None, START)  # not received yet: its settlement is still ahead


def test_the_penalty_date_is_receipt_plus_the_days_and_unknown_before_receipt() -> None:
    receipt = parse_instant("2024-02-19 00:00:01")
    assert penalty_date(receipt, 60) == parse_instant("2024-04-19 00:00:01")
    assert penalty_date(None, 60) is None

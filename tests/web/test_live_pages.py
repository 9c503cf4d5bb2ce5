"""The at-risk list and the dashboard read the live verdicts the worker keeps (issue 13's
``live_verdicts``): an order shows once the worker has judged it, only to its own merchant
(and operators), and the dashboard counts it among deadlines due within 12 hours."""

from __future__ import annotations

from datetime import timedelta

from webkit import login

from lvyue.api.testing import ServiceWorld
from lvyue.model.clock import business_now
from lvyue.model.time import BEIJING
from lvyue.store import make_engine, make_session_factory
from lvyue.web.pages import operator
from lvyue.web.security import LoginThrottle
from lvyue.workflows import config
from lvyue.workflows.live import drain


def _order(service: ServiceWorld, order_id: str, merchant: str, hours_ago: float) -> None:
    paid = (business_now() - timedelta(hours=hours_ago)).astimezone(BEIJING)
    body = {"order_id": order_id, "merchant_id": merchant, "merchant_type": "domestic",
            "category": "服饰内衣>女装", "ship_mode": "spot",
            "pay_time": paid.strftime("%Y-%m-%d %H:%M:%S")}  # fmt: skip
    answer = service.client.post("/orders", json=body, headers=service.auth(f"{merchant}.main"))
    assert answer.status_code == 201, answer.text


def test_at_risk_and_dashboard_come_from_the_live_verdicts(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    _order(service, "live-risk-1", "m1", hours_ago=40)  # 48 h to ship: 8 h left, at risk
    _order(service, "live-risk-2", "m2", hours_ago=40)
    _order(service, "live-calm-1", "m1", hours_ago=1)  # 47 h left: pending, not at risk
    shop = login(service, "m1.main")
    assert "live-risk-1" not in shop.get("/console/orders/at-risk").text  # not judged yet
    drain(make_session_factory(make_engine(service.url)), config.rules())
    risky = shop.get("/console/orders/at-risk").text
    assert "live-risk-1" in risky and "status-at_risk" in risky
    assert "live-risk-2" not in risky and "live-calm-1" not in risky  # another shop; pending
    operator_client = login(service, "operator")
    assert "live-risk-2" in operator_client.get("/console/orders/at-risk").text
    operator._counts.clear()  # the dashboard's counts are kept a minute: count afresh
    board = operator_client.get("/console/dashboard").text
    due = board.split("未来 12 小时内到期")[1].split("<strong>")[1].split("</strong>")[0]
    assert int(due) >= 2 and "实时判定" in board

"""The at-risk list and the dashboard read the live verdicts the worker keeps (issue 13's
``live_verdicts``): an order shows once the worker has judged it, only to its own merchant
(and operators), and the dashboard counts it among deadlines due within 12 hours. The orders
board shows the live verdicts still current and judges the rest: the evaluator's answer."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from webkit import login

from lvyue.api.testing import ServiceWorld
from lvyue.engine.online import evaluate_order
from lvyue.engine.verdict import Verdict
from lvyue.model.clock import business_now
from lvyue.model.time import BEIJING
from lvyue.store import live, make_engine, make_session_factory
from lvyue.store.live_tables import LiveVerdict
from lvyue.store.tables import Order
from lvyue.web.pages import operator
from lvyue.web.pages import orders as orders_page
from lvyue.web.security import LoginThrottle
from lvyue.workflows import config
from lvyue.workflows.actions.stored_facts import facts_for
from lvyue.workflows.live import drain


def _order(service: ServiceWorld, order_id: str, merchant: str, hours_ago: float) -> None:
    paid = (business_now() - timedelta(hours=hours_ago)).astimezone(BEIJING)
    body = {"order_id": order_id, "merchant_id": merchant, "merchant_type": "domestic",
            "category": "服饰内衣>女装", "ship_mode": "spot",
            "pay_time": paid.strftime("%Y-%m-%d %H:%M:%S")}  # fmt: skip
    answer = service.client.post("/orders", json=body, headers=service.auth("operator"))
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


def _board(service: ServiceWorld, ids: list[str], now: datetime) -> dict[str, list[Verdict]]:
    """The orders board's verdicts of ``ids`` and the evaluator's own, judged afresh."""
    factory = make_session_factory(make_engine(service.url))
    with factory() as session:
        rows = list(session.scalars(select(Order).where(Order.order_id.in_(ids))))
        board = orders_page.verdicts_of(session, rows, now)
        fresh = [evaluate_order(f, now, config.rules()) for f in facts_for(session, rows)]
    assert board == fresh  # the board's answer is the evaluator's, read live or judged
    return {o.order_id: v for o, v in zip(rows, board, strict=True)}


def _clauses_in_store(service: ServiceWorld, order_id: str, text: str) -> None:
    engine = make_engine(service.url)
    with engine.begin() as conn:
        conn.execute(
            update(LiveVerdict).where(LiveVerdict.order_id == order_id).values(clauses=text)
        )


def test_orders_board_reads_current_live_verdicts_and_judges_the_rest(
    service: ServiceWorld,
) -> None:
    _order(service, "board-risk", "m1", hours_ago=40)  # at risk: due again at the deadline
    _order(service, "board-calm", "m1", hours_ago=1)  # pending: due at the 12 h horizon
    ids, now = ["board-risk", "board-calm"], business_now()
    factory = make_session_factory(make_engine(service.url))
    with factory() as session:
        assert live.current(session, ids, now) == {}  # dirty: the worker has not judged them
    before = _board(service, ids, now)
    drain(factory, config.rules(), now)
    assert _board(service, ids, now) == before
    with factory() as session:
        assert set(live.current(session, ids, now)) == set(ids)
    # Read from the store: a kept row shows as it is stored (the evaluator would not say it)…
    _clauses_in_store(service, "board-calm", "KEPT")
    with factory() as session:
        rows = list(session.scalars(select(Order).where(Order.order_id.in_(ids))))
        board = orders_page.verdicts_of(session, rows, now)
        shown = {o.order_id: v for o, v in zip(rows, board, strict=True)}
        assert {v.clauses for v in shown["board-calm"]} == {"KEPT"}
        # …but not once time alone may have changed it (its mark is due), nor as of an
        # instant before it was judged: then the page judges the order itself.
        later = now + timedelta(hours=36)  # past the calm order's at-risk horizon
        assert live.current(session, ids, later) == {}
        assert live.current(session, ids, now - timedelta(seconds=1)) == {}
    _clauses_in_store(service, "board-calm", "KEPT")
    body = {"carrier": "zhongtong", "waybill": "ZT7700112233"}
    answer = service.client.post(
        "/orders/board-calm/shipment", json=body, headers=service.auth("m1.main")
    )
    assert answer.status_code == 201, answer.text  # a write marks the order dirty
    with factory() as session:
        assert set(live.current(session, ids, now)) == {"board-risk"}
    shipped = _board(service, ids, business_now())["board-calm"]  # as of after the shipment
    assert "KEPT" not in {v.clauses for v in shipped}
    assert {v.check.value: v.status.value for v in shipped}["ship_deadline"] == "ok"

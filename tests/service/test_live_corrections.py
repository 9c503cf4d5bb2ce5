"""The live worker under concurrent corrections (issue 12, what the hostile review did not
reach): corrections of the facts an order is judged on are posted, two at a time on one order,
while workers judge the same orders. Afterwards no mark is lost (nothing dirty is left, and
every live verdict equals the online evaluator's on the final facts, which equals lvyue
evaluate's: tests/engine/test_differential.py), and each correction is its own version."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from lvyue.api.app import create_app
from lvyue.api.loopback import serve_on_loopback
from lvyue.api.testing import ServiceWorld
from lvyue.engine.online import evaluate_order
from lvyue.model import format_instant
from lvyue.model.time import epoch_seconds
from lvyue.store import make_engine, make_session_factory, session_scope
from lvyue.store.live_tables import LiveMark, LiveVerdict
from lvyue.store.tables import Order
from lvyue.workflows import config
from lvyue.workflows.actions.stored_facts import facts_for
from lvyue.workflows.live import drain, run_round

NOW = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
ORDERS = 8


def _orders(url: str, auth: dict[str, dict[str, str]]) -> list[str]:
    """ORDERS orders of m1 paid 72 h before NOW and shipped at NOW: ship_deadline violated."""
    ids = []
    with httpx.Client(base_url=url, timeout=120) as client:
        for i in range(ORDERS):
            order_id = f"LC-{i}"
            row = {"order_id": order_id, "merchant_id": "m1", "merchant_type": "domestic",
                   "category": "服饰内衣>女装", "ship_mode": "spot",
                   "pay_time": format_instant(NOW - timedelta(hours=72))}  # fmt: skip
            assert client.post("/orders", json=row, headers=auth["feed"]).status_code == 201
            ship = {"carrier": "zhongtong", "waybill": f"ZTLC{i}"}
            r = client.post(f"/orders/{order_id}/shipment", json=ship, headers=auth["shop"])
            assert r.status_code == 201, r.text
            ids.append(order_id)
    return ids


def _verdicts(session: Any, ids: list[str]) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """(live, expected): the stored live verdicts, and the evaluator's on the stored facts."""
    live = {
        (v.order_id, v.aftersale_id, v.check, v.status, _epoch(v.deadline), v.clauses)
        for v in session.scalars(select(LiveVerdict).where(LiveVerdict.order_id.in_(ids)))
    }
    orders = list(session.scalars(select(Order).where(Order.order_id.in_(ids))))
    expected = {
        (v.order_id, v.aftersale_id, v.check.value, v.status.value, _epoch(v.deadline),
         ";".join(v.clauses) if not isinstance(v.clauses, str) else v.clauses)
        for of in facts_for(session, orders)
        for v in evaluate_order(of, NOW, config.rules())
    }  # fmt: skip
    return live, expected


def _epoch(moment: Any) -> int | None:
    return None if moment is None else epoch_seconds(moment)


def test_corrections_while_workers_judge_lose_no_mark_and_no_version(
    service: ServiceWorld,
) -> None:
    app = create_app(service.url)
    app.state.clock = lambda: NOW
    auth = {"feed": service.auth("operator"), "shop": service.auth("m1.main")}
    factory = make_session_factory(make_engine(service.url))
    with serve_on_loopback(app) as url:
        ids = _orders(url, auth)
        drain(factory, config.rules(), NOW)
        with session_scope(factory) as session:
            live, _ = _verdicts(session, ids)
        assert {row[3] for row in live if row[2] == "ship_deadline"} == {"violated"}
        stop = threading.Event()

        def work() -> None:
            while not stop.is_set():
                run_round(factory, config.rules(), NOW, limit=3)

        workers = [threading.Thread(target=work) for _ in range(2)]
        for worker in workers:
            worker.start()
        # two corrections of each order at once: pay_time 2 h and 3 h before NOW (both ok)
        jobs = [(order_id, hours) for order_id in ids for hours in (2, 3)]

        def correct(job: tuple[str, int]) -> httpx.Response:
            order_id, hours = job
            fix = {
                "pay_time": format_instant(NOW - timedelta(hours=hours)),
                "reason": "以支付系统流水为准",
            }
            with httpx.Client(base_url=url, timeout=120) as client:
                return client.post(
                    f"/orders/{order_id}/corrections", json=fix, headers=auth["feed"]
                )

        try:
            with ThreadPoolExecutor(max_workers=8) as pool:
                answers = list(pool.map(correct, jobs))
        finally:
            stop.set()
            for worker in workers:
                worker.join()
    app.state.engine.dispose()
    assert all(r.status_code == 201 for r in answers), [r.text for r in answers if r.is_error]
    drain(factory, config.rules(), NOW)
    with session_scope(factory) as session:
        assert not session.scalar(select(func.count()).where(LiveMark.dirty.is_(True)))
        live, expected = _verdicts(session, ids)
        versions = dict(session.execute(select(Order.order_id, Order.version)).all())
    factory.kw["bind"].dispose()
    assert live == expected  # no mark lost: every order judged on its final facts
    assert {row[3] for row in live if row[2] == "ship_deadline"} == {"ok"}
    by_order: dict[str, set[int]] = {order_id: set() for order_id in ids}
    for r in answers:
        by_order[r.request.url.path.split("/")[2]].add(r.json()["version"])
    assert by_order == {key: {2, 3} for key in ids}, by_order  # each correction its own version
    assert {versions[order_id] for order_id in ids} == {3}

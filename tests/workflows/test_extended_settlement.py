"""An extended settlement recorded as a measure feeds VF-6's exception end to end (VF-6
"(因违规产生延长账期处罚的订单除外)"): once ``extend_settlement`` is recorded against the store, its
festival orders not yet settled under VF-6 settle at VF-6a's date (MS-8: 60 d after receipt),
in the service's verdicts and in the live worker's; an order VF-6 had already settled when
the measure began keeps VF-6. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from lvyue.api.testing import ServiceWorld
from lvyue.store import SessionFactory, make_engine, make_session_factory, session_scope
from lvyue.store.live_tables import LiveMark, LiveVerdict
from lvyue.workflows import config
from lvyue.workflows.live import Round, drain

if TYPE_CHECKING:
    from conftest import Clock, OrderFactory

FLOWERS = "鲜花速递/花卉仿真/绿植园艺>生活鲜花"
START = datetime(2024, 3, 19, 16, 0, tzinfo=UTC)  # 2024-03-20 00:00:00 Beijing


def _settlement(service: ServiceWorld, order: str) -> tuple[str, str]:
    r = service.client.get(f"/workflows/orders/{order}/verdicts", headers=service.auth("m1.main"))
    assert r.status_code == 200, r.text
    found = next(v for v in r.json() if v["check"] == "settlement")
    return found["clauses"], found["deadline"]


def test_an_extended_settlement_measure_moves_its_orders_to_vf6a(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    clock.now = START

    def festival(paid: str, received: str) -> str:
        return make_order(category=FLOWERS, pay_time=paid, confirmed_receipt_time=received)

    settled = festival("2024-02-10 10:00:00", "2024-02-18 23:59:59")  # VF-6 settled 03-19 23:59:59
    reached = festival("2024-02-10 10:00:00", "2024-02-19 00:00:01")  # VF-6 would be 03-20 00:00:01
    outside = festival("2024-02-07 23:59:59", "2024-02-19 00:00:01")  # paid before VF-6's window
    engine = make_engine(service.url)
    factory = make_session_factory(engine)
    first = drain(factory, config.rules(), START)
    expected = {settled: "VF-6", reached: "VF-6", outside: "DR-5a"}
    assert _live(factory) == expected, _state(factory, first)
    assert _settlement(service, reached) == ("VF-6", "2024-03-20T00:00:01+08:00")

    body: dict[str, Any] = {"merchant_id": "m1", "kind": "extend_settlement",
                            "reason": "VF-8 指标异常", "clause": "VF-8"}  # fmt: skip
    r = service.client.post("/measures", json=body, headers=service.auth("operator"))
    assert r.status_code == 201, r.text

    assert _settlement(service, settled) == ("VF-6", "2024-03-19T23:59:59+08:00")
    assert _settlement(service, reached) == ("VF-6a", "2024-04-19T00:00:01+08:00")  # 60 d
    assert _settlement(service, outside) == ("DR-5a", "2024-02-29T00:00:01+08:00")

    second = drain(factory, config.rules(), START)  # the measure marked the orders it may reach
    expected = {settled: "VF-6", reached: "VF-6a", outside: "DR-5a"}
    assert _live(factory) == expected, _state(factory, second)
    engine.dispose()


def _live(factory: SessionFactory) -> dict[str, str]:
    """The live worker's settlement clauses by order."""
    with session_scope(factory) as s:
        query = select(LiveVerdict.order_id, LiveVerdict.clauses).where(
            LiveVerdict.check == "settlement"
        )
        return {order: clauses for order, clauses in s.execute(query)}


def _state(factory: SessionFactory, done: Round) -> str:
    """What the drain did and every mark and live verdict left (a failure, once in CI, had a
    settlement verdict missing and was never reproduced: the next one says what was there)."""
    with session_scope(factory) as s:
        marks = [(m.order_id, m.dirty, m.marked_at, m.due_at) for m in s.scalars(select(LiveMark))]
        rows = [(v.order_id, v.check, v.status, v.clauses, v.facts_at, v.as_of)
                for v in s.scalars(select(LiveVerdict))]  # fmt: skip
    return f"{done}\nmarks: {marks}\nverdicts: {rows}"

"""Violations from the engine's verdicts, DR-6 penalties, VF-7 measures and settlement dates
through the HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from lvyue.api.testing import ServiceWorld
from lvyue.model import format_instant
from lvyue.store import make_engine, make_session_factory, session_scope
from lvyue.store.hooks import sweeps
from lvyue.store.sweeps import run_sweep

if TYPE_CHECKING:
    from conftest import Clock, OrderFactory

FLOWERS = "鲜花速递/花卉仿真/绿植园艺>生活鲜花"


def _run(service: ServiceWorld, name: str, now: datetime) -> Any:
    engine = make_engine(service.url)
    try:
        sweep = next(s for s in sweeps() if s.name == name)
        return run_sweep(make_session_factory(engine), sweep, now, "test-worker")
    finally:
        engine.dispose()


def _get(service: ServiceWorld, path: str, who: str = "m1.main", **params: Any) -> Any:
    r = service.client.get(path, params=params, headers=service.auth(who))
    assert r.status_code == 200, r.text
    return r.json()


def test_late_orders_become_violations_once_and_penalties_follow_dr6(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    paid = clock.now - timedelta(days=3, hours=1)  # deadline 25 h ago
    late = make_order(pay_time=format_instant(paid), product_id=f"P-LATE-{service.backend}")
    on_time = make_order()
    first = _run(service, "workflows.violations_from_verdicts", clock.now)
    assert first.ran and first.result["recorded"] >= 1
    _run(service, "workflows.violations_from_verdicts", clock.advance(hours=1))  # next period

    found = [v for v in _get(service, "/violations") if v["order_id"] in (late, on_time)]
    assert [(v["order_id"], v["check"], v["clause"]) for v in found] == [
        (late, "ship_deadline", "DR-1a")
    ]
    rows = [p for p in _get(service, "/penalties") if p["order_id"] == late]
    assert len(rows) == 1
    assert rows[0]["points"] == 0.1  # A0.1 per late order
    assert rows[0]["deduction_yuan"] == 20.0  # 10 yuan per started day late, 26 h → twice
    assert "DR-6a" in rows[0]["clauses"]
    assert not [p for p in _get(service, "/penalties", "m2.main") if p["order_id"] == late]


def test_operator_measures_are_visible_to_the_merchant(service: ServiceWorld, clock: Clock) -> None:
    c, op = service.client, service.auth("operator")
    body = {
        "merchant_id": "m1",
        "product_id": "P-ROSE",
        "kind": "delist_product",
        "reason": "情人节期间虚假发货",
    }
    r = c.post("/measures", json=body, headers=op)
    assert r.status_code == 201, r.text
    mid = r.json()["measure_id"]
    assert r.json()["clause"] == "VF-7" and r.json()["state"] == "active"
    assert mid in {m["measure_id"] for m in _get(service, "/measures")}
    assert mid not in {m["measure_id"] for m in _get(service, "/measures", "m2.main")}
    assert c.post("/measures", json=body, headers=service.auth("m1.main")).status_code == 403
    no_product = c.post("/measures", json={**body, "product_id": None}, headers=op)
    assert no_product.status_code == 422 and no_product.json()["detail"]["field"] == "product_id"
    freeze = c.post(
        "/measures",
        json={**body, "product_id": None, "kind": "freeze_funds", "until": "2026-12-31T00:00:00"},
        headers=op,
    )
    assert freeze.status_code == 422  # a naive time is refused
    lifted = c.post(f"/measures/{mid}/lift", headers=op)
    assert lifted.status_code == 200 and lifted.json()["state"] == "lifted"
    assert c.post(f"/measures/{mid}/lift", headers=op).status_code == 409
    assert c.post(f"/measures/{mid}/lift", headers=service.auth("m1.main")).status_code == 403


def test_settlement_dates_come_from_the_rulebook(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    daily = make_order(confirmed_receipt_time="2026-03-01 10:00:00", pay_time="2026-02-20 10:00")
    got = _get(service, f"/workflows/orders/{daily}/settlement")
    assert (got["settles_at"], got["clause"]) == ("2026-03-11T10:00:00+08:00", "DR-5a")
    roses = make_order(
        category=FLOWERS,
        pay_time="2024-02-10 10:00:00",
        confirmed_receipt_time="2024-02-12 10:00:00",
    )
    got = _get(service, f"/workflows/orders/{roses}/settlement")
    assert (got["settles_at"], got["clause"]) == ("2024-03-13T10:00:00+08:00", "VF-6")
    open_order = make_order()
    assert _get(service, f"/workflows/orders/{open_order}/settlement")["settles_at"] is None
    r = service.client.get(f"/workflows/orders/{daily}/settlement", headers=service.auth("m2.main"))
    assert r.status_code == 404


def test_verdicts_as_of_an_instant(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    order = make_order(pay_time="2026-01-05 10:00:00")
    before = datetime(2026, 1, 6, tzinfo=UTC).isoformat()
    verdicts = _get(service, f"/workflows/orders/{order}/verdicts", as_of=before)
    assert next(v for v in verdicts if v["check"] == "ship_deadline")["status"] == "pending"
    verdicts = _get(service, f"/workflows/orders/{order}/verdicts")
    assert next(v for v in verdicts if v["check"] == "ship_deadline")["status"] == "violated"
    naive = service.client.get(
        f"/workflows/orders/{order}/verdicts",
        params={"as_of": "2026-01-06T00:00:00"},
        headers=service.auth("m1.main"),
    )
    assert naive.status_code == 422 and naive.json()["detail"]["field"] == "as_of"


def test_a_product_is_banned_once_by_an_order_late_more_than_twice(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    """DR-6g "同一订单延迟发货超过2次": one order late more than twice (each started 24 h past
    its 48 h deadline is once), not the product's count of late orders."""
    product = f"P-BAN-{service.backend}"
    now = clock.now
    twice = format_instant(now - timedelta(hours=96))  # exactly 48 h late at ``now``: twice
    thrice = format_instant(now - timedelta(hours=96, seconds=1))  # 48 h + 1 s: three times
    edge = f"P-EDGE-{service.backend}"
    late = [make_order(pay_time=twice, product_id=edge),
            make_order(pay_time=thrice, product_id=product),
            make_order(pay_time=thrice, product_id=product)]  # fmt: skip
    engine = make_engine(service.url)
    try:
        factory = make_session_factory(engine)
        for name in ("workflows.violations_from_verdicts", "workflows.penalty_bans"):
            sweep = next(s for s in sweeps() if s.name == name)
            for moment in (now, now):  # twice: the second adds nothing
                with session_scope(factory) as session:
                    sweep.run(session, moment)
    finally:
        engine.dispose()
    rows = [p for p in _get(service, "/penalties") if p["order_id"] in late]
    banned = {p["order_id"]: p["product_banned"] for p in rows}
    assert [banned[o] for o in late] == [False, True, False]  # the first one over, once
    bans = [m for m in _get(service, "/measures") if m["product_id"] == product]
    assert [(m["kind"], m["state"]) for m in bans] == [("ban_product", "active")]
    assert "DR-6g" in bans[0]["clause"]
    assert not [m for m in _get(service, "/measures") if m["product_id"] == edge]


def _refund_at(service: ServiceWorld, clock: Clock, order: str, when: datetime) -> None:
    """The consumer asks for a refund at ``when``; the merchant agrees (refund-only: refunded)."""
    clock.now = when
    r = service.client.post("/workflows/after-sales", json={"order_id": order,
                            "type": "refund_only"}, headers=service.auth("consumer"))  # fmt: skip
    assert r.status_code == 201, r.text
    aid = r.json()["aftersale_id"]
    r = service.client.post(f"/workflows/after-sales/{aid}/decision", json={"agree": True},
                            headers=service.auth("m1.main"))  # fmt: skip
    assert r.json()["state"] == "refunded", r.text


def test_an_order_refunded_on_a_request_before_its_deadline_owes_no_shipment(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    """Item 0 through the service: verdicts and the violations sweep, both sides of the edge."""
    start = clock.now
    paid = start - timedelta(days=5)
    deadline = paid + timedelta(hours=48)
    before = make_order(pay_time=format_instant(paid), consumer_id="consumer")
    after = make_order(pay_time=format_instant(paid), consumer_id="consumer")
    _refund_at(service, clock, before, deadline)
    _refund_at(service, clock, after, deadline + timedelta(seconds=1))
    clock.now = start
    status = {}
    for order in (before, after):
        verdicts = _get(service, f"/workflows/orders/{order}/verdicts")
        status[order] = next(v for v in verdicts if v["check"] == "ship_deadline")
    assert (status[before]["status"], status[before]["reason"]) == ("exempted", "refunded")
    assert status[after]["status"] == "violated"
    engine = make_engine(service.url)  # the sweep's own function, outside its hourly claim
    try:
        sweep = next(s for s in sweeps() if s.name == "workflows.violations_from_verdicts")
        with session_scope(make_session_factory(engine)) as session:
            sweep.run(session, start)
    finally:
        engine.dispose()
    recorded = {v["order_id"] for v in _get(service, "/violations")}
    assert after in recorded and before not in recorded

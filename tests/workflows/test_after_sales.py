"""After-sales (SF-9, DR-3) through the HTTP API, and the timeout sweep the worker runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lvyue.api.testing import ServiceWorld
from lvyue.model import format_instant
from lvyue.store import make_engine, make_session_factory, session_scope
from lvyue.store.hooks import sweeps
from lvyue.store.sweeps import run_sweep

if TYPE_CHECKING:
    from conftest import Clock, OrderFactory

TIMEOUTS = "workflows.after_sales_timeouts"


def _shipped_order(service: ServiceWorld, clock: Clock, make_order: OrderFactory) -> str:
    order = make_order(consumer_id="consumer")
    r = service.client.post(
        f"/orders/{order}/shipment",
        json={
            "carrier": "zhongtong",
            "waybill": f"ZT-{order}",
            "ship_time": format_instant(clock.now),
        },
        headers=service.auth("m1.main"),
    )
    assert r.status_code == 201, r.text
    clock.advance(hours=1)
    return order


def _request(service: ServiceWorld, order: str, kind: str = "return_refund") -> dict[str, Any]:
    r = service.client.post(
        "/workflows/after-sales",
        json={"order_id": order, "type": kind},
        headers=service.auth("consumer"),
    )
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def _post(service: ServiceWorld, path: str, who: str, body: Any = None) -> Any:
    return service.client.post(path, json=body, headers=service.auth(who))


def _sweep(service: ServiceWorld, now: datetime) -> Any:
    engine = make_engine(service.url)
    try:
        sweep = next(s for s in sweeps() if s.name == TIMEOUTS)
        return run_sweep(make_session_factory(engine), sweep, now, "test-worker")
    finally:
        engine.dispose()


def _sweep_now(service: ServiceWorld, now: datetime) -> dict[str, Any]:
    """The sweep's own function, outside the worker's once-per-period claims."""
    engine = make_engine(service.url)
    try:
        sweep = next(s for s in sweeps() if s.name == TIMEOUTS)
        with session_scope(make_session_factory(engine)) as session:
            return sweep.run(session, now)
    finally:
        engine.dispose()


def test_return_and_refund_path_with_deadlines_from_the_rulebook(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    order = _shipped_order(service, clock, make_order)
    request = _request(service, order)
    assert request["state"] == "requested" and request["deadline_clause"] == "DR-3a"
    aid = request["aftersale_id"]
    agreed = _post(
        service, f"/workflows/after-sales/{aid}/decision", "m1.main", {"agree": True}
    ).json()
    assert agreed["state"] == "agreed" and agreed["deadline_clause"] == "DR-3b"
    shipped = _post(service, f"/workflows/after-sales/{aid}/return-shipped", "consumer").json()
    assert shipped["state"] == "return_shipped" and shipped["deadline_clause"] == "DR-3c"
    received = _post(service, f"/workflows/after-sales/{aid}/receive", "m1.main").json()
    assert received["state"] == "received" and received["deadline_clause"] == "DR-3d"
    done = _post(service, f"/workflows/after-sales/{aid}/complete", "m1.main").json()
    assert done["state"] == "refunded" and done["deadline"] is None
    assert done["refunded_at"] is not None
    # out of order: a finished request takes no more steps
    again = _post(service, f"/workflows/after-sales/{aid}/receive", "m1.main")
    assert again.status_code == 409


def test_refund_only_is_refunded_on_agreement(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    aid = _request(service, _shipped_order(service, clock, make_order), "refund_only")[
        "aftersale_id"
    ]
    done = _post(
        service, f"/workflows/after-sales/{aid}/decision", "m1.main", {"agree": True}
    ).json()
    assert done["state"] == "refunded"


def test_spring_festival_requests_get_the_longer_limits(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    clock.now = datetime(2023, 1, 19, 2, 0, tzinfo=UTC)  # 10:00 Beijing, inside SF-9's window
    order = _shipped_order(service, clock, make_order)
    request = _request(service, order)
    assert request["deadline_clause"] == "SF-9a"
    assert request["deadline"] == "2023-01-29T11:00:00+08:00"  # 10 days, not 2


def test_timeout_sweep_acts_for_the_platform_once_and_records_the_violation(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    order = _shipped_order(service, clock, make_order)
    request = _request(service, order)
    aid = request["aftersale_id"]
    early = _sweep(service, clock.advance(hours=47))
    assert early.ran
    assert _get(service, aid)["state"] == "requested"

    late = clock.advance(hours=2)
    first = _sweep(service, late)
    assert first.ran and first.result["acted"] >= 1
    state = _get(service, aid)
    assert state["state"] == "agreed"  # the platform agreed for the merchant
    assert state["merchant_handled_at"] == format_instant(late)  # stamped by the sweep
    again = _sweep(service, late)  # a second worker in the same period does nothing
    assert not again.ran

    violations = service.client.get("/violations", headers=service.auth("m1.main")).json()
    mine = [v for v in violations if v["aftersale_id"] == aid]
    assert [(v["check"], v["clause"]) for v in mine] == [("aftersale_merchant_confirm", "DR-3a")]
    assert mine[0]["deadline"] == request["deadline"]
    trail = service.client.get(
        "/workflows/audit",
        params={"entity": "after_sale", "entity_id": aid},
        headers=service.auth("m1.main"),
    ).json()
    assert trail[-1]["action"] == "after_sale.auto_agree"
    assert trail[-1]["actor"] == "system:after-sales-timeouts" and trail[-1]["clause"] == "DR-3a"


def test_sweep_function_is_idempotent_across_periods(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    aid = _request(service, _shipped_order(service, clock, make_order))["aftersale_id"]
    assert _sweep_now(service, clock.advance(days=3))["acted"] >= 1
    before = service.client.get("/violations", headers=service.auth("m1.main")).json()
    # run again later: the request has moved on and the violation exists
    _sweep_now(service, clock.advance(minutes=1))
    after = service.client.get("/violations", headers=service.auth("m1.main")).json()
    assert len(after) == len(before)
    assert _get(service, aid)["state"] == "agreed"  # not moved twice


def test_a_consumer_who_never_returns_has_the_request_closed_without_violation(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    aid = _request(service, _shipped_order(service, clock, make_order))["aftersale_id"]
    _post(service, f"/workflows/after-sales/{aid}/decision", "m1.main", {"agree": True})
    _sweep_now(service, clock.advance(days=8))
    assert _get(service, aid)["state"] == "closed"
    violations = service.client.get("/violations", headers=service.auth("m1.main")).json()
    assert not [v for v in violations if v["aftersale_id"] == aid]


def test_tenancy(service: ServiceWorld, clock: Clock, make_order: OrderFactory) -> None:
    aid = _request(service, _shipped_order(service, clock, make_order))["aftersale_id"]
    c = service.client
    assert (
        c.get(f"/workflows/after-sales/{aid}", headers=service.auth("m2.main")).status_code == 404
    )
    decision = _post(service, f"/workflows/after-sales/{aid}/decision", "m2.main", {"agree": True})
    assert decision.status_code == 404
    assert (
        c.get(f"/workflows/after-sales/{aid}", headers=service.auth("m1.clerk")).status_code == 403
    )
    others = make_order(consumer_id="somebody-else")
    r = c.post(
        "/workflows/after-sales",
        json={"order_id": others, "type": "refund_only"},
        headers=service.auth("consumer"),
    )
    assert r.status_code == 404
    listed = c.get("/workflows/after-sales", headers=service.auth("m1.main")).json()
    assert aid in {x["aftersale_id"] for x in listed}
    theirs = c.get("/workflows/after-sales", headers=service.auth("m2.main")).json()
    assert aid not in {x["aftersale_id"] for x in theirs}


def _get(service: ServiceWorld, aid: str) -> dict[str, Any]:
    r = service.client.get(f"/workflows/after-sales/{aid}", headers=service.auth("m1.main"))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def test_requests_ingested_as_facts_join_the_workflow_in_the_state_their_steps_show(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    order = _shipped_order(service, clock, make_order)
    row = {
        "aftersale_id": f"AS-ING-{order}",
        "order_id": order,
        "type": "return_refund",
        "created_at": format_instant(clock.now),
        "merchant_handled_at": format_instant(clock.advance(hours=2)),
    }
    r = service.client.post("/after-sales", json=row, headers=service.auth("operator"))
    assert r.status_code == 201, r.text
    got = _get(service, row["aftersale_id"])
    assert got["state"] == "agreed" and got["deadline_clause"] == "DR-3b"
    shipped = _post(
        service, f"/workflows/after-sales/{row['aftersale_id']}/return-shipped", "consumer"
    )
    assert shipped.status_code == 200 and shipped.json()["state"] == "return_shipped"


def test_the_sweep_acts_on_ingested_requests_nobody_has_opened(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    order = _shipped_order(service, clock, make_order)
    row = {
        "aftersale_id": f"AS-COLD-{order}",
        "order_id": order,
        "type": "refund_only",
        "created_at": format_instant(clock.now),
    }
    ingested = service.client.post("/after-sales", json=row, headers=service.auth("operator"))
    assert ingested.status_code == 201, ingested.text
    assert _sweep_now(service, clock.advance(days=3))["acted"] >= 1
    got = _get(service, row["aftersale_id"])
    assert got["state"] == "refunded"  # refund-only: the platform refunds
    violations = service.client.get("/violations", headers=service.auth("m1.main")).json()
    assert [v["check"] for v in violations if v["aftersale_id"] == row["aftersale_id"]] == [
        "aftersale_merchant_confirm"
    ]


def test_two_sweeps_at_once_act_once(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from lvyue.workflows import config
    from lvyue.workflows.actions.after_sales import sweep_timeouts

    ids = [
        _request(service, _shipped_order(service, clock, make_order))["aftersale_id"] for _ in "abc"
    ]
    now = clock.advance(days=3)
    engine = make_engine(service.url)
    factory = make_session_factory(engine)

    def sweep() -> int:
        with session_scope(factory) as session:
            return sweep_timeouts(session, config.rules(), now)

    try:
        with ThreadPoolExecutor(2) as pool:
            acted = [f.result() for f in [pool.submit(sweep), pool.submit(sweep)]]
    finally:
        engine.dispose()
    assert sum(acted) >= 3  # between them every request (and older overdue ones of the module)
    assert {_get(service, aid)["state"] for aid in ids} == {"agreed"}
    violations = service.client.get("/violations", headers=service.auth("m1.main")).json()
    assert sorted(v["aftersale_id"] for v in violations if v["aftersale_id"] in ids) == sorted(ids)
    for aid in ids:
        trail = service.client.get(
            "/workflows/audit",
            params={"entity": "after_sale", "entity_id": aid},
            headers=service.auth("m1.main"),
        ).json()
        assert [e["action"] for e in trail].count("after_sale.auto_agree") == 1


def _verdicts(service: ServiceWorld, order: str, aid: str) -> dict[str, dict[str, Any]]:
    r = service.client.get(f"/workflows/orders/{order}/verdicts", headers=service.auth("m1.main"))
    assert r.status_code == 200, r.text
    return {v["check"]: v for v in r.json() if v["aftersale_id"] == aid}


def test_agreement_starts_the_consumer_return_clock_a_rejection_does_not(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    """SF-9b (docs/decisions/rules-agreement-is-not-handling.md), through the service."""
    seen = {}
    for agree in (True, False):
        order = _shipped_order(service, clock, make_order)
        aid = _request(service, order)["aftersale_id"]
        decided = _post(
            service, f"/workflows/after-sales/{aid}/decision", "m1.main", {"agree": agree}
        ).json()
        assert decided["state"] == ("agreed" if agree else "rejected")
        seen[agree] = _verdicts(service, order, aid)
    assert seen[True]["aftersale_consumer_return"]["clauses"] == "DR-3b"
    assert seen[True]["aftersale_merchant_confirm"]["status"] == "ok"
    assert "aftersale_consumer_return" not in seen[False]
    assert seen[False]["aftersale_merchant_confirm"]["status"] == "ok"  # a rejection answers


def test_an_ingested_rejection_is_not_read_as_an_agreement(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    order = _shipped_order(service, clock, make_order)
    row = {
        "aftersale_id": f"AS-REJ-{order}",
        "order_id": order,
        "type": "return_refund",
        "created_at": format_instant(clock.now),
        "merchant_handled_at": format_instant(clock.advance(hours=2)),
        "merchant_decision": "rejected",
    }
    r = service.client.post("/after-sales", json=row, headers=service.auth("operator"))
    assert r.status_code == 201, r.text
    assert _get(service, row["aftersale_id"])["state"] == "rejected"
    assert "aftersale_consumer_return" not in _verdicts(service, order, row["aftersale_id"])


def test_the_hourly_sweep_records_the_merchants_timeouts_never_the_consumers(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    """Item 5: verdicts carry whose duty they judge; only the merchant's become violations."""
    idle = _request(service, _shipped_order(service, clock, make_order))["aftersale_id"]
    _post(service, f"/workflows/after-sales/{idle}/decision", "m1.main", {"agree": True})
    sent = _request(service, _shipped_order(service, clock, make_order))["aftersale_id"]
    _post(service, f"/workflows/after-sales/{sent}/decision", "m1.main", {"agree": True})
    _post(service, f"/workflows/after-sales/{sent}/return-shipped", "consumer")
    now = clock.advance(days=8)  # both 7-day limits (DR-3b, DR-3c) have passed, unattended
    order = _get(service, idle)["order_id"]
    verdicts = service.client.get(f"/workflows/orders/{order}/verdicts",
                                  headers=service.auth("m1.main")).json()  # fmt: skip
    duty = {v["check"]: (v["duty"], v["status"]) for v in verdicts}
    assert duty["aftersale_consumer_return"] == ("consumer", "violated")
    assert duty["ship_deadline"][0] == "merchant"
    assert duty["pickup"][0] == "carrier_for_merchant"
    engine = make_engine(service.url)
    try:
        sweep = next(s for s in sweeps() if s.name == "workflows.violations_from_verdicts")
        with session_scope(make_session_factory(engine)) as session:
            sweep.run(session, now)
    finally:
        engine.dispose()
    found = service.client.get("/violations", headers=service.auth("m1.main")).json()
    checks = {(v["aftersale_id"], v["check"]) for v in found if v["aftersale_id"] in (idle, sent)}
    assert (sent, "aftersale_merchant_receive") in checks
    assert not [c for c in checks if c[0] == idle]  # the consumer's own timeout

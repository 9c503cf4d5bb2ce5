"""VF-8a through the service: the platform steps into an after-sales request (平台介入: 仅退款,
退货退款, 退货运费由商家承担). Only operators; only the festival's flower orders; recorded against
the request, audited, idempotent, shown to the merchant; the order's settlement verdict (the
one settlement check) says the refund comes from the merchant's account, and the live worker,
marked by the write, says the same. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import select, text

from lvyue.api.app import create_app
from lvyue.api.loopback import serve_on_loopback
from lvyue.api.testing import ServiceWorld
from lvyue.model.enums import AfterSaleIntervention
from lvyue.store import make_engine, make_session_factory, session_scope
from lvyue.store.live_tables import LiveMark, LiveVerdict
from lvyue.store.permissions import ROLE_PERMISSIONS
from lvyue.workflows import config
from lvyue.workflows.actions import after_sales as actions
from lvyue.workflows.live import drain

if TYPE_CHECKING:
    from conftest import OrderFactory

FLOWERS = "鲜花速递/花卉仿真/绿植园艺>生活鲜花"
FESTIVAL = {"category": FLOWERS, "pay_time": "2024-02-14 23:59:59",
            "confirmed_receipt_time": "2024-02-16 10:00:00", "consumer_id": "consumer"}  # fmt: skip


def _request(service: ServiceWorld, order: str, kind: str) -> str:
    r = service.client.post("/workflows/after-sales", json={"order_id": order, "type": kind},
                            headers=service.auth("consumer"))  # fmt: skip
    assert r.status_code == 201, r.text
    return str(r.json()["aftersale_id"])


def _intervene(service: ServiceWorld, request: str, kind: str, who: str = "operator") -> Any:
    return service.client.post(f"/workflows/after-sales/{request}/intervention",
                               json={"intervention": kind}, headers=service.auth(who))  # fmt: skip


def _settlement(service: ServiceWorld, order: str) -> dict[str, Any]:
    r = service.client.get(f"/workflows/orders/{order}/verdicts", headers=service.auth("m1.main"))
    assert r.status_code == 200, r.text
    return next(v for v in r.json() if v["check"] == "settlement")


def test_only_operators_intervene(service: ServiceWorld, make_order: OrderFactory) -> None:
    request = _request(service, make_order(**FESTIVAL), "refund_only")
    for who in ("m1.main", "m1.sub", "m2.main", "consumer", "carrier", "agency"):
        r = _intervene(service, request, "refund_only", who)
        assert r.status_code == 403, (who, r.text)
    # creators (and every role but the operator) lack the permission the route requires
    holders = {role for role, perms in ROLE_PERMISSIONS.items() if "penalties:manage" in perms}
    assert {h.value for h in holders} == {"operator"}


def test_refund_only_is_recorded_audited_idempotent_and_settles_from_the_merchant(
    service: ServiceWorld, make_order: OrderFactory
) -> None:
    order = make_order(**FESTIVAL)
    request = _request(service, order, "refund_only")
    assert _settlement(service, order)["reason"] == "scheduled"
    r = _intervene(service, request, "refund_only")
    assert r.status_code == 200, r.text
    first = r.json()
    assert (first["state"], first["intervention"]) == ("refunded", "refund_only")
    assert first["refunded_at"] == first["intervened_at"] is not None
    again = _intervene(service, request, "refund_only")  # the same: nothing more
    assert again.status_code == 200 and again.json() == first
    other = _intervene(service, request, "return_refund")
    assert other.status_code == 409, other.text
    seen = service.client.get(f"/workflows/after-sales/{request}", headers=service.auth("m1.main"))
    assert seen.json()["intervention"] == "refund_only"  # the merchant sees it
    hidden = service.client.get(f"/workflows/after-sales/{request}",
                                headers=service.auth("m2.main"))  # fmt: skip
    assert hidden.status_code == 404
    log = service.client.get("/audit", params={"entity_id": request},
                             headers=service.auth("m1.main")).json()  # fmt: skip
    assert [e["clause"] for e in log if e["action"] == "after_sale.intervene"] == ["VF-8a"]
    settlement = _settlement(service, order)
    assert (settlement["reason"], settlement["clauses"]) == ("intervened_refund", "VF-6;VF-8a")
    assert settlement["deadline"] == "2024-03-17T10:00:00+08:00"  # VF-6's 30 d stands


def test_return_shipping_charged_to_the_merchant_agrees_the_return(
    service: ServiceWorld, make_order: OrderFactory
) -> None:
    order = make_order(**FESTIVAL)
    request = _request(service, order, "return_refund")
    r = _intervene(service, request, "return_shipping_merchant")
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["refunded_at"]) == ("agreed", None)
    assert _settlement(service, order)["reason"] == "intervened_shipping"


def test_refused_outside_the_festival_and_for_the_wrong_request(
    service: ServiceWorld, make_order: OrderFactory
) -> None:
    early = make_order(**{**FESTIVAL, "pay_time": "2024-02-07 23:59:59"})
    r = _intervene(service, _request(service, early, "refund_only"), "refund_only")
    assert r.status_code == 422 and r.json()["detail"]["clause"] == "VF-8", r.text
    food = make_order(**{**FESTIVAL, "category": "食品饮料>零食"})
    r = _intervene(service, _request(service, food, "refund_only"), "refund_only")
    assert r.status_code == 422, r.text
    refund = _request(service, make_order(**FESTIVAL), "refund_only")
    r = _intervene(service, refund, "return_refund")  # no goods travel back on a refund only
    assert r.status_code == 422 and r.json()["detail"]["field"] == "intervention", r.text
    assert _intervene(service, "AS-NOBODY", "refund_only").status_code == 404


def test_the_live_worker_is_marked_and_says_it(
    service: ServiceWorld, make_order: OrderFactory
) -> None:
    engine = make_engine(service.url)
    factory = make_session_factory(engine)
    order = make_order(**FESTIVAL)
    request = _request(service, order, "return_refund")
    drain(factory, config.rules())

    def live() -> str:
        with session_scope(factory) as s:
            query = select(LiveVerdict.reason).where(
                LiveVerdict.order_id == order, LiveVerdict.check == "settlement"
            )
            return str(s.scalars(query).one())

    assert live() == "scheduled"
    assert _intervene(service, request, "return_refund").status_code == 200
    with session_scope(factory) as s:
        assert s.get(LiveMark, order).dirty  # the intervention's write marked the order
    drain(factory, config.rules())
    assert live() == "intervened_refund"
    engine.dispose()


def _blocked_on_a_lock(service: ServiceWorld, engine: Any) -> None:
    """Wait until a PostgreSQL backend of the test's database waits on a row lock (SQLite: its
    writers queue at BEGIN IMMEDIATE, a moment is enough)."""
    if service.backend == "sqlite":
        time.sleep(1.0)
        return
    query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND wait_event_type = 'Lock'")  # fmt: skip
    deadline = time.monotonic() + 20
    with engine.connect() as probe:
        while probe.execute(query).scalar_one() == 0:
            assert time.monotonic() < deadline, "the second intervention never waited"
            time.sleep(0.05)


def test_two_different_interventions_at_once_record_one(
    service: ServiceWorld, make_order: OrderFactory
) -> None:
    """An agreed return: 退货退款 and 退货运费由商家承担 both only record (no step of the
    machine, so no version guard). One operator's is written and not yet committed when
    another's arrives (its own connection, a real server): that one waited for the lock and
    then wrote over it (both 200, both audited). The intervention is claimed by a guarded
    UPDATE (only a request without one): the second answers 409 and the first stands."""
    order = make_order(**FESTIVAL)
    request = _request(service, order, "return_refund")
    agreed = service.client.post(f"/workflows/after-sales/{request}/decision",
                                 json={"agree": True}, headers=service.auth("m1.main"))  # fmt: skip
    assert agreed.status_code == 200 and agreed.json()["state"] == "agreed", agreed.text
    engine = make_engine(service.url)
    drain(make_session_factory(engine), config.rules())  # the decision's mark cleared
    app = create_app(service.url)
    answer: dict[str, httpx.Response] = {}
    with serve_on_loopback(app) as url, make_session_factory(engine)() as first:
        loaded = actions.load(first, request, None)
        actions.intervene(first, config.rules(), loaded, AfterSaleIntervention.RETURN_REFUND,
                          actor="operator", now=datetime.now(UTC))  # fmt: skip

        def second() -> None:
            with httpx.Client(base_url=url, timeout=60) as client:
                answer["r"] = client.post(f"/workflows/after-sales/{request}/intervention",
                                          json={"intervention": "return_shipping_merchant"},
                                          headers=service.auth("operator"))  # fmt: skip

        thread = threading.Thread(target=second)
        thread.start()
        _blocked_on_a_lock(service, engine)
        first.commit()
        thread.join(timeout=60)
    with session_scope(make_session_factory(engine)) as s:
        assert s.get(LiveMark, order).dirty  # the settlement verdict changes: judged again
    app.state.engine.dispose()
    engine.dispose()
    assert answer["r"].status_code == 409, answer["r"].text
    assert answer["r"].json()["detail"]["field"] == "intervention"
    seen = service.client.get(f"/workflows/after-sales/{request}", headers=service.auth("m1.main"))
    assert seen.json()["intervention"] == "return_refund"
    log = service.client.get("/audit", params={"entity_id": request},
                             headers=service.auth("operator")).json()  # fmt: skip
    assert [e["detail"]["intervention"] for e in log
            if e["action"] == "after_sale.intervene"] == ["return_refund"]  # fmt: skip
    again = _intervene(service, request, "return_refund")  # the same again: nothing more
    assert again.status_code == 200 and again.json()["intervention"] == "return_refund"

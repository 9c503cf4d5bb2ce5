"""The worker's leases (``workflows.live.claim``): a write never waits for a round judging its
order, and is judged after it; a round that died leaves its orders to the next claim (at
once under the same worker name, else when the lease runs out); a round whose lease another
worker took over keeps nothing (no violation twice)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from lvyue.api.testing import ServiceWorld
from lvyue.model import format_instant
from lvyue.store import make_engine, make_session_factory, session_scope
from lvyue.store.db import SessionFactory
from lvyue.store.live_tables import LiveMark, LiveVerdict
from lvyue.store.workflow_tables import Violation
from lvyue.workflows import config, live

NOW = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


@pytest.fixture
def factory(service: ServiceWorld) -> Iterator[SessionFactory]:
    engine = make_engine(service.url)
    yield make_session_factory(engine)
    engine.dispose()


def _orders(service: ServiceWorld, tag: str, n: int) -> list[str]:
    """n orders of m1 paid 72 h before NOW, shipped 2 h before (ship deadline violated), not
    picked up: every order's verdicts change when a pickup scan arrives."""
    rows = [{"order_id": f"LL-{tag}-{i}", "merchant_id": "m1", "merchant_type": "domestic",
             "category": "服饰内衣>女装", "ship_mode": "spot",
             "pay_time": format_instant(NOW - timedelta(hours=72)),
             "ship_time": format_instant(NOW - timedelta(hours=2)), "carrier": "zhongtong",
             "waybill": f"ZTLL{tag}{i}"} for i in range(n)]  # fmt: skip
    r = service.client.post("/ingest/orders", json={"rows": rows}, headers=service.auth("operator"))
    assert r.status_code == 200 and r.json()["created"] == n, r.text
    return [row["order_id"] for row in rows]


def _pickup(service: ServiceWorld, tag: str, i: int) -> Any:
    scan = {"carrier": "zhongtong", "waybill": f"ZTLL{tag}{i}", "kind": "pickup",
            "time": format_instant(NOW - timedelta(hours=1))}  # fmt: skip
    return service.client.post("/tracking", json=scan, headers=service.auth("carrier"))


def _pickup_status(factory: SessionFactory, order_id: str) -> str | None:
    with session_scope(factory) as s:
        return s.scalar(
            select(LiveVerdict.status).where(
                LiveVerdict.order_id == order_id, LiveVerdict.check == "pickup"
            )
        )


def test_a_write_while_its_order_is_judged_waits_not_and_is_judged_after(
    service: ServiceWorld, factory: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _orders(service, "w", 3)
    live.drain(factory, config.rules(), NOW)
    judging, go_on = threading.Event(), threading.Event()
    facts_for = live.facts_for

    def slow_facts(session: Any, orders: Any) -> Any:
        found = facts_for(session, orders)  # the round has read the facts ...
        judging.set()
        assert go_on.wait(60)  # ... and is still judging them
        return found

    monkeypatch.setattr(live, "facts_for", slow_facts)
    with session_scope(factory) as s:  # mark them: the round below claims them
        s.execute(update(LiveMark).where(LiveMark.order_id.in_(ids)).values(dirty=True))
    round_ = threading.Thread(target=live.run_round, args=(factory, config.rules(), NOW))
    round_.start()
    try:
        assert judging.wait(60)
        if service.backend == "sqlite":  # one writer: every transaction holds the write lock
            go_on.set()  # (BEGIN IMMEDIATE), so the write waits for the round here
        started = time.monotonic()
        assert _pickup(service, "w", 0).status_code == 201
        if service.backend == "postgres":  # answered during the round, without waiting
            assert time.monotonic() - started < 10 and round_.is_alive()
    finally:
        go_on.set()
        round_.join(60)
    monkeypatch.setattr(live, "facts_for", facts_for)
    if service.backend == "postgres":
        assert _pickup_status(factory, ids[0]) != "ok"  # the round read it before the scan
    live.drain(factory, config.rules(), NOW)
    assert _pickup_status(factory, ids[0]) == "ok"  # marked again by the write: judged after


def test_a_dead_rounds_orders_are_taken_again(
    service: ServiceWorld, factory: SessionFactory
) -> None:
    ids = _orders(service, "d", 4)
    with session_scope(factory) as s:  # a round claims them, then its worker is killed
        assert len(live.claim(s, NOW, live.claimant("bench-0"), limit=4)) == 4
    assert live.run_round(factory, config.rules(), NOW, worker="other").judged == 0  # leased
    with session_scope(factory) as s:
        assert s.scalar(select(func.count()).where(live.live.waiting(NOW))) >= 4
    assert live.release_leases(factory, "bench-0") == 4  # restarted under its name: at once
    assert live.run_round(factory, config.rules(), NOW, worker="bench-0").judged == 4
    with session_scope(factory) as s:  # again, and this time nobody of that name comes back
        s.execute(update(LiveMark).where(LiveMark.order_id.in_(ids)).values(dirty=True))
    with session_scope(factory) as s:
        live.claim(s, NOW, live.claimant("gone"), limit=4)
    assert live.run_round(factory, config.rules(), NOW, worker="other").judged == 0
    with session_scope(factory) as s:  # its lease runs out
        past = datetime.now(UTC) - timedelta(seconds=1)
        s.execute(update(LiveMark).where(LiveMark.order_id.in_(ids)).values(lease_until=past))
    assert live.run_round(factory, config.rules(), NOW, worker="other").judged == 4


def test_a_name_takes_back_only_its_own_leases(
    service: ServiceWorld, factory: SessionFactory
) -> None:
    ids = _orders(service, "n", 2)
    with session_scope(factory) as s:
        assert len(live.claim(s, NOW, live.claimant("benchX0"), limit=2)) == 2
    assert live.release_leases(factory, "bench_0") == 0  # "_" matches no other character
    assert live.release_leases(factory, "bench%") == 0
    assert live.release_leases(factory, "benchX0") == 2
    with session_scope(factory) as s:
        marks = s.scalars(select(LiveMark).where(LiveMark.order_id.in_(ids))).all()
        assert {(m.dirty, m.claimed_by) for m in marks} == {(True, None)}


# PostgreSQL only: on SQLite a round holds the one write lock (BEGIN IMMEDIATE) until it
# commits, so no other worker can take its orders over while it judges them.
@pytest.mark.parametrize("service_backend", ["postgres"], indirect=True)
def test_a_round_whose_lease_was_taken_over_keeps_nothing(
    service: ServiceWorld, factory: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _orders(service, "t", 2)
    taken = threading.Event()
    facts_for = live.facts_for

    def overtaken(session: Any, orders: Any) -> Any:
        # The first round stalls past its lease on one of its two orders; another worker
        # claims and judges that one.
        if not taken.is_set():
            taken.set()
            with session_scope(factory) as s:
                s.execute(
                    update(LiveMark)
                    .where(LiveMark.order_id == ids[0])
                    .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
                )
            assert live.run_round(factory, config.rules(), NOW, worker="other").judged == 1
        return facts_for(session, orders)

    monkeypatch.setattr(live, "facts_for", overtaken)
    assert live.run_round(factory, config.rules(), NOW, worker="first").judged == 0  # kept nothing
    with session_scope(factory) as s:  # the order still its own is free again at once
        mark = s.get(LiveMark, ids[1])
        assert mark is not None and (mark.dirty, mark.claimed_by) == (True, None)
    monkeypatch.setattr(live, "facts_for", facts_for)
    assert live.drain(factory, config.rules(), NOW, locked_wait=0).judged >= 1
    with session_scope(factory) as s:
        violations = s.scalars(select(Violation.order_id).where(Violation.order_id.in_(ids)))
        assert sorted(violations) == sorted(ids)  # one each
        waiting = select(func.count()).where(LiveMark.order_id.in_(ids), live.live.waiting(NOW))
        assert s.scalar(waiting) == 0

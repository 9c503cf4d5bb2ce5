"""The worker's sweeps run once per period: twice in a row, or two workers at once, change
nothing more than once; a failing sweep keeps nothing and is retried."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lvyue.api.testing import ServiceWorld
from lvyue.model import parse_instant
from lvyue.store import AuditEntry, audit, make_engine, make_session_factory
from lvyue.store.hooks import register_sweep, unregister_sweep
from lvyue.store.sweeps import period_of, run_due

NAME = "test.counting_sweep"
FAILING = "test.failing_sweep"


@pytest.fixture
def counting_sweep() -> Iterator[None]:
    @register_sweep(NAME, "hour")
    def count(session: Session, now: datetime) -> dict[str, Any]:
        audit(session, actor="system:test", action=NAME, entity="sweep", entity_id=str(now))
        return {"recorded": 1}

    yield
    unregister_sweep(NAME)


def _recorded(url: str, since: datetime) -> int:
    """Entries the counting sweep wrote for instants from ``since`` on (tests share a DB)."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        n = session.scalar(
            select(func.count()).where(
                AuditEntry.action == NAME, AuditEntry.entity_id >= str(since)
            )
        )
    engine.dispose()
    return int(n or 0)


def test_period_keys_are_beijing_periods() -> None:
    moment = parse_instant("2024-02-11 23:30:00")  # Beijing; 15:30 UTC
    assert period_of(moment, "day") == "2024-02-11"
    assert period_of(moment, "hour") == "2024-02-11T23"
    assert period_of(moment, "week") == "2024-W06"


def test_running_twice_changes_nothing_more(service: ServiceWorld, counting_sweep: None) -> None:
    engine = make_engine(service.url)
    factory = make_session_factory(engine)
    now = parse_instant("2030-01-01 10:15:00")
    first = {run.sweep: run for run in run_due(factory, now)}
    second = {run.sweep: run for run in run_due(factory, now)}
    assert first[NAME].ran and not second[NAME].ran
    assert not any(run.ran for run in second.values())
    assert _recorded(service.url, now) == 1
    later = {run.sweep: run for run in run_due(factory, parse_instant("2030-01-01 11:00:00"))}
    assert later[NAME].ran
    assert _recorded(service.url, now) == 2
    engine.dispose()


def test_two_workers_at_once_run_each_sweep_once(
    service: ServiceWorld, counting_sweep: None
) -> None:
    now = parse_instant("2030-02-01 10:15:00")
    engines = [make_engine(service.url) for _ in range(2)]
    results: list[list[Any]] = []
    barrier = threading.Barrier(2)

    def work(i: int) -> None:
        barrier.wait()
        results.append(run_due(make_session_factory(engines[i]), now, worker=f"w{i}"))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ran = [run.sweep for runs in results for run in runs if run.ran]
    assert ran.count(NAME) == 1
    assert len(ran) == len(set(ran))  # no sweep ran twice
    assert all(run.error is None for runs in results for run in runs)
    assert _recorded(service.url, now) == 1
    for engine in engines:
        engine.dispose()


def test_failing_sweep_keeps_nothing_and_is_retried(service: ServiceWorld) -> None:
    calls: list[datetime] = []

    @register_sweep(FAILING, "day")
    def fail(session: Session, now: datetime) -> dict[str, Any]:
        calls.append(now)
        audit(session, actor="system:test", action=FAILING, entity="sweep", entity_id="x")
        raise RuntimeError("boom")

    try:
        engine = make_engine(service.url)
        factory = make_session_factory(engine)
        now = parse_instant("2030-03-01 10:00:00")
        runs = {run.sweep: run for run in run_due(factory, now)}
        assert runs[FAILING].error == "RuntimeError: boom"
        runs = {run.sweep: run for run in run_due(factory, now)}
        assert runs[FAILING].error == "RuntimeError: boom"  # retried, not "claimed elsewhere"
        assert len(calls) == 2
        with factory() as session:
            kept = session.scalar(select(func.count()).where(AuditEntry.action == FAILING))
        assert kept == 0
        engine.dispose()
    finally:
        unregister_sweep(FAILING)

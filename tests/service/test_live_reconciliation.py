"""The hourly ``violations_from_verdicts`` sweep beside the live worker is a reconciliation:
once the worker has judged every marked order, it records nothing and audits nothing (the
live path already recorded every violation once); a violation the live path lost (deleted
here behind its back) is recorded again and counted as ``missed_by_live``. On SQLite and
PostgreSQL (the ``service`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from lvyue.api.testing import ServiceWorld
from lvyue.model import format_instant
from lvyue.store import make_engine, make_session_factory, session_scope
from lvyue.store.db import SessionFactory
from lvyue.store.tables import AuditEntry
from lvyue.store.workflow_tables import Violation
from lvyue.workflows import config
from lvyue.workflows.hooks import violations_from_verdicts
from lvyue.workflows.live import drain

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def factory(service: ServiceWorld) -> Iterator[SessionFactory]:
    engine = make_engine(service.url)
    yield make_session_factory(engine)
    engine.dispose()


def _orders(service: ServiceWorld) -> list[str]:
    """Orders of m1 paid 3 days ago and never shipped (ship deadline violated) and fresh ones."""
    ids = [f"RECON-{n}-{service.backend}" for n in range(6)]
    rows = [
        {"order_id": i, "merchant_id": "m1", "merchant_type": "domestic",
         "category": "服饰内衣>女装>连衣裙", "ship_mode": "spot",
         "pay_time": format_instant(NOW - timedelta(days=3 if n % 2 else 0, hours=1))}
        for n, i in enumerate(ids)
    ]  # fmt: skip
    r = service.client.post("/ingest/orders", json={"rows": rows}, headers=service.auth("operator"))
    assert r.status_code == 200 and r.json()["created"] == len(ids), r.text
    return ids


def _state(factory: SessionFactory, ids: list[str]) -> tuple[int, int]:
    with session_scope(factory) as s:
        kept = s.scalar(select(func.count()).where(Violation.order_id.in_(ids))) or 0
        audited = s.scalar(select(func.count()).select_from(AuditEntry)) or 0
        return kept, audited


def test_the_sweep_changes_nothing_when_the_live_verdicts_are_right(
    service: ServiceWorld, factory: SessionFactory
) -> None:
    ids = _orders(service)
    drain(factory, config.rules(), NOW)
    before = _state(factory, ids)
    assert before[0] >= 3  # the late ones: recorded by the live worker
    with session_scope(factory) as s:
        result = violations_from_verdicts(s, NOW)
    assert result == {"recorded": 0, "missed_by_live": 0}
    assert _state(factory, ids) == before

    with session_scope(factory) as s:  # the live path loses one behind its back
        s.execute(delete(Violation).where(Violation.order_id == ids[1]))
    with session_scope(factory) as s:
        result = violations_from_verdicts(s, NOW)
    assert result["recorded"] == result["missed_by_live"] >= 1
    assert _state(factory, ids)[0] == before[0]

"""The service fixtures (an app on SQLite and on PostgreSQL, seeded merchants m1 and m2 and
every role) plus a pinned service clock, an order factory and the rule sweeps' helpers for
the workflow tests."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lvyue.api.testing import ServiceWorld, service, service_backend
from lvyue.model import format_instant
from lvyue.store import make_engine, make_session_factory
from lvyue.store.hooks import sweeps
from lvyue.store.sweeps import SweepRun, run_sweep

__all__ = ["Clock", "ServiceWorld", "beijing", "clock", "make_order", "pinned", "run_named_sweep",
           "service", "service_backend"]  # fmt: skip

_ids = itertools.count(1)


@dataclass
class Clock:
    """The service's clock, pinned; tests move it with ``advance``."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(service: ServiceWorld) -> Iterator[Clock]:
    pinned = Clock(datetime.now(UTC).replace(microsecond=0))
    app: Any = service.client.app
    app.state.clock = pinned
    yield pinned
    app.state.clock = None


OrderFactory = Callable[..., str]


@pytest.fixture
def make_order(service: ServiceWorld, clock: Clock) -> OrderFactory:
    """Ingest an order of ``merchant`` through the API; returns its id."""

    def make(merchant: str = "m1", **fields: Any) -> str:
        order_id = f"{merchant}-O{next(_ids)}-{service.backend}"
        body = {
            "order_id": order_id,
            "merchant_id": merchant,
            "merchant_type": "domestic",
            "category": "服饰内衣>女装>连衣裙",
            "ship_mode": "spot",
            "pay_time": format_instant(clock.now - timedelta(hours=1)),
            **fields,
        }
        r = service.client.post("/orders", json=body, headers=service.auth("operator"))
        assert r.status_code == 201, r.text
        return order_id

    return make


def beijing(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00")


@pytest.fixture
def pinned(service: ServiceWorld, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The rule sweeps read the service's own facts (no ``LVYUE_INDICATOR_FACTS``); the clock
    a test pinned is released afterwards."""
    monkeypatch.delenv("LVYUE_INDICATOR_FACTS", raising=False)
    yield
    app: Any = service.client.app
    app.state.clock = None


def run_named_sweep(service: ServiceWorld, name: str, now: datetime) -> SweepRun:
    """Run the registered sweep ``name`` at ``now`` over the service's database."""
    (sweep,) = [s for s in sweeps() if s.name == name]
    engine = make_engine(service.url)
    try:
        return run_sweep(make_session_factory(engine), sweep, now, "test")
    finally:
        engine.dispose()

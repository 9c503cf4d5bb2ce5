"""Console fixtures: the service's app and seeded accounts (SQLite and PostgreSQL), driven
through a cookie-keeping client on https (the session cookie is Secure)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from webkit import console_app

from lvyue.api.testing import ServiceWorld, service, service_backend
from lvyue.web.security import LoginThrottle

__all__ = ["ServiceWorld", "fresh_throttle", "service", "service_backend"]


@pytest.fixture
def fresh_throttle(service: ServiceWorld) -> Iterator[LoginThrottle]:
    """A new log-in throttle for the test (failures of other tests do not count)."""
    app = console_app(service.client.app)  # type: ignore[arg-type]
    app.state.throttle = LoginThrottle()
    yield app.state.throttle
    app.state.throttle = LoginThrottle()

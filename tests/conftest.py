"""Shared fixtures. The test command (scripts/test.sh) starts a real PostgreSQL server and
exports LVYUE_TEST_POSTGRES_URL; tests that need it fail loudly when it is missing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("LVYUE_TEST_POSTGRES_URL")
    if not url:
        pytest.fail("LVYUE_TEST_POSTGRES_URL is not set: run the suite with `make test`")
    return url


# Under pytest-xdist (scripts/test.sh) each worker takes whole files; these, the longest
# (docs/decisions/test-run-time.md), are handed out first so that no worker is left alone with
# one of them at the end. Only the order changes: every collected test runs.
LONGEST_FIRST = (
    "tests/test_readme_walk.py",
    "tests/web/test_browser.py",
    "tests/engine/test_differential.py",
    "tests/service/test_schemathesis.py",
    "tests/service/test_service_agrees_with_batch.py",
    "tests/indicators/test_labels.py",
    "tests/rulebook/test_cli.py",
    "tests/engine/test_cli_outputs.py",
    "tests/engine/test_cli.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return  # one process: collection order, as always
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


TEST_INSPECTION_SECRET = "lvyue-test-inspection-secret-0123456789"


@pytest.fixture(scope="session", autouse=True)
def inspection_secret() -> Iterator[None]:
    """The service refuses to start without LVYUE_INSPECTION_SECRET: the suite sets its own
    (unless the caller set one), and tests of the refusal unset it with monkeypatch."""
    patch = pytest.MonkeyPatch()
    if not os.environ.get("LVYUE_INSPECTION_SECRET"):
        patch.setenv("LVYUE_INSPECTION_SECRET", TEST_INSPECTION_SECRET)
    yield
    patch.undo()


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The run's one local PySpark session (lvyue.model.spark, as the CLI uses): every Spark
    test shares it, since each start of the JVM costs 10-30 s (docs/decisions/test-run-time.md).
    Stopped once, at the end of the run."""
    from lvyue.model.spark import spark_session

    session = spark_session()
    yield session
    session.stop()

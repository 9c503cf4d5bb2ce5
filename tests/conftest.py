"""Shared fixtures. The test command (scripts/test.sh) starts a real PostgreSQL server and
exports LVYUE_TEST_POSTGRES_URL; tests that need it fail loudly when it is missing."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("LVYUE_TEST_POSTGRES_URL")
    if not url:
        pytest.fail("LVYUE_TEST_POSTGRES_URL is not set: run the suite with `make test`")
    return url

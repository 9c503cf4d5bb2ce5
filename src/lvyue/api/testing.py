"""Pytest fixtures for testing through the HTTP API, on SQLite and on PostgreSQL.

Use from any test folder by re-exporting in that folder's ``conftest.py``::

    from lvyue.api.testing import service, service_backend  # noqa: F401

then in a test::

    def test_something(service: ServiceWorld) -> None:
        r = service.client.get("/orders", headers=service.auth("m1.main"))

``service`` is module-scoped and parametrised over ``sqlite`` and ``postgres``: each test
module gets a fresh, migrated database of each kind (PostgreSQL: a database of its own on the
server of ``LVYUE_TEST_POSTGRES_URL``; the test fails if it is not set), copied from one
migrated and seeded template per backend and process (the same accounts and tokens in every
module; nothing a module writes reaches another). Seeded: merchants
``m1`` and ``m2`` (domestic) and the accounts of :func:`lvyue.store.seed.seed_accounts` —
keys ``operator``, ``m1.main``, ``m1.sub`` (every grantable permission), ``m1.clerk`` (none),
the same for ``m2``, ``agency``, ``carrier`` (Kuaidi100 integration, salt ``TEST_SALT``) and
``consumer``.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from lvyue.api.app import create_app
from lvyue.store import make_engine, make_session_factory, session_scope, upgrade
from lvyue.store.accounts import issue_token
from lvyue.store.seed import IssuedAccount, seed_accounts

TEST_SALT = "lvyue-test-salt"
MERCHANTS = (("m1", "一号店", "domestic"), ("m2", "二号店", "domestic"))


@dataclass
class ServiceWorld:
    """A running app (in-process), its database URL and the seeded accounts."""

    backend: str
    url: str
    client: TestClient
    accounts: dict[str, IssuedAccount] = field(default_factory=dict)

    def token(self, key: str) -> str:
        return self.accounts[key].token

    def auth(self, key: str) -> dict[str, str]:
        """``Authorization`` header of a seeded account, e.g. ``auth("m1.main")``."""
        return {"Authorization": f"Bearer {self.token(key)}"}

    def fresh_auth(self, key: str) -> dict[str, str]:
        """A header with a new token of a seeded account, for walks that may revoke the token
        they call with (``POST /tokens/rotate``): the seeded token stays valid."""
        engine = make_engine(self.url)
        try:
            with session_scope(make_session_factory(engine)) as session:
                token = issue_token(session, self.accounts[key].account_id)
        finally:
            engine.dispose()
        return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class _Template:
    """A migrated and seeded database that each test module's database is copied from: the
    migrations and the accounts' argon2 password hashes (about 1 s each on a loaded machine,
    ten per seed) are paid once per backend and process, not once per module."""

    url: str
    accounts: tuple[IssuedAccount, ...]


_templates: dict[str, _Template] = {}


def _seeded(url: str) -> tuple[IssuedAccount, ...]:
    upgrade(url)
    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            return tuple(seed_accounts(session, MERCHANTS))
    finally:
        engine.dispose()


def _template(
    backend: str, request: pytest.FixtureRequest, tmp: pytest.TempPathFactory
) -> _Template:
    if backend not in _templates:
        if backend == "sqlite":
            url = f"sqlite:///{tmp.mktemp('service-template') / 'lvyue.db'}"
        else:
            name = f"lvyue_template_{uuid.uuid4().hex[:8]}"
            url = _create_database(_postgres_base(), name)
            request.config.add_cleanup(lambda: _drop_database(_postgres_base(), name))
        _templates[backend] = _Template(url, _seeded(url))
    return _templates[backend]


def _postgres_base() -> str:
    base = os.environ.get("LVYUE_TEST_POSTGRES_URL")
    if not base:
        pytest.fail("LVYUE_TEST_POSTGRES_URL is not set: run the suite with `make test`")
    return base


def _server(base_url: str) -> str:
    return make_url(base_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _create_database(base_url: str, name: str, template: str | None = None) -> str:
    import psycopg

    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(_server(base_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def _drop_database(base_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_server(base_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _copy_sqlite(source_url: str, target: Path) -> str:
    # SQLite's backup API: a consistent copy whatever the write-ahead log still holds.
    source = sqlite3.connect(make_url(source_url).database or "")
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return f"sqlite:///{target}"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def service_backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """(backend, URL) of a fresh database for this test module: a copy of the migrated and
    seeded template (PostgreSQL: a database of its own, ``CREATE DATABASE … TEMPLATE``)."""
    backend: str = request.param
    template = _template(backend, request, tmp_path_factory)
    if backend == "sqlite":
        target = Path(tmp_path_factory.mktemp("service")) / "lvyue.db"
        yield backend, _copy_sqlite(template.url, target)
        return
    base = _postgres_base()
    name = f"lvyue_{request.module.__name__.rsplit('.', 1)[-1][:30]}_{uuid.uuid4().hex[:8]}"
    source = make_url(template.url).database
    url = _create_database(base, name.lower(), template=source)
    try:
        yield backend, url
    finally:
        _drop_database(base, name.lower())


@pytest.fixture(scope="module")
def service(service_backend: tuple[str, str]) -> Iterator[ServiceWorld]:
    """The app over the module's database, with two merchants and every role seeded."""
    backend, url = service_backend
    issued = _templates[backend].accounts
    app = create_app(url, kuaidi100_salt=TEST_SALT)
    with TestClient(app) as client:
        yield ServiceWorld(backend, url, client, {a.key: a for a in issued})
    app.state.engine.dispose()

"""The token cache (``api.principals``): a change this process commits to who may do what
is seen by the very next request; a change it cannot see (another process, raw SQL) is
honoured at most the cache's seconds; refusals are never remembered."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import text

from lvyue.api.app import create_app
from lvyue.api.testing import TEST_SALT, ServiceWorld
from lvyue.store import make_engine


@contextmanager
def _app(service: ServiceWorld, seconds: float) -> Iterator[TestClient]:
    app = create_app(service.url, kuaidi100_salt=TEST_SALT, token_cache_seconds=seconds)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        app.state.engine.dispose()


def _revoke_behind_its_back(service: ServiceWorld, token_id: int, revoked: bool) -> None:
    """As another process would: plain SQL, nothing this process's sessions see."""
    engine = make_engine(service.url)
    try:
        with engine.begin() as conn:
            value = "CURRENT_TIMESTAMP" if revoked else "NULL"
            conn.execute(
                text(f"UPDATE api_tokens SET revoked_at = {value} WHERE token_id = :t"),
                {"t": token_id},
            )
    finally:
        engine.dispose()


def _token_id(client: TestClient, auth: dict[str, str]) -> int:
    mine = next(t for t in client.get("/tokens", headers=auth).json() if t["current"])
    return int(mine["token_id"])


def test_a_revocation_through_the_api_is_seen_at_once(service: ServiceWorld) -> None:
    auth = service.fresh_auth("m1.clerk")
    with _app(service, seconds=3600) as client:  # remembered "for ever": only the event helps
        token_id = _token_id(client, auth)
        assert client.get("/me", headers=auth).status_code == 200
        r = client.post(f"/tokens/{token_id}/revoke", headers=auth)
        assert r.status_code == 200, r.text
        refused = client.get("/me", headers=auth)
        assert refused.status_code == 401 and "revoked" in refused.json()["detail"]


def test_a_deactivation_is_seen_at_once(service: ServiceWorld) -> None:
    auth = service.fresh_auth("m1.sub")
    with _app(service, seconds=3600) as client:
        assert client.get("/me", headers=auth).status_code == 200
        r = client.post("/accounts/m1.sub/deactivate", headers=service.auth("m1.main"))
        assert r.status_code == 200, r.text
        assert client.get("/me", headers=auth).status_code == 401


def test_a_change_behind_its_back_is_honoured_at_most_its_seconds(service: ServiceWorld) -> None:
    auth = service.fresh_auth("m1.clerk")
    with _app(service, seconds=0.5) as client:
        token_id = _token_id(client, auth)
        _revoke_behind_its_back(service, token_id, revoked=True)
        time.sleep(0.6)
        assert client.get("/me", headers=auth).status_code == 401
        _revoke_behind_its_back(service, token_id, revoked=False)  # refusals are not remembered
        assert client.get("/me", headers=auth).status_code == 200


def test_without_the_cache_every_request_reads_the_token(service: ServiceWorld) -> None:
    auth = service.fresh_auth("m1.clerk")
    with _app(service, seconds=0) as client:
        token_id = _token_id(client, auth)
        _revoke_behind_its_back(service, token_id, revoked=True)
        assert client.get("/me", headers=auth).status_code == 401
        with _app(service, seconds=3600) as remembering:  # the contrast: one that remembers
            _revoke_behind_its_back(service, token_id, revoked=False)
            assert remembering.get("/me", headers=auth).status_code == 200
            _revoke_behind_its_back(service, token_id, revoked=True)
            assert remembering.get("/me", headers=auth).status_code == 200  # within its hour


def test_concurrent_misses_read_a_token_once_unless_a_change_came_between() -> None:
    import asyncio
    import threading

    from lvyue.api import principals

    reads: list[str] = []
    release = threading.Event()

    def load(token: str) -> tuple[str, float]:
        reads.append(token)
        release.wait(5)
        return f"principal-of-{token}", 3600.0

    cache: principals.Principals[str] = principals.Principals(load, ttl=60)

    async def scenario() -> list[str]:
        first = [asyncio.ensure_future(cache.of("t1")) for _ in range(20)]
        await asyncio.sleep(0.05)  # all twenty wait for one read
        with principals._Generation.lock:  # a change to who may do what is committed ...
            principals._Generation.value += 1
        late = asyncio.ensure_future(cache.of("t1"))  # ... so a later miss reads again
        await asyncio.sleep(0.05)
        release.set()
        return list(await asyncio.gather(*first, late))

    answers = asyncio.run(scenario())
    assert answers == ["principal-of-t1"] * 21
    assert reads == ["t1", "t1"]  # one read for the twenty, one for the request after the change

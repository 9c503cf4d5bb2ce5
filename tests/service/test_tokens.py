"""Issue 12 item 10: API tokens expire, rotate and are revoked, for every account kind.

Before: a token lived for ever, and only a sub-account's tokens could be revoked (by
deactivating it). Now each token has an expiry (90 days, or less when asked), every account
rotates and revokes its own, a main account manages its shop's accounts' tokens and an
operator every account's."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import update

from lvyue.api.testing import ServiceWorld
from lvyue.store import make_engine, make_session_factory, session_scope
from lvyue.store.tables import ApiToken, utcnow

KINDS = ("operator", "m1.main", "m1.sub", "m1.clerk", "agency", "carrier", "consumer")


def _set_expiry(service: ServiceWorld, token_id: int, delta: timedelta) -> None:
    engine = make_engine(service.url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            session.execute(
                update(ApiToken)
                .where(ApiToken.token_id == token_id)
                .values(expires_at=utcnow() + delta)
            )
    finally:
        engine.dispose()


def _current(service: ServiceWorld, auth: dict[str, str]) -> dict[str, object]:
    tokens = service.client.get("/tokens", headers=auth).json()
    return next(t for t in tokens if t["current"])


def test_a_token_is_refused_from_its_expiry_on(service: ServiceWorld) -> None:
    auth = service.fresh_auth("m1.main")
    token_id = int(str(_current(service, auth)["token_id"]))
    _set_expiry(service, token_id, timedelta(seconds=2))
    assert service.client.get("/me", headers=auth).status_code == 200  # just before
    _set_expiry(service, token_id, timedelta(seconds=-1))
    expired = service.client.get("/me", headers=auth)
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]


def test_issued_tokens_carry_their_expiry(service: ServiceWorld) -> None:
    r = service.client.post(
        "/accounts/m1.clerk/tokens",
        json={"expires_in_days": 7},
        headers=service.auth("m1.main"),
    )
    assert r.status_code == 201, r.text
    auth = {"Authorization": f"Bearer {r.json()['token']}"}
    mine = _current(service, auth)
    assert mine["expires_at"] == r.json()["expires_at"]
    default = _current(service, service.fresh_auth("m1.clerk"))
    assert str(default["expires_at"]) > str(mine["expires_at"])  # 90 days by default
    too_long = service.client.post(
        "/accounts/m1.clerk/tokens",
        json={"expires_in_days": 366},
        headers=service.auth("m1.main"),
    )
    assert too_long.status_code == 422


@pytest.mark.parametrize("who", KINDS)
def test_every_account_kind_rotates_its_own_token(service: ServiceWorld, who: str) -> None:
    old = service.fresh_auth(who)
    r = service.client.post("/tokens/rotate", headers=old)
    assert r.status_code == 201, r.text
    new = {"Authorization": f"Bearer {r.json()['token']}"}
    assert service.client.get("/me", headers=old).json()["detail"] == "revoked token"
    assert service.client.get("/me", headers=new).json()["account_id"] == who
    assert service.client.get("/me", headers=service.auth(who)).status_code == 200


@pytest.mark.parametrize("who", KINDS)
def test_every_account_kind_revokes_one_of_its_tokens(service: ServiceWorld, who: str) -> None:
    keep, drop = service.fresh_auth(who), service.fresh_auth(who)
    drop_id = _current(service, drop)["token_id"]
    r = service.client.post(f"/tokens/{drop_id}/revoke", headers=keep)
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    assert service.client.get("/me", headers=drop).status_code == 401
    assert service.client.get("/me", headers=keep).status_code == 200


def test_nobody_revokes_another_accounts_token_by_id(service: ServiceWorld) -> None:
    victim = service.fresh_auth("m2.main")
    victim_id = _current(service, victim)["token_id"]
    for who in ("m1.main", "operator", "carrier"):
        r = service.client.post(f"/tokens/{victim_id}/revoke", headers=service.auth(who))
        assert r.status_code == 404
    assert service.client.get("/me", headers=victim).status_code == 200


@pytest.mark.parametrize("who", ["m2.main", "m2.sub", "agency", "carrier", "consumer"])
def test_an_operator_revokes_every_token_of_any_account(service: ServiceWorld, who: str) -> None:
    """Before: only a sub-account's tokens could be revoked (by deactivating it)."""
    victim = service.fresh_auth(who)
    account_id = service.accounts[who].account_id
    by = service.fresh_auth("operator")
    r = service.client.post(f"/accounts/{account_id}/tokens/revoke", headers=by)
    assert r.status_code == 200 and r.json()["revoked"] >= 1
    assert service.client.get("/me", headers=victim).status_code == 401
    issued = service.client.post(f"/accounts/{account_id}/tokens", headers=by)
    assert issued.status_code == 201
    fresh = {"Authorization": f"Bearer {issued.json()['token']}"}
    assert service.client.get("/me", headers=fresh).json()["account_id"] == account_id
    # The seeded token went with the others: later tests of this module use the new one.
    service.accounts[who] = replace(service.accounts[who], token=issued.json()["token"])


def test_a_main_account_manages_its_own_shops_tokens_only(service: ServiceWorld) -> None:
    m1 = service.auth("m1.main")
    listed = service.client.get("/accounts/m1.sub/tokens", headers=m1)
    assert listed.status_code == 200 and listed.json()
    assert service.client.get("/accounts/m2.sub/tokens", headers=m1).status_code == 404
    assert service.client.post("/accounts/m2.sub/tokens/revoke", headers=m1).status_code == 404
    assert service.client.post("/accounts/operator/tokens/revoke", headers=m1).status_code == 404
    clerk = service.auth("m1.clerk")
    refused = service.client.post("/accounts/m1.sub/tokens/revoke", headers=clerk)
    assert refused.status_code == 403
    assert refused.json()["detail"]["permission"] == "accounts:manage"
    assert service.client.get("/me", headers=service.auth("m1.sub")).status_code == 200


def test_token_changes_are_audited(service: ServiceWorld) -> None:
    service.client.post("/tokens/rotate", headers=service.fresh_auth("m1.sub"))
    trail = service.client.get(
        "/audit", params={"entity_id": "m1.sub"}, headers=service.auth("m1.main")
    ).json()
    assert "token.rotate" in {e["action"] for e in trail}

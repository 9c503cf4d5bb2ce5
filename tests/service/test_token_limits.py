"""A rotated token never outlives the token that rotated it (hostile review of issue 12)."""

from __future__ import annotations

from datetime import datetime

from lvyue.api.testing import ServiceWorld
from lvyue.model import parse_instant


def _at(text: object) -> datetime:
    assert isinstance(text, str)
    return parse_instant(text)


def test_a_one_day_token_cannot_rotate_itself_into_a_year(service: ServiceWorld) -> None:
    """Used to answer 201 with a token valid for 365 days."""
    c, main = service.client, service.auth("m1.main")
    issued = c.post("/accounts/m1.sub/tokens", json={"expires_in_days": 1}, headers=main)
    assert issued.status_code == 201, issued.text
    short = {"Authorization": f"Bearer {issued.json()['token']}"}
    limit = _at(issued.json()["expires_at"])
    r = c.post("/tokens/rotate", json={"expires_in_days": 365}, headers=short)
    assert r.status_code == 422 and "no later than" in r.text, r.text
    assert c.get("/tokens", headers=short).status_code == 200  # a refusal revokes nothing
    r = c.post("/tokens/rotate", json={"expires_in_days": 1}, headers=short)
    assert r.status_code == 201, r.text
    assert _at(r.json()["expires_at"]) <= limit
    rotated = {"Authorization": f"Bearer {r.json()['token']}"}
    assert c.get("/tokens", headers=short).status_code == 401
    # the default (90 days) is cut to the old token's expiry
    again = c.post("/tokens/rotate", headers=rotated)
    assert again.status_code == 201, again.text
    assert _at(again.json()["expires_at"]) <= limit

"""Revoking every token of an account ends its console log-ins too (hostile review, issue 12)."""

from __future__ import annotations

from webkit import login

from lvyue.api.testing import ServiceWorld
from lvyue.web.security import LoginThrottle


def test_revoking_a_sub_accounts_tokens_logs_it_out_of_the_console(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    """Used to leave the sub-account's console session working after the revocation."""
    sub, other = login(service, "m1.sub"), login(service, "m1.main")
    assert sub.get("/console/orders").status_code == 200
    r = service.client.post("/accounts/m1.sub/tokens/revoke", headers=service.auth("operator"))
    assert r.status_code == 200, r.text
    assert r.json()["console_sessions_ended"] == 1
    gone = sub.get("/console/orders")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/console/login")
    assert other.get("/console/orders").status_code == 200  # nobody else is logged out

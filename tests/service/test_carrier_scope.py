"""Issue 12 item 11: a carrier account pushes only its own carrier's scans. Before, a carrier
account whose organisation was mistyped ("zhongtogn") was taken for an aggregator and could
push scans for every carrier; now it cannot be created, and one already stored pushes nothing."""

from __future__ import annotations

from lvyue.api.testing import ServiceWorld
from lvyue.store import make_engine, make_session_factory, session_scope
from lvyue.store.accounts import create_account, issue_token
from lvyue.store.permissions import Role


def _scan(carrier: str, waybill: str) -> dict[str, str]:
    return {"carrier": carrier, "waybill": waybill, "time": "2024-02-10 18:00:00", "kind": "pickup"}


def _stored_carrier_account(service: ServiceWorld, account_id: str, organisation: str) -> str:
    """An account as an older version let an operator create it (no check of the code)."""
    engine = make_engine(service.url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            create_account(
                session,
                account_id=account_id,
                name=account_id,
                role=Role.CARRIER,
                organisation=organisation,
            )
            return issue_token(session, account_id)
    finally:
        engine.dispose()


def test_a_carrier_account_needs_a_carrier_code(service: ServiceWorld) -> None:
    operator = service.auth("operator")
    body = {"account_id": "zto-typo", "name": "ZTO", "role": "carrier"}
    typo = service.client.post(
        "/accounts", json={**body, "organisation": "zhongtogn"}, headers=operator
    )
    assert typo.status_code == 422 and "organisation" in typo.text
    none = service.client.post("/accounts", json=body, headers=operator)
    assert none.status_code == 422
    created = service.client.post(
        "/accounts",
        json={**body, "account_id": "zto-ok", "organisation": "zhongtong"},
        headers=operator,
    )
    assert created.status_code == 201, created.text


def test_a_stored_carrier_account_with_a_typo_pushes_nothing(service: ServiceWorld) -> None:
    token = _stored_carrier_account(service, "zto-legacy", "zhongtogn")
    auth = {"Authorization": f"Bearer {token}"}
    for carrier in ("zhongtong", "yuantong", "shunfeng"):
        one = service.client.post("/tracking", json=_scan(carrier, "TYPO1"), headers=auth)
        assert one.status_code == 403, one.text
        assert one.json()["detail"]["field"] == "organisation"
        rows = {"rows": [_scan(carrier, "TYPO2")]}
        many = service.client.post("/ingest/tracking", json=rows, headers=auth)
        assert many.status_code == 403


def test_a_carrier_pushes_its_own_scans_only_and_an_aggregator_all(
    service: ServiceWorld,
) -> None:
    token = _stored_carrier_account(service, "zto-push", "zhongtong")
    zto = {"Authorization": f"Bearer {token}"}
    own = service.client.post("/tracking", json=_scan("zhongtong", "ZTOWN1"), headers=zto)
    assert own.status_code in (200, 201), own.text
    other = service.client.post("/tracking", json=_scan("yuantong", "YTO1"), headers=zto)
    assert other.status_code in (403, 422) and "zhongtong" in other.text
    kuaidi100 = service.auth("carrier")
    for carrier in ("yuantong", "shunfeng"):
        r = service.client.post("/tracking", json=_scan(carrier, "AGG1"), headers=kuaidi100)
        assert r.status_code in (200, 201), r.text

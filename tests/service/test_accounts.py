"""Authentication, roles and permissions through the HTTP API (LD-9, GN-4)."""

from __future__ import annotations

from lvyue.api.testing import ServiceWorld


def test_health_needs_no_token(service: ServiceWorld) -> None:
    assert service.client.get("/health").json() == {"status": "ok"}


def test_no_or_bad_token_is_401(service: ServiceWorld) -> None:
    assert service.client.get("/me").status_code == 401
    bad = service.client.get("/me", headers={"Authorization": "Bearer lvy_nope"})
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == "Bearer"


def test_me_reports_role_and_permissions(service: ServiceWorld) -> None:
    body = service.client.get("/me", headers=service.auth("m1.main")).json()
    assert body["role"] == "merchant_main"
    assert body["merchant_id"] == "m1"
    assert "accounts:manage" in body["permissions"]
    clerk = service.client.get("/me", headers=service.auth("m1.clerk")).json()
    assert clerk["permissions"] == []


def test_sub_account_without_permission_gets_403_naming_it_and_the_granter(
    service: ServiceWorld,
) -> None:
    r = service.client.get("/orders", headers=service.auth("m1.clerk"))
    assert r.status_code == 403
    detail = r.json()["detail"]
    assert detail["permission"] == "orders:view"
    assert "main account" in detail["granted_by"]


def test_main_account_creates_position_and_sub_account_then_grants(service: ServiceWorld) -> None:
    c, main = service.client, service.auth("m2.main")
    pos = c.put("/positions", json={"name": "发货员", "permissions": ["orders:ship"]}, headers=main)
    assert pos.status_code == 200, pos.text
    created = c.post(
        "/sub-accounts",
        json={"account_id": "m2.shipper", "name": "发货员小王", "position_ids": []},
        headers=main,
    )
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    shipper = {"Authorization": f"Bearer {token}"}
    assert c.get("/orders", headers=shipper).status_code == 403
    # the main account grants orders:view through the position
    c.put(
        "/positions",
        json={"name": "发货员", "permissions": ["orders:ship", "orders:view"]},
        headers=main,
    )
    put = c.put(
        "/accounts/m2.shipper/positions",
        json={"position_ids": [pos.json()["position_id"]]},
        headers=main,
    )
    assert put.status_code == 200, put.text
    assert c.get("/orders", headers=shipper).status_code == 200
    me = c.get("/me", headers=shipper).json()
    assert sorted(me["permissions"]) == ["orders:ship", "orders:view"]


def test_accounts_manage_cannot_be_granted(service: ServiceWorld) -> None:
    r = service.client.put(
        "/positions",
        json={"name": "管理员", "permissions": ["accounts:manage"]},
        headers=service.auth("m1.main"),
    )
    assert r.status_code == 422
    assert "accounts:manage" in r.json()["detail"]


def test_token_is_stored_only_as_a_hash(service: ServiceWorld) -> None:
    from sqlalchemy import select

    from lvyue.store import ApiToken, make_engine, make_session_factory

    engine = make_engine(service.url)
    with make_session_factory(engine)() as session:
        hashes = session.scalars(select(ApiToken.token_hash)).all()
    engine.dispose()
    token = service.token("m1.main")
    assert token not in hashes
    assert all(len(h) == 64 for h in hashes)


def test_foreign_account_and_position_are_404(service: ServiceWorld) -> None:
    c = service.client
    r = c.put(
        "/accounts/m1.sub/positions", json={"position_ids": []}, headers=service.auth("m2.main")
    )
    assert r.status_code == 404
    r = c.post("/accounts/m1.clerk/tokens", headers=service.auth("m2.main"))
    assert r.status_code == 404
    listed = c.get("/accounts", headers=service.auth("m2.main")).json()
    assert {a["merchant_id"] for a in listed} == {"m2"}


def test_operator_registers_merchant_with_main_account(service: ServiceWorld) -> None:
    r = service.client.post(
        "/merchants",
        json={
            "merchant_id": "m9",
            "name": "九号店",
            "merchant_type": "domestic",
            "main_account_id": "m9-main",
            "main_account_name": "九号店主",
        },
        headers=service.auth("operator"),
    )
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    me = service.client.get("/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["merchant_id"] == "m9"
    again = service.client.post(
        "/merchants",
        json={
            "merchant_id": "m9",
            "name": "x",
            "merchant_type": "domestic",
            "main_account_id": "m9-main2",
            "main_account_name": "x",
        },
        headers=service.auth("operator"),
    )
    assert again.status_code == 409
    refused = service.client.post(
        "/merchants",
        json={
            "merchant_id": "m8",
            "name": "x",
            "merchant_type": "domestic",
            "main_account_id": "m8-main",
            "main_account_name": "x",
        },
        headers=service.auth("m1.main"),
    )
    assert refused.status_code == 403
    assert refused.json()["detail"]["permission"] == "merchants:manage"


def test_deactivated_sub_account_loses_access_at_once(service: ServiceWorld) -> None:
    c, main = service.client, service.auth("m2.main")
    created = c.post(
        "/sub-accounts", json={"account_id": "m2.temp", "name": "临时工"}, headers=main
    ).json()
    temp = {"Authorization": f"Bearer {created['token']}"}
    assert c.get("/me", headers=temp).status_code == 200
    assert (
        c.post("/accounts/m2.temp/deactivate", headers=service.auth("m1.main")).status_code == 404
    )
    assert c.post("/accounts/m2.main/deactivate", headers=main).status_code == 422
    off = c.post("/accounts/m2.temp/deactivate", headers=main)
    assert off.status_code == 200 and off.json()["active"] is False
    assert c.get("/me", headers=temp).status_code == 401


def test_audit_log_records_changes_per_tenant(service: ServiceWorld) -> None:
    c = service.client
    c.put(
        "/positions",
        json={"name": "审计", "permissions": ["audit:view"]},
        headers=service.auth("m1.main"),
    )
    mine = c.get("/audit", headers=service.auth("m1.main")).json()
    assert any(e["action"] == "position.set" and e["detail"]["name"] == "审计" for e in mine)
    assert {e["merchant_id"] for e in mine} == {"m1"}
    assert (
        c.get("/audit", params={"merchant_id": "m2"}, headers=service.auth("m1.main")).status_code
        == 404
    )
    everything = c.get("/audit", params={"limit": 500}, headers=service.auth("operator")).json()
    assert {"m1", "m2"} <= {e["merchant_id"] for e in everything}
    assert c.get("/audit", headers=service.auth("m1.clerk")).status_code == 403


def test_sub_account_ids_live_in_the_shops_namespace(service: ServiceWorld) -> None:
    """Issue 12 item 11: account ids were global, so m1 could learn that "m2.sub" exists
    (409 "already exists") or take an id m2 wanted. Now an id outside "m1." is refused alike
    whether it exists or not, and nothing is created."""
    c, m1 = service.client, service.auth("m1.main")
    taken = c.post("/sub-accounts", json={"account_id": "m2.sub", "name": "x"}, headers=m1)
    free = c.post("/sub-accounts", json={"account_id": "m2.nobody", "name": "x"}, headers=m1)
    bare = c.post("/sub-accounts", json={"account_id": "clerk2", "name": "x"}, headers=m1)
    assert taken.status_code == free.status_code == bare.status_code == 422
    assert taken.json() == free.json() == bare.json()
    assert "m1." in taken.json()["detail"]
    assert c.post("/accounts/m2.nobody/tokens", headers=service.auth("operator")).status_code == 404
    own = c.post("/sub-accounts", json={"account_id": "m1.packer", "name": "x"}, headers=m1)
    assert own.status_code == 201, own.text
    again = c.post("/sub-accounts", json={"account_id": "m1.packer", "name": "x"}, headers=m1)
    assert again.status_code == 409  # its own namespace: the shop may know its own ids


def test_a_shops_namespace_cannot_be_nested_or_entered_by_another_account(
    service: ServiceWorld,
) -> None:
    """Issue 12 item 11, what the sub-account rule left open: a merchant id with a "." ("m1.x")
    put a shop's namespace inside m1's ("m1.x.main" started with "m1."), so m1 could probe it
    (409) or take "m1.x.clerk" first; a platform or main account could be given an id in a
    shop's namespace ("m2.ops"), which m2 then found "already exists". All refused now (422)."""
    c, op = service.client, service.auth("operator")
    nested = {"merchant_id": "m1.x", "name": "嵌套店", "merchant_type": "domestic",
              "main_account_id": "m1.x.main", "main_account_name": "主"}  # fmt: skip
    r = c.post("/merchants", json=nested, headers=op)
    assert r.status_code == 422 and "merchant_id" in r.text, r.text
    intruder = {**nested, "merchant_id": "m8", "main_account_id": "m2.boss"}
    r = c.post("/merchants", json=intruder, headers=op)
    assert r.status_code == 422 and "namespace" in r.text, r.text
    platform = {"account_id": "m2.ops", "name": "运营", "role": "operator"}
    r = c.post("/accounts", json=platform, headers=op)
    assert r.status_code == 422 and "namespace" in r.text, r.text
    for account_id in ("m1.x.main", "m2.boss", "m2.ops"):
        assert c.post(f"/accounts/{account_id}/tokens", headers=op).status_code == 404
    # nothing of a refused registration was kept: the same shop registers with its own id
    own = c.post("/merchants", json={**intruder, "main_account_id": "m8.main"}, headers=op)
    assert own.status_code == 201, own.text

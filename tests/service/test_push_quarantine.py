"""Kuaidi100 pushes that are signed but cannot be stored are quarantined whole with the reason,
never lost in a 500 (issue 12 item 5); and the push as Kuaidi100 really sends it — form fields
``param`` and ``sign``, no bearer token — is authenticated by the subscription's salt and acts
as the subscription's carrier account."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lvyue.api.testing import TEST_SALT, ServiceWorld
from lvyue.tracking.kuaidi100 import push_sign

ACK = {"result": True, "returnCode": "200", "message": "成功"}


def param(
    waybill: str, text: str = "【杭州市】快件已揽收", when: str = "2024-02-10 18:00:00"
) -> str:
    scan = {"context": text, "time": when, "ftime": when, "status": "已揽收", "statusCode": "103"}
    last = {"nu": waybill, "com": "zhongtong", "state": "1", "ischeck": "0", "data": [scan]}
    return json.dumps({"status": "polling", "message": "", "lastResult": last}, ensure_ascii=False)


def signed(text: str, salt: str = TEST_SALT) -> dict[str, str]:
    return {"param": text, "sign": push_sign(text, salt)}


def quarantined(service: ServiceWorld, form: dict[str, str]) -> list[dict[str, Any]]:
    listed = service.client.get(
        "/quarantine",
        params={"source": "kuaidi100", "limit": 500},
        headers=service.auth("operator"),
    ).json()
    return [row for row in listed if row["payload"]["param"] == form["param"]]


def scans_of(service: ServiceWorld, order_id: str) -> list[dict[str, Any]]:
    got = service.client.get(f"/orders/{order_id}", headers=service.auth("m1.main")).json()
    events: list[dict[str, Any]] = got["tracking"]
    return events


@pytest.fixture(scope="module")
def shipped(service: ServiceWorld) -> str:
    """An order of m1 shipped with zhongtong ZTQ1: the pushes below are for its parcel."""
    m1 = service.auth("m1.main")
    order = {
        "order_id": "q-1",
        "merchant_id": "m1",
        "merchant_type": "domestic",
        "category": "服饰内衣>女装",
        "ship_mode": "spot",
        "pay_time": "2024-02-10 09:00:00",
    }
    # the platform's record of a 2024 shipment: its 2024 scans are not held for their time
    shipment = {"carrier": "zhongtong", "waybill": "ZTQ1", "ship_time": "2024-02-10 12:00:00"}
    op = service.auth("operator")
    assert service.client.post("/orders", json={**order, **shipment}, headers=op).status_code == 201
    assert service.client.get("/orders/q-1", headers=m1).status_code == 200
    return "q-1"


BAD_PUSHES = {
    "NUL in the scan text": (param("ZTQ1", text="快件\x00已揽收"), "text"),
    "scan text of 2,001 characters": (param("ZTQ1", text="揽" * 2001), "text"),
    "waybill of 65 characters": (param("Z" * 65), "waybill"),
    "non-ASCII waybill": (param("中通ZTQ1"), "waybill"),
    "year-0001 time": (param("ZTQ1", when="0001-01-01 00:00:00"), "time"),
}


@pytest.mark.parametrize("case", sorted(BAD_PUSHES))
def test_a_signed_push_that_cannot_be_stored_is_quarantined_whole(
    service: ServiceWorld, shipped: str, case: str
) -> None:
    text, field = BAD_PUSHES[case]
    form = signed(text)
    before = scans_of(service, shipped)
    r = service.client.post("/carriers/kuaidi100/push", data=form, headers=service.auth("carrier"))
    assert (r.status_code, r.json()) == (200, ACK)
    (row,) = quarantined(service, form)
    assert row["payload"] == form  # whole, as received
    assert field in row["error"]
    assert scans_of(service, shipped) == before


def test_the_edge_scan_text_of_2000_characters_is_stored(
    service: ServiceWorld, shipped: str
) -> None:
    form = signed(param("ZTQ1", text="揽" * 2000, when="2024-02-10 19:00:00"))
    r = service.client.post("/carriers/kuaidi100/push", data=form, headers=service.auth("carrier"))
    assert (r.status_code, r.json()) == (200, ACK)
    assert quarantined(service, form) == []
    assert [len(e["text"]) for e in scans_of(service, shipped)] == [2000]


@pytest.fixture(scope="module")
def subscription(service: ServiceWorld) -> dict[str, str]:
    r = service.client.post(
        "/carriers/kuaidi100/subscriptions",
        json={"account_id": service.accounts["carrier"].account_id},
        headers=service.auth("operator"),
    )
    assert r.status_code == 201, r.text
    made: dict[str, str] = r.json()
    return made


def test_a_form_push_without_token_is_authenticated_by_the_subscription_salt(
    service: ServiceWorld, shipped: str, subscription: dict[str, str]
) -> None:
    form = signed(param("ZTQ1", when="2024-02-11 02:00:00"), subscription["salt"])
    r = service.client.post(subscription["callback"], data=form)  # no Authorization header
    assert (r.status_code, r.json()) == (200, ACK)
    assert "2024-02-11T02:00:00+08:00" in [e["time"] for e in scans_of(service, shipped)]
    audit = service.client.get(
        "/audit",
        params={"entity": "waybill", "entity_id": "kuaidi100", "limit": 500},
        headers=service.auth("operator"),
    )
    assert audit.status_code == 200, audit.text
    # the push acts as the subscription's carrier account
    assert service.accounts["carrier"].account_id in {e["actor"] for e in audit.json()}


def test_a_form_push_with_another_salt_or_subscription_is_refused_and_kept_nowhere(
    service: ServiceWorld, shipped: str, subscription: dict[str, str]
) -> None:
    forged = signed(param("ZTQ1", when="2024-02-11 03:00:00"), TEST_SALT)  # not this salt
    r = service.client.post(subscription["callback"], data=forged)
    assert r.status_code == 401
    assert r.json()["result"] is False
    unknown = service.client.post(
        "/carriers/kuaidi100/push/no-such-subscription",
        data=signed(forged["param"], subscription["salt"]),
    )
    assert unknown.status_code == 401
    assert quarantined(service, forged) == []
    assert "2024-02-11T03:00:00+08:00" not in [e["time"] for e in scans_of(service, shipped)]


def test_a_revoked_subscription_pushes_no_more(service: ServiceWorld) -> None:
    carrier_id = service.accounts["carrier"].account_id
    op = service.auth("operator")
    made = service.client.post(
        "/carriers/kuaidi100/subscriptions", json={"account_id": carrier_id}, headers=op
    ).json()
    form = signed(param("ZTQ1", when="2024-02-11 04:00:00"), made["salt"])
    path = f"/carriers/kuaidi100/subscriptions/{made['subscription_id']}"
    assert service.client.delete(path, headers=op).status_code == 204
    assert service.client.post(made["callback"], data=form).status_code == 401


def test_only_operators_subscribe_and_only_carrier_accounts(service: ServiceWorld) -> None:
    carrier_id = service.accounts["carrier"].account_id
    r = service.client.post(
        "/carriers/kuaidi100/subscriptions",
        json={"account_id": carrier_id},
        headers=service.auth("m1.main"),
    )
    assert r.status_code == 403
    merchant_account = service.accounts["m1.main"].account_id
    r = service.client.post(
        "/carriers/kuaidi100/subscriptions",
        json={"account_id": merchant_account},
        headers=service.auth("operator"),
    )
    assert r.status_code == 422

"""The Kuaidi100 push endpoint: signature, exact acknowledgement, repeated and reordered
pushes, quarantine of unreadable pushes."""

from __future__ import annotations

from lvyue.api.testing import TEST_SALT, ServiceWorld
from lvyue.model import TrackingEvent, TrackingKind, parse_instant
from lvyue.tracking.kuaidi100 import encode_push

ACK_TEXT = '{"result":true,"returnCode":"200","message":"成功"}'


def scan(when: str, kind: TrackingKind, text: str) -> TrackingEvent:
    return TrackingEvent("zhongtong", "ZT555", parse_instant(when), kind, "杭州", text)


PICKUP = scan("2024-02-10 18:00:00", TrackingKind.PICKUP, "【杭州市】快件已揽收")
HUB = scan("2024-02-11 02:00:00", TrackingKind.HUB_ARRIVAL, "快件已到达【杭州转运中心】")
SIGNED = scan("2024-02-12 15:00:00", TrackingKind.SIGNED, "快件已签收，签收人：本人")


def state(service: ServiceWorld) -> list[tuple[str, str]]:
    detail = service.client.get("/orders/k-1", headers=service.auth("m1.main")).json()
    return [(e["time"], e["kind"]) for e in detail["tracking"]]


def push(service: ServiceWorld, form: dict[str, str]) -> tuple[int, str]:
    r = service.client.post("/carriers/kuaidi100/push", data=form, headers=service.auth("carrier"))
    return r.status_code, r.text


def test_pushes_repeated_or_reordered_give_the_same_state(service: ServiceWorld) -> None:
    c = service.client
    order = {
        "order_id": "k-1",
        "merchant_id": "m1",
        "merchant_type": "domestic",
        "category": "服饰内衣>女装",
        "ship_mode": "spot",
        "pay_time": "2024-02-10 09:00:00",
    }
    # the platform's record of a 2024 shipment: its 2024 scans are not held for their time
    shipment = {"carrier": "zhongtong", "waybill": "ZT555", "ship_time": "2024-02-10 12:00:00"}
    r = c.post("/orders", json={**order, **shipment}, headers=service.auth("operator"))
    assert r.status_code == 201, r.text

    full = encode_push("zhongtong", "ZT555", [PICKUP, HUB, SIGNED], salt=TEST_SALT)
    early = encode_push("zhongtong", "ZT555", [PICKUP, HUB], salt=TEST_SALT)
    assert push(service, full) == (200, ACK_TEXT)  # the exact acknowledgement
    after_full = state(service)
    assert [kind for _, kind in after_full] == ["pickup", "hub_arrival", "signed"]
    assert push(service, early) == (200, ACK_TEXT)  # an older push arriving late
    assert push(service, full) == (200, ACK_TEXT)  # and a repeat
    assert state(service) == after_full


def test_bad_signature_is_refused_and_kept_nowhere(service: ServiceWorld) -> None:
    form = encode_push("zhongtong", "ZT556", [PICKUP], salt="not-the-salt")
    status, text = push(service, form)
    assert status == 403
    assert '"result":false' in text
    listed = service.client.get(
        "/quarantine", params={"source": "kuaidi100"}, headers=service.auth("operator")
    ).json()
    assert all("ZT556" not in str(row["payload"]) for row in listed)


def test_unreadable_push_is_acknowledged_and_quarantined(service: ServiceWorld) -> None:
    from lvyue.tracking.kuaidi100 import push_sign

    param = '{"status":"polling","lastResult":{"com":"zhongtong","nu":"ZT557","data":"oops"}}'
    assert push(service, {"param": param, "sign": push_sign(param, TEST_SALT)}) == (200, ACK_TEXT)
    op = service.auth("operator")
    listed = service.client.get("/quarantine", params={"source": "kuaidi100"}, headers=op).json()
    (row,) = [r for r in listed if "ZT557" in r["payload"]["param"]]
    assert "data" in row["error"]


def test_push_needs_the_carrier_permission(service: ServiceWorld) -> None:
    form = encode_push("zhongtong", "ZT558", [PICKUP], salt=TEST_SALT)
    r = service.client.post("/carriers/kuaidi100/push", data=form, headers=service.auth("m1.main"))
    assert r.status_code == 403
    assert r.json()["detail"]["permission"] == "tracking:push"
    assert service.client.post("/carriers/kuaidi100/push", data=form).status_code == 401

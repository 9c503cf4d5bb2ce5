"""The console's order page lists the BT-9 packing records (every version, missing ones
marked) and serves each file to who may see the order; the after-sales list links to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from webkit import login

from lvyue.api.testing import ServiceWorld
from lvyue.web.security import LoginThrottle

MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4


def test_the_order_page_shows_and_serves_the_packing_records(
    service: ServiceWorld,
    fresh_throttle: LoginThrottle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LVYUE_EVIDENCE_DIR", str(tmp_path))
    c, m1 = service.client, service.auth("m1.main")
    order = {"order_id": "web-ev-1", "merchant_id": "m1", "merchant_type": "domestic",
             "category": "服饰内衣>女装", "ship_mode": "spot",
             "pay_time": "2024-02-09 10:00:00"}  # fmt: skip
    assert c.post("/orders", json=order, headers=service.auth("operator")).status_code == 201
    ship = {"carrier": "zhongtong", "waybill": "ZTweb1"}
    assert c.post("/orders/web-ev-1/shipment", json=ship, headers=m1).status_code == 201
    path = "/orders/web-ev-1/shipment/packing-video"
    first = c.post(path, files={"file": ("a.mp4", MP4, "video/mp4")}, headers=m1).json()
    fixed = MP4 + b"!"
    second = c.post(path + "/corrections", files={"file": ("b.mp4", fixed, "video/mp4")},
                    data={"reason": "换成本单的包裹"}, headers=m1).json()  # fmt: skip
    merchant = login(service, "m1.main")
    html = merchant.get("/console/orders/web-ev-1").text
    assert 'id="evidence"' in html and "换成本单的包裹" in html
    for out, data in ((first, MP4), (second, fixed)):
        link = f"/console/orders/web-ev-1/evidence/{out['sha256']}"
        assert link in html
        assert merchant.get(link).content == data
    other = login(service, "m2.main")
    theirs = other.get(f"/console/orders/web-ev-1/evidence/{first['sha256']}")
    missing = other.get(f"/console/orders/no-such/evidence/{first['sha256']}")
    assert theirs.status_code == missing.status_code == 404


def test_the_inspection_page_marks_a_send_out_without_a_record(
    service: ServiceWorld,
    fresh_throttle: LoginThrottle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BT-9 asks a record of a pre-inspection's send-out: the list says when it is missing
    (the send itself went through) and when it is kept."""
    monkeypatch.setenv("LVYUE_EVIDENCE_DIR", str(tmp_path))
    c, m1 = service.client, service.auth("m1.main")
    body = {"item_id": "WEB-EV-ITEM", "category": "二手商品>二手3C数码>手机",
            "agency": "btas-agency-1"}  # fmt: skip
    iid = c.post("/btas/inspections", json=body, headers=m1).json()["inspection_id"]
    parcel = {"carrier": "shunfeng", "waybill": "SFW1"}
    sent = c.post(f"/btas/inspections/{iid}/send", json=parcel, headers=m1)
    assert sent.status_code == 200, sent.text
    merchant = login(service, "m1.main")

    def row() -> str:
        html = merchant.get("/console/btas").text
        return html[html.index(f"<td>{iid}</td>") :].split("</tr>")[0]

    assert "缺少打包记录" in row()
    up = c.post(f"/btas/inspections/{iid}/packing-video",
                files={"file": ("s.mp4", MP4, "video/mp4")}, headers=m1)  # fmt: skip
    assert up.status_code == 201, up.text
    assert "缺少打包记录" not in row() and "打包记录已上传" in row()

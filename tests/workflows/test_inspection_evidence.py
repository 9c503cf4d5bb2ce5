"""BT-9 in the inspection workflow and in a dispute: a pre-inspected item's send-out and its
shipment to the consumer each ask a packing record; a missing one blocks nothing (the seed
makes it a duty to keep evidence, not a condition of shipping) and shows as missing in the
inspection, the order's evidence and the after-sales dispute, where the files are listed."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from lvyue.api.testing import ServiceWorld

if TYPE_CHECKING:  # fixtures' types (conftest is not importable under importlib mode)
    from conftest import Clock, OrderFactory

PHONE = "二手商品>二手3C数码>手机"
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4
JPEG = b"\xff\xd8\xff\xe0" + bytes(64)


@pytest.fixture(autouse=True)
def evidence_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LVYUE_EVIDENCE_DIR", str(tmp_path))


def _pre_inspected_and_shipped(
    service: ServiceWorld, make_order: OrderFactory, item: str
) -> tuple[str, str]:
    """An item inspected before it sold (no order), returned, then sold and shipped by the
    merchant with its code — every step without any packing video. (inspection, order)"""
    c, m, agency = service.client, service.auth("m1.main"), service.auth("agency")
    body = {"item_id": item, "category": PHONE, "agency": "btas-agency-1"}
    iid = c.post("/btas/inspections", json=body, headers=m).json()["inspection_id"]
    assert c.get(f"/btas/inspections/{iid}", headers=m).json()["send_record"] == "not_due"
    sent = c.post(f"/btas/inspections/{iid}/send", json={"carrier": "shunfeng",
                                                          "waybill": "SF1"}, headers=m)  # fmt: skip
    assert sent.status_code == 200, sent.text  # not blocked by the missing video
    assert sent.json()["send_record"] == "missing"
    assert c.post(f"/btas/inspections/{iid}/receive", headers=agency).status_code == 200
    result = {"result": "pass", "report_ref": "rpt-1", "tag_ref": "TAG-1"}
    code = c.post(f"/btas/inspections/{iid}/result", json=result, headers=agency).json()["code"]
    back = {"carrier": "shunfeng", "waybill": "RT1"}
    assert c.post(f"/btas/inspections/{iid}/return", json=back, headers=agency).status_code == 200
    order = make_order(category=PHONE, product_id=item, consumer_id="consumer")
    parcel = {"carrier": "zhongtong", "waybill": f"ZT-{order}", "inspection_code": code}
    shipped = c.post(f"/btas/orders/{order}/ship", json=parcel, headers=m)
    assert shipped.status_code == 201, shipped.text  # nor is shipping
    return iid, order


def _packings(listing: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["stage"]: p for p in listing["packings"]}


def test_missing_records_show_as_missing_and_block_nothing(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    c, m = service.client, service.auth("m1.main")
    iid, order = _pre_inspected_and_shipped(service, make_order, f"EV-ITEM-1-{service.backend}")
    listing = c.get(f"/orders/{order}/evidence", headers=m).json()
    assert listing["clause"] == "BT-9"
    packings = _packings(listing)
    assert packings["send"]["subject_id"] == iid and packings["ship"]["subject_id"] == order
    assert all(p["due"] and p["missing"] and not p["versions"] for p in packings.values())
    verdicts = c.get(f"/workflows/orders/{order}/verdicts", headers=m).json()
    assert not [v for v in verdicts if "BT-9" in str(v) and v["status"] == "violation"]

    send = c.post(f"/btas/inspections/{iid}/packing-video",
                  files={"file": ("s.mp4", MP4, "video/mp4")}, headers=m)  # fmt: skip
    assert send.status_code == 201, send.text
    ship = c.post(f"/orders/{order}/shipment/packing-video",
                  files={"file": ("p.jpg", JPEG, "image/jpeg")}, headers=m)  # fmt: skip
    assert ship.status_code == 201, ship.text
    assert c.get(f"/btas/inspections/{iid}", headers=m).json()["send_record"] == "kept"
    packings = _packings(c.get(f"/orders/{order}/evidence", headers=m).json())
    assert not any(p["missing"] for p in packings.values())
    (sent,) = packings["send"]["versions"]
    assert sent["sha256"] == hashlib.sha256(MP4).hexdigest() and sent["size"] == len(MP4)
    assert (sent["media_type"], sent["uploaded_by"]) == ("video/mp4", service.accounts[
        "m1.main"].account_id)  # fmt: skip
    assert c.get(sent["download"], headers=m).content == MP4
    assert c.get(packings["ship"]["versions"][0]["download"], headers=m).content == JPEG


def test_a_dispute_shows_the_order_s_packing_records(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    c, m = service.client, service.auth("m1.main")
    iid, order = _pre_inspected_and_shipped(service, make_order, f"EV-ITEM-2-{service.backend}")
    up = c.post(f"/orders/{order}/shipment/packing-video",
                files={"file": ("p.mp4", MP4, "video/mp4")}, headers=m)  # fmt: skip
    assert up.status_code == 201, up.text
    clock.advance(hours=1)
    asked = c.post("/workflows/after-sales", json={"order_id": order, "type": "return_refund"},
                   headers=service.auth("consumer"))  # fmt: skip
    assert asked.status_code == 201, asked.text
    aftersale = asked.json()["aftersale_id"]
    path = f"/workflows/after-sales/{aftersale}/evidence"
    for who in ("m1.main", "operator"):
        shown = c.get(path, headers=service.auth(who))
        assert shown.status_code == 200, shown.text
        body = shown.json()
        assert (body["aftersale_id"], body["order_id"]) == (aftersale, order)
        packings = _packings(body)
        assert packings["ship"]["current"] == up.json()["reference"]
        assert packings["send"]["missing"] and packings["send"]["subject_id"] == iid
        link = packings["ship"]["versions"][0]["download"]
        assert c.get(link, headers=service.auth(who)).content == MP4
    # another shop's dispute answers exactly as one that does not exist
    m2 = service.auth("m2.main")
    theirs, missing = c.get(path, headers=m2), c.get("/workflows/after-sales/nope/evidence",
                                                     headers=m2)  # fmt: skip
    assert theirs.status_code == missing.status_code == 404 and theirs.json() == missing.json()
    assert c.get(path, headers=service.auth("consumer")).status_code == 403
    assert c.get(path).status_code == 401


def test_the_send_out_record_follows_the_inspection_s_tenancy(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    c, m = service.client, service.auth("m1.main")
    iid, _ = _pre_inspected_and_shipped(service, make_order, f"EV-ITEM-3-{service.backend}")
    path = f"/btas/inspections/{iid}/packing-video"
    assert c.post(path, files={"file": ("s.mp4", MP4, "video/mp4")}, headers=m).status_code == 201
    for who in ("m1.main", "agency", "operator"):
        assert c.get(path, headers=service.auth(who)).content == MP4
    m2 = service.auth("m2.main")
    missing = c.get("/btas/inspections/INS-NOPE/packing-video", headers=m2)
    for answer in (
        c.get(path, headers=m2),
        c.post(path, files={"file": ("s.mp4", MP4, "video/mp4")}, headers=m2),
    ):
        assert answer.status_code == 404 and answer.json()["detail"] == missing.json()[
            "detail"].replace("INS-NOPE", iid)  # fmt: skip
    # the agency neither uploads nor corrects the merchant's record
    agency = service.auth("agency")
    assert c.post(path, files={"file": ("s.mp4", MP4, "video/mp4")},
                  headers=agency).status_code == 403  # fmt: skip


def test_a_send_out_cannot_borrow_another_shop_s_file(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    """m2 writes m1's stored reference into its own send-out: refused (only an upload sets a
    ``sha256:`` reference), and nothing of m1's is served through m2's inspection. An upload
    before sending stays the record when the item is sent."""
    c, m1, m2 = service.client, service.auth("m1.main"), service.auth("m2.main")
    body = {"item_id": f"EV-ITEM-4-{service.backend}", "category": PHONE,
            "agency": "btas-agency-1"}  # fmt: skip
    mine = c.post("/btas/inspections", json=body, headers=m1).json()["inspection_id"]
    up = c.post(f"/btas/inspections/{mine}/packing-video",
                files={"file": ("s.mp4", MP4, "video/mp4")}, headers=m1)  # fmt: skip
    assert up.status_code == 201, up.text
    reference = up.json()["reference"]
    parcel = {"carrier": "shunfeng", "waybill": "SF4"}
    sent = c.post(f"/btas/inspections/{mine}/send", json=parcel, headers=m1)
    assert sent.status_code == 200 and sent.json()["packing_video"] == reference
    assert sent.json()["send_record"] == "kept"
    assert c.get(f"/btas/inspections/{mine}/packing-video", headers=m1).content == MP4
    theirs = c.post("/btas/inspections", json={**body, "item_id": f"EV-ITEM-5-{service.backend}"},
                    headers=m2).json()["inspection_id"]  # fmt: skip
    for written in (reference, f" {reference.upper()}"):
        r = c.post(f"/btas/inspections/{theirs}/send",
                   json={**parcel, "packing_video": written}, headers=m2)  # fmt: skip
        assert r.status_code == 422 and "upload" in r.text, r.text
    assert c.post(f"/btas/inspections/{theirs}/send", json=parcel, headers=m2).status_code == 200
    assert c.get(f"/btas/inspections/{theirs}/packing-video", headers=m2).status_code == 404

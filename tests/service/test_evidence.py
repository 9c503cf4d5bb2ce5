"""BT-9 packing videos through the API: linked to the shipment, tenancy, read back verified,
a recorded one corrected only with a reason (the stores themselves:
test_evidence_stores.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lvyue.api.testing import ServiceWorld

MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4


def _shipped(service: ServiceWorld, order_id: str) -> None:
    m1 = service.auth("m1.main")
    order = {"order_id": order_id, "merchant_id": "m1", "merchant_type": "domestic",
             "category": "鲜花速递/花卉仿真/绿植园艺>生活鲜花", "ship_mode": "spot",
             "pay_time": "2024-02-09 10:00:00"}  # fmt: skip
    operator = service.auth("operator")  # the platform's feed issues orders (orders:ingest)
    assert service.client.post("/orders", json=order, headers=operator).status_code == 201
    ship = {"carrier": "zhongtong", "waybill": f"ZT{order_id}"}
    made = service.client.post(f"/orders/{order_id}/shipment", json=ship, headers=m1)
    assert made.status_code == 201, made.text


def test_uploaded_linked_to_the_shipment_and_shown_to_who_may_see_the_order(
    service: ServiceWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LVYUE_EVIDENCE_DIR", str(tmp_path))
    monkeypatch.setenv("LVYUE_EVIDENCE_MAX_BYTES", str(len(MP4)))
    _shipped(service, "ev-1")
    c, m1, path = service.client, service.auth("m1.main"), "/orders/ev-1/shipment/packing-video"
    up = c.post(path, files={"file": ("pack.mp4", MP4, "video/mp4")}, headers=m1)
    assert up.status_code == 201, up.text
    reference = up.json()["reference"]
    assert c.get("/orders/ev-1", headers=m1).json()["shipment"]["packing_video"] == reference
    for who in ("m1.main", "operator"):
        got = c.get(path, headers=service.auth(who))
        assert got.status_code == 200 and got.content == MP4
        assert got.headers["content-type"] == "video/mp4"
    assert c.get(path, headers=service.auth("m2.main")).status_code == 404  # not theirs
    theirs = c.post(path, files={"file": ("x.mp4", MP4, "video/mp4")},
                    headers=service.auth("m2.main"))  # fmt: skip
    assert theirs.status_code == 404
    too_big = c.post(path, files={"file": ("x.mp4", MP4 + b"x", "video/mp4")}, headers=m1)
    assert too_big.status_code == 413
    wrong = c.post(path, files={"file": ("x.pdf", b"%PDF-1.7", "application/pdf")}, headers=m1)
    assert wrong.status_code == 415
    assert c.post(path, files={"file": ("x.mp4", MP4, "video/mp4")}).status_code == 401


def test_an_unshipped_order_has_no_packing_video(
    service: ServiceWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LVYUE_EVIDENCE_DIR", str(tmp_path))
    m1 = service.auth("m1.main")
    order = {"order_id": "ev-2", "merchant_id": "m1", "merchant_type": "domestic",
             "category": "服饰内衣>女装", "ship_mode": "spot",
             "pay_time": "2024-02-09 10:00:00"}  # fmt: skip
    operator = service.auth("operator")
    assert service.client.post("/orders", json=order, headers=operator).status_code == 201
    path = "/orders/ev-2/shipment/packing-video"
    up = service.client.post(path, files={"file": ("p.mp4", MP4, "video/mp4")}, headers=m1)
    assert up.status_code == 409


def test_a_recorded_packing_video_is_never_replaced(
    service: ServiceWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The merchant is judged on its BT-9 evidence: once recorded, another file does not take
    its place (as re-sending the shipment keeps it); the same file again changes nothing."""
    monkeypatch.setenv("LVYUE_EVIDENCE_DIR", str(tmp_path))
    _shipped(service, "ev-3")
    c, m1, path = service.client, service.auth("m1.main"), "/orders/ev-3/shipment/packing-video"
    first = c.post(path, files={"file": ("a.mp4", MP4, "video/mp4")}, headers=m1)
    assert first.status_code == 201, first.text
    other = MP4[:-1] + b"!"
    for who in ("m1.main", "m1.sub"):
        swap = c.post(path, files={"file": ("b.mp4", other, "video/mp4")},
                      headers=service.auth(who))  # fmt: skip
        assert swap.status_code == 409, swap.text
    again = c.post(path, files={"file": ("a.mp4", MP4, "video/mp4")}, headers=m1)
    assert again.status_code == 201 and again.json()["reference"] == first.json()["reference"]
    assert c.get(path, headers=m1).content == MP4
    shown = c.get("/orders/ev-3", headers=m1).json()["shipment"]["packing_video"]
    assert shown == first.json()["reference"]


def test_another_shops_stored_video_cannot_be_written_as_ones_own(
    service: ServiceWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``sha256:`` reference names a stored file: only its upload sets it. Written into a
    shipment by hand, m2 took m1's video as its own evidence and read it back (was 201/200)."""
    monkeypatch.setenv("LVYUE_EVIDENCE_DIR", str(tmp_path))
    _shipped(service, "ev-4")
    c, op, m2 = service.client, service.auth("operator"), service.auth("m2.main")
    video = {"file": ("a.mp4", MP4, "video/mp4")}
    up = c.post("/orders/ev-4/shipment/packing-video", files=video, headers=service.auth("m1.main"))
    reference = up.json()["reference"]
    for order_id in ("ev-5", "ev-6"):
        order = {"order_id": order_id, "merchant_id": "m2", "merchant_type": "domestic",
                 "category": "服饰内衣>女装", "ship_mode": "spot",
                 "pay_time": "2024-02-09 10:00:00"}  # fmt: skip
        assert c.post("/orders", json=order, headers=op).status_code == 201
    for reference_as in (reference, f" {reference.upper()}"):
        parcel = {"carrier": "zhongtong", "waybill": "ZTev5", "packing_video": reference_as}
        r = c.post("/orders/ev-5/shipment", json=parcel, headers=m2)
        assert r.status_code == 422 and "upload" in r.text, r.text
        r = c.post("/btas/orders/ev-6/ship", json={**parcel, "waybill": "ZTev6"}, headers=m2)
        assert r.status_code == 422 and "upload" in r.text, r.text
    shipped = {"carrier": "zhongtong", "waybill": "ZTev5"}  # shipped, then the reference sent
    assert c.post("/orders/ev-5/shipment", json=shipped, headers=m2).status_code == 201
    again = c.post("/orders/ev-5/shipment", json={**shipped, "packing_video": reference},
                   headers=m2)  # fmt: skip
    assert again.status_code == 422, again.text
    assert c.get("/orders/ev-5/shipment/packing-video", headers=m2).status_code == 404


def _m2_order(service: ServiceWorld, order_id: str) -> None:
    order = {"order_id": order_id, "merchant_id": "m2", "merchant_type": "domestic",
             "category": "服饰内衣>女装", "ship_mode": "spot",
             "pay_time": "2024-02-09 10:00:00"}  # fmt: skip
    c = service.client
    assert c.post("/orders", json=order, headers=service.auth("operator")).status_code == 201
    ship = {"carrier": "zhongtong", "waybill": f"ZT{order_id}"}
    assert c.post(f"/orders/{order_id}/shipment", json=ship,
                  headers=service.auth("m2.main")).status_code == 201  # fmt: skip


@pytest.mark.parametrize(
    "content_type", ["video/mp4; charset=x", 'video/mp4;codecs="avc1.42E01E, mp4a.40.2"']
)
def test_a_media_type_with_parameters_is_its_type(
    service: ServiceWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content_type: str
) -> None:
    """The part's Content-Type is parsed, not compared whole (was 415)."""
    monkeypatch.setenv("LVYUE_EVIDENCE_DIR", str(tmp_path))
    order_id = f"ev-p{len(content_type)}"
    _shipped(service, order_id)
    c, m1 = service.client, service.auth("m1.main")
    path = f"/orders/{order_id}/shipment/packing-video"
    up = c.post(path, files={"file": ("p.mp4", MP4, content_type)}, headers=m1)
    assert up.status_code == 201, up.text
    assert up.json()["media_type"] == "video/mp4"
    got = c.get(path, headers=m1)
    assert got.headers["content-type"] == "video/mp4" and got.content == MP4


def test_a_correction_keeps_the_earlier_file_and_says_why(
    service: ServiceWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LVYUE_EVIDENCE_DIR", str(tmp_path))
    _shipped(service, "ev-7")
    c, m1, path = service.client, service.auth("m1.main"), "/orders/ev-7/shipment/packing-video"
    first = c.post(path, files={"file": ("a.mp4", MP4, "video/mp4")}, headers=m1).json()
    fixed = MP4[:-1] + b"!"
    video = {"file": ("b.mp4", fixed, "video/mp4")}
    for reason in (None, "   ", "x" * 501):
        form = {} if reason is None else {"reason": reason}
        r = c.post(path + "/corrections", files=video, data=form, headers=m1)
        assert r.status_code == 422, r.text
    reason = {"reason": "the first file was another order's parcel"}
    assert c.post(path + "/corrections", files=video, data=reason,
                  headers=service.auth("operator")).status_code == 403  # fmt: skip
    assert c.post(path + "/corrections", files=video, data=reason,
                  headers=service.auth("m2.main")).status_code == 404  # fmt: skip
    corrected = c.post(path + "/corrections", files=video, data=reason, headers=m1)
    assert corrected.status_code == 201, corrected.text
    out = corrected.json()
    assert (out["version"], out["reason"]) == (2, reason["reason"])
    assert c.get(path, headers=m1).content == fixed
    assert c.get("/orders/ev-7", headers=m1).json()["shipment"]["packing_video"] == out["reference"]
    (packing,) = c.get("/orders/ev-7/evidence", headers=m1).json()["packings"]
    versions = packing["versions"]
    assert [v["version"] for v in versions] == [1, 2] and versions[0]["reason"] is None
    assert c.get(versions[0]["download"], headers=m1).content == MP4  # the earlier file stays
    # a plain upload still replaces nothing
    other = {"file": ("c.mp4", MP4 + b"?", "video/mp4")}
    assert c.post(path, files=other, headers=m1).status_code == 409
    entries = c.get("/audit", params={"entity_id": "ev-7"}, headers=m1).json()
    actions = {e["action"]: e for e in entries}
    assert actions["shipment.packing_video"]["detail"]["reference"] == first["reference"]
    correction = actions["shipment.packing_video.correct"]
    assert correction["clause"] == "BT-9" and correction["detail"]["replaces"] == first[
        "reference"] and correction["detail"]["reason"] == reason["reason"]  # fmt: skip


def test_another_shop_s_order_and_file_answer_as_missing_ones(
    service: ServiceWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """m2 names m1's file (its checksum) under m2's own order, or m1's order: the answers are
    those of a file and an order that do not exist."""
    monkeypatch.setenv("LVYUE_EVIDENCE_DIR", str(tmp_path))
    _shipped(service, "ev-8")
    _m2_order(service, "ev-9")
    c, m1, m2 = service.client, service.auth("m1.main"), service.auth("m2.main")
    up = c.post("/orders/ev-8/shipment/packing-video",
                files={"file": ("a.mp4", MP4, "video/mp4")}, headers=m1).json()  # fmt: skip
    sha = up["sha256"]
    assert c.get(f"/orders/ev-8/evidence/{sha}", headers=m1).content == MP4
    pairs = [
        (f"/orders/ev-9/evidence/{sha}", f"/orders/ev-9/evidence/{'0' * 64}"),
        (f"/orders/ev-8/evidence/{sha}", f"/orders/no-such/evidence/{sha}"),
        ("/orders/ev-8/evidence", "/orders/no-such/evidence"),
        ("/orders/ev-8/shipment/packing-video", "/orders/no-such/shipment/packing-video"),
    ]
    for theirs, missing in pairs:
        a, b = c.get(theirs, headers=m2), c.get(missing, headers=m2)
        assert (a.status_code, a.json()) == (b.status_code, b.json()) == (404, {
            "detail": "not found"}), theirs  # fmt: skip


def test_the_upload_route_s_body_limit_follows_the_evidence_limit(
    service: ServiceWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The route's own body limit is the evidence limit plus the form's framing: past it the
    request is refused before the handler reads it (413, as for the rest of the API)."""
    monkeypatch.setenv("LVYUE_EVIDENCE_DIR", str(tmp_path))
    monkeypatch.setenv("LVYUE_EVIDENCE_MAX_BYTES", "1000")
    _shipped(service, "ev-l1")
    big = MP4 + bytes(128 * 1024)
    r = service.client.post("/orders/ev-l1/shipment/packing-video", headers=service.auth(
        "m1.main"), files={"file": ("a.mp4", big, "video/mp4")})  # fmt: skip
    assert r.status_code == 413 and "request body larger than" in r.text
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]

"""BT-9 packing videos as files: the store (checksums, size and type limits at both sides,
tamper detection) and the API (linked to the shipment, tenancy, read back verified)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lvyue.api.testing import ServiceWorld
from lvyue.store.evidence import EvidenceRefused, LocalEvidenceStore, parse_reference

MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4


def test_stored_once_by_checksum_and_read_back(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    first = store.put([MP4[:100], MP4[100:]], "video/mp4")
    again = store.put([MP4], "video/mp4")
    assert first == again and first.size == len(MP4)
    import hashlib

    assert parse_reference(first.reference) == hashlib.sha256(MP4).hexdigest()
    assert store.read(first.reference) == (MP4, "video/mp4")
    assert len(list(tmp_path.rglob("*.mp4"))) == 1
    assert not list(tmp_path.glob(".upload.*"))  # no temporary file left behind


def test_size_limit_at_both_sides(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path, max_bytes=len(MP4))
    assert store.put([MP4], "video/mp4").size == len(MP4)
    with pytest.raises(EvidenceRefused) as refused:
        store.put([MP4, b"x"], "video/mp4")
    assert refused.value.status == 413
    assert not list(tmp_path.glob(".upload.*"))


@pytest.mark.parametrize(
    ("data", "media_type"),
    [(MP4, "application/pdf"), (b"%PDF-1.7 not a video", "video/mp4"), (b"", "video/mp4")],
)
def test_type_limits(tmp_path: Path, data: bytes, media_type: str) -> None:
    with pytest.raises(EvidenceRefused) as refused:
        LocalEvidenceStore(tmp_path).put([data], media_type)
    assert refused.value.status == 415


def test_a_changed_file_is_refused(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    stored = store.put([MP4], "video/mp4")
    (path,) = tmp_path.rglob("*.mp4")
    path.write_bytes(MP4[:-1] + b"!")
    with pytest.raises(EvidenceRefused) as refused:
        store.read(stored.reference)
    assert refused.value.status == 409
    with pytest.raises(EvidenceRefused):
        store.read("a free-text reference")


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

"""The two evidence stores (local files, an S3-compatible bucket) answer every case alike:
the same checksum, the same limits at both sides, the same refusals. The bucket is a real
S3-compatible server on 127.0.0.1 (moto's server mode, started by the test: no network)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lvyue.api.testing import ServiceWorld
from lvyue.store.evidence import (
    EvidenceRefused,
    EvidenceStore,
    LocalEvidenceStore,
    Opened,
    media_type_of,
)
from lvyue.store.evidence_s3 import S3EvidenceStore, S3Settings

MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
LIMIT = len(MP4)
Backend = Callable[[int], EvidenceStore]  # a fresh, empty store with that size limit


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_client(endpoint: str):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")  # fmt: skip


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        return lambda limit: LocalEvidenceStore(tmp_path / secrets.token_hex(4), limit)
    client = s3_client(request.getfixturevalue("s3_endpoint"))

    def bucket(limit: int) -> EvidenceStore:
        name = f"evidence-{secrets.token_hex(6)}"
        client.create_bucket(Bucket=name)
        return S3EvidenceStore(client, S3Settings(name), limit)

    return bucket


def whole(opened: Opened) -> bytes:
    return b"".join(opened.chunks)


def test_stored_once_by_checksum_and_read_back(backend: Backend) -> None:
    store = backend(LIMIT)
    first = store.put([MP4[:7], MP4[7:100], MP4[100:]], "video/mp4")
    again = store.put([MP4], "video/mp4")
    assert first == again and first.size == len(MP4)
    assert first.reference == "sha256:" + hashlib.sha256(MP4).hexdigest()
    opened = store.open(first.reference)
    assert (opened.size, opened.media_type, whole(opened)) == (len(MP4), "video/mp4", MP4)


def test_size_limit_at_both_sides(backend: Backend) -> None:
    store = backend(LIMIT)
    assert store.put([MP4], "video/mp4").size == LIMIT
    with pytest.raises(EvidenceRefused) as refused:
        store.put([MP4, b"x"], "video/mp4")
    assert refused.value.status == 413


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (MP4, "application/pdf"),
        (b"%PDF-1.7 not a video at all", "video/mp4"),
        (b"", "video/mp4"),
        (b"\x00\x00\x00\x18fty", "video/mp4"),  # short: checked at the end
        (PNG, "video/mp4"),
        (MP4, "video/mp4x"),
        (MP4, "video"),
    ],
)
def test_type_limits(backend: Backend, data: bytes, content_type: str) -> None:
    with pytest.raises(EvidenceRefused) as refused:
        backend(LIMIT).put([data], content_type)
    assert refused.value.status == 415


@pytest.mark.parametrize(
    "content_type",
    [
        "video/mp4; charset=x",
        'video/mp4;codecs="avc1.42E01E, mp4a.40.2"',
        "Video/MP4",
        " video/mp4 ",
    ],
)
def test_a_media_type_with_parameters_is_its_type(backend: Backend, content_type: str) -> None:
    stored = backend(LIMIT).put([MP4], content_type)
    assert stored.media_type == "video/mp4"


def test_media_type_of() -> None:
    assert media_type_of("image/PNG ; q=1") == "image/png"
    assert media_type_of("") == media_type_of("not a type") == media_type_of("a/b/c") == ""


def test_unknown_references_are_404(backend: Backend) -> None:
    store = backend(LIMIT)
    for reference in ("a free-text reference", "sha256:" + "0" * 64, "sha256:XYZ"):
        with pytest.raises(EvidenceRefused) as refused:
            store.open(reference)
        assert refused.value.status == 404


def _tamper(store: EvidenceStore, reference: str, data: bytes) -> None:
    hexdigest = reference.removeprefix("sha256:")
    if isinstance(store, LocalEvidenceStore):
        (path,) = store.root.rglob(f"{hexdigest}.*")
        path.write_bytes(data)
    else:
        assert isinstance(store, S3EvidenceStore)
        key = f"{store.prefix}{hexdigest[:2]}/{hexdigest}.png"
        store.client.put_object(Bucket=store.bucket, Key=key, Body=data)


def test_a_changed_file_is_refused_before_its_first_byte(backend: Backend) -> None:
    store = backend(LIMIT)
    stored = store.put([PNG], "image/png")
    _tamper(store, stored.reference, PNG[:-1] + b"!")
    with pytest.raises(EvidenceRefused) as refused:
        store.open(stored.reference)
    assert refused.value.status == 409


def test_a_file_changed_while_streamed_ends_short(backend: Backend) -> None:
    """Checked, then changed before it is read: the stream stops before its last chunk."""
    store = backend(LIMIT)
    stored = store.put([PNG], "image/png")
    opened = store.open(stored.reference)
    _tamper(store, stored.reference, PNG[:-1] + b"!")
    served = b""
    if isinstance(store, LocalEvidenceStore):  # the local store reads the file as it streams
        with pytest.raises(EvidenceRefused) as refused:
            for chunk in opened.chunks:
                served += chunk
        assert refused.value.status == 409 and served == b""
    else:  # the bucket's object was copied when opened: what was checked is what is served
        assert whole(opened) == PNG


def test_nothing_is_left_behind_by_a_refused_upload(backend: Backend) -> None:
    store = backend(LIMIT)
    for chunks, content_type in (([MP4, b"x"], "video/mp4"), ([b"%PDF-1.7" * 4], "video/mp4")):
        with pytest.raises(EvidenceRefused):
            store.put(chunks, content_type)
    if isinstance(store, LocalEvidenceStore):
        assert not [p for p in store.root.rglob("*") if p.is_file()]
    else:
        assert isinstance(store, S3EvidenceStore)
        listed = store.client.list_objects_v2(Bucket=store.bucket)
        assert listed.get("KeyCount", 0) == 0
        uploads = store.client.list_multipart_uploads(Bucket=store.bucket)
        assert not uploads.get("Uploads")


def test_a_large_file_goes_in_parts(backend: Backend) -> None:
    """20 MiB in 1 MiB chunks: the bucket receives three parts, read back whole."""
    data = MP4 + secrets.token_bytes(20 * 1024 * 1024)
    store = backend(len(data))
    chunks = [data[i : i + 1024 * 1024] for i in range(0, len(data), 1024 * 1024)]
    stored = store.put(chunks, "video/mp4")
    assert stored.size == len(data)
    assert hashlib.sha256(whole(store.open(stored.reference))).digest() == (
        hashlib.sha256(data).digest()
    )


def test_the_service_keeps_evidence_in_the_configured_bucket(
    service: ServiceWorld, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``LVYUE_EVIDENCE_STORE=s3`` and its settings: the API's upload lands in the bucket
    (under its checksum) and comes back through the API, verified."""
    bucket = f"evidence-{secrets.token_hex(6)}"
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket=bucket)
    for name, value in {"LVYUE_EVIDENCE_STORE": "s3", "LVYUE_EVIDENCE_S3_BUCKET": bucket,
                        "LVYUE_EVIDENCE_S3_ENDPOINT": s3_endpoint,
                        "LVYUE_EVIDENCE_S3_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test",
                        "AWS_SECRET_ACCESS_KEY": "test"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    order_id = f"s3-{secrets.token_hex(4)}"
    order = {"order_id": order_id, "merchant_id": "m1", "merchant_type": "domestic",
             "category": "服饰内衣>女装", "ship_mode": "spot",
             "pay_time": "2024-02-09 10:00:00"}  # fmt: skip
    c, m1 = service.client, service.auth("m1.main")
    assert c.post("/orders", json=order, headers=service.auth("operator")).status_code == 201
    ship = {"carrier": "zhongtong", "waybill": f"ZT{order_id}"}
    assert c.post(f"/orders/{order_id}/shipment", json=ship, headers=m1).status_code == 201
    path = f"/orders/{order_id}/shipment/packing-video"
    up = c.post(path, files={"file": ("a.mp4", MP4, "video/mp4; codecs=avc1")}, headers=m1)
    assert up.status_code == 201, up.text
    sha = up.json()["sha256"]
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == [f"evidence/{sha[:2]}/{sha}.mp4"]
    got = c.get(path, headers=m1)
    assert got.status_code == 200 and got.content == MP4
    client.put_object(Bucket=bucket, Key=keys[0], Body=MP4 + b"!")  # changed in the bucket
    assert c.get(path, headers=m1).status_code == 409

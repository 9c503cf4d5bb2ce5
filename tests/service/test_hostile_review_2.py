"""What a second hostile review (the BT-9 evidence uploads, the extended settlement, creators
and the live ingestion added on 2026-12-07) found open, through the API on SQLite and
PostgreSQL. Each test names the request that used to succeed (or fail wrongly) and what it
gets now."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lvyue.api.app import create_app
from lvyue.api.testing import ServiceWorld
from lvyue.model import format_instant

MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4
FLOWERS = "鲜花速递/花卉仿真/绿植园艺>生活鲜花"
_ids = itertools.count(1)


def _id(prefix: str, service: ServiceWorld) -> str:
    return f"{prefix}-{next(_ids)}-{service.backend}"


def _order(service: ServiceWorld, merchant: str = "m1", **fields: Any) -> str:
    """An order fed by the platform (orders:ingest), paid in the Valentine window."""
    order_id = _id("H2", service)
    body = {"order_id": order_id, "merchant_id": merchant, "merchant_type": "domestic",
            "category": FLOWERS, "ship_mode": "spot", "pay_time": "2024-02-10 10:00:00",
            **fields}  # fmt: skip
    r = service.client.post("/orders", json=body, headers=service.auth("operator"))
    assert r.status_code == 201, r.text
    return order_id


def _shipped(service: ServiceWorld, merchant: str = "m1") -> str:
    order_id = _order(service, merchant)
    parcel = {"carrier": "zhongtong", "waybill": f"ZT{order_id}"}
    r = service.client.post(f"/orders/{order_id}/shipment", json=parcel,
                            headers=service.auth(f"{merchant}.main"))  # fmt: skip
    assert r.status_code == 201, r.text
    return order_id


@pytest.fixture
def evidence_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("LVYUE_EVIDENCE_DIR", str(tmp_path))
    monkeypatch.setenv("LVYUE_EVIDENCE_MAX_BYTES", str(4 * len(MP4)))
    yield tmp_path


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


# --- a body streamed without Content-Length past the limit ---


def _multipart(video: bytes, copies: int) -> Iterator[bytes]:
    """A multipart upload sent chunked (no Content-Length): only the bytes tell its size."""
    yield (b'--bb\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n'
           b"Content-Type: video/mp4\r\n\r\n")  # fmt: skip
    for _ in range(copies):
        yield video
    yield b"\r\n--bb--\r\n"


def test_a_chunked_upload_past_the_limit_is_413_not_400(
    service: ServiceWorld, evidence_dir: Path
) -> None:
    """The body limit counts the streamed bytes, but FastAPI turned the limit's exception,
    raised while it parsed a form or a JSON body, into 400 "There was an error parsing the
    body": a chunked upload past the evidence limit (or a chunked JSON body past the
    service's) was answered 400. It is 413 as with Content-Length, and nothing is kept."""
    order_id = _shipped(service)
    form = {**service.auth("m1.main"), "Content-Type": "multipart/form-data; boundary=bb"}
    path = f"/orders/{order_id}/shipment/packing-video"
    r = service.client.post(path, content=_multipart(MP4, 200), headers=form)
    assert r.status_code == 413 and "request body larger than" in r.text, r.text
    assert not _files(evidence_dir)
    within = service.client.post(path, content=_multipart(MP4, 1), headers=form)
    assert within.status_code == 201, within.text  # the other side of the limit
    small = create_app(service.url, max_body_bytes=2_000)
    body = b'{"order_id": "' + b"x" * 3_000 + b'"}'
    with TestClient(small) as client:
        headers = {**service.auth("operator"), "Content-Type": "application/json"}
        r = client.post("/orders", content=iter([body]), headers=headers)
        assert r.status_code == 413, r.text
    small.state.engine.dispose()


# --- the reason of a correction ---


@pytest.mark.parametrize("reason", ["bad\x00reason", "bell\x07", "\x1b[31mred"])
def test_a_correction_reason_with_control_characters_is_422_on_both_databases(
    service: ServiceWorld, evidence_dir: Path, reason: str
) -> None:
    """A correction's reason is the merchant's word in the audit trail a dispute is judged
    on: SQLite kept a NUL or an escape sequence in it (201) while PostgreSQL refused the NUL
    (422). Both refuse text with control characters (422), as the facts corrections do."""
    order_id = _shipped(service)
    c, m1 = service.client, service.auth("m1.main")
    path = f"/orders/{order_id}/shipment/packing-video"
    assert c.post(path, files={"file": ("a.mp4", MP4, "video/mp4")}, headers=m1).status_code == 201
    video = {"file": ("b.mp4", MP4 + b"!", "video/mp4")}
    r = c.post(path + "/corrections", files=video, data={"reason": reason}, headers=m1)
    assert r.status_code == 422, r.text
    fine = c.post(path + "/corrections", files=video, data={"reason": "换成正确的包裹\t视频"},
                  headers=m1)  # fmt: skip
    assert fine.status_code == 201, fine.text


# --- an extended settlement (VF-6's exception) and an order fed with the flag false ---


def _settlement(service: ServiceWorld, order_id: str, who: str) -> str:
    r = service.client.get(f"/workflows/orders/{order_id}/verdicts", headers=service.auth(who))
    assert r.status_code == 200, r.text
    found: str = next(v for v in r.json() if v["check"] == "settlement")["clauses"]
    return found


@pytest.fixture
def settlement_clock(service: ServiceWorld) -> Iterator[None]:
    app: Any = service.client.app
    app.state.clock = lambda: datetime(2024, 3, 19, 16, 0, tzinfo=UTC)  # 03-20 00:00 Beijing
    yield
    app.state.clock = None


def test_an_extended_settlement_reaches_an_order_fed_without_a_penalty(
    service: ServiceWorld, settlement_clock: None
) -> None:
    """The platform's feed (and the simulator, and 抖店 exports) say
    ``settlement_extended_penalty: false`` of an order with no penalty yet. The service took
    that ``false`` for a recorded penalty that stands, so an ``extend_settlement`` measure
    recorded against the shop never reached the order (VF-6, settled 30 d after receipt),
    while the batch (``indicators.measures.apply_penalties``) gives it VF-6a. Only a
    recorded penalty (true, or its date) stands now; ``false`` is reached like a blank."""
    received = "2024-02-19 00:00:01"  # VF-6 would settle 03-20 00:00:01, after the start
    said_false = _order(service, "m2", confirmed_receipt_time=received,
                        settlement_extended_penalty=False)  # fmt: skip
    blank = _order(service, "m2", confirmed_receipt_time=received)
    assert _settlement(service, said_false, "m2.main") == "VF-6"
    body = {"merchant_id": "m2", "kind": "extend_settlement", "reason": "VF-8 指标异常",
            "clause": "VF-8"}  # fmt: skip
    r = service.client.post("/measures", json=body, headers=service.auth("operator"))
    assert r.status_code == 201, r.text
    assert _settlement(service, blank, "m2.main") == "VF-6a"
    assert _settlement(service, said_false, "m2.main") == "VF-6a"


def _pulled_before_answer(app: Any, headers: list[tuple[bytes, bytes]]) -> tuple[int, int]:
    """POST /orders straight through ASGI with a body of 1,000 chunks of 1 kB: how many
    chunks the app pulled before it answered, and its status."""
    import anyio

    pulled, status = 0, 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 1000, "more_body": pulled < 1000}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/orders", "raw_path": b"/orders",
             "root_path": "", "query_string": b"", "client": ("127.0.0.1", 1),
             "server": ("testserver", 80), "headers": headers}  # fmt: skip
    anyio.run(app, scope, receive, send)
    return pulled, status


def test_a_json_body_is_counted_as_it_arrives_not_after_it_is_buffered(
    service: ServiceWorld,
) -> None:
    """The lone-surrogate check (hardening.RefuseLoneSurrogates) sat outside the body limit
    and read a JSON body whole into memory before the limit counted a byte: a client (no
    token needed) could make the service buffer any size, chunked or with a lying
    Content-Length. The limit is outside now: the stream stops past it (413), and a
    declared length past it is refused before a byte is read."""
    small = create_app(service.url, max_body_bytes=2_000)
    json_type = [(b"content-type", b"application/json")]
    try:
        pulled, status = _pulled_before_answer(small, json_type)
        assert (status, pulled) == (413, 3), (status, pulled)  # was (413, 1000)
        declared = [*json_type, (b"content-length", b"1000000")]
        pulled, status = _pulled_before_answer(small, declared)
        assert (status, pulled) == (413, 0), (status, pulled)  # was (413, 1000)
    finally:
        small.state.engine.dispose()


# --- the platform's feed of reviews and complaints ---


@pytest.mark.parametrize("path", ["/reviews", "/complaints"])
def test_a_feed_time_without_an_offset_is_beijing_time_not_a_500(
    service: ServiceWorld, path: str
) -> None:
    """``created_at`` was a plain ``datetime``: a time sent without an offset (as the feed's
    files write them) was compared with the aware pay time and answered 500. It reads as
    Beijing time, as in every facts row; before the payment it is still 422."""
    order_id = _order(service)
    body: dict[str, Any] = {"order_id": order_id, "created_at": "2024-02-10T10:00:00"}
    body |= {"rating": 1} if path == "/reviews" else {"reason": "logistics"}
    r = service.client.post(path, json=body, headers=service.auth("operator"))
    assert r.status_code == 201, r.text
    assert r.json()["created_at"] == "2024-02-10T10:00:00+08:00"
    early = {**body, "created_at": "2024-02-10T09:59:59"}  # paid at 10:00:00
    r = service.client.post(path, json=early, headers=service.auth("operator"))
    assert r.status_code == 422, r.text


# --- scans and shipments naming a carrier code longer than the stores keep ---


def test_a_carrier_code_longer_than_the_store_keeps_is_a_row_error(
    service: ServiceWorld,
) -> None:
    """A carrier code of 33-64 characters passed validation (an ``Ident``) but the stores
    keep 32: PostgreSQL refused the whole batch with 422 "a value does not fit the database"
    naming no row (its good rows lost with it), SQLite stored it (201). It is a row error
    now, on both: the batch keeps its good rows and names the bad one."""
    c, carrier = service.client, service.auth("carrier")
    order_id = _shipped(service)
    good = {"carrier": "zhongtong", "waybill": f"ZT{order_id}", "kind": "pickup",
            "time": format_instant(datetime.now(UTC))}  # fmt: skip
    long_code = {**good, "carrier": "c" * 33, "waybill": "W-LONG"}
    r = c.post("/ingest/tracking", json={"rows": [good, long_code]}, headers=carrier)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["created"], len(out["quarantined"])) == (1, 1), out
    assert out["errors"][0].startswith("row 2: carrier"), out["errors"]
    single = c.post("/tracking", json=long_code, headers=carrier)
    assert single.status_code == 422 and "carrier" in single.text, single.text
    at_the_edge = {**long_code, "carrier": "c" * 32}
    assert c.post("/tracking", json=at_the_edge, headers=carrier).status_code == 201
    other = _order(service)
    parcel = {"carrier": "c" * 33, "waybill": f"W{other}"}
    r = c.post(f"/orders/{other}/shipment", json=parcel, headers=service.auth("m1.main"))
    assert r.status_code == 422 and "carrier" in r.text, r.text


# --- an order's promotion (VF-9) and the product a re-send fills in ---


def test_a_re_send_does_not_fill_in_a_product_the_promotion_is_not_of(
    service: ServiceWorld,
) -> None:
    """An order naming a recorded promotion must be of its shop and product (refused when
    created). Created without a product and re-sent with another one, the fill was taken
    (200 updated): the order then counted against a promotion of a product it is not."""
    c, op = service.client, service.auth("operator")
    creator = f"C{next(_ids)}{service.backend}"
    assert c.post("/creators", json={"creator_id": creator, "name": "达人"},
                  headers=op).status_code == 201  # fmt: skip
    share = {"product_id": "P1", "merchant_id": "m1"}
    assert c.post(f"/creators/{creator}/shares", json=share, headers=op).status_code == 201
    promotion = f"PR-{creator}"
    posted = {"promotion_id": promotion, "product_id": "P1", "text": "当日达",
              "creator_id": creator}  # fmt: skip
    assert c.post("/creators/promotions", json=posted, headers=op).status_code == 201
    order_id = _order(service, promotion_id=promotion)  # no product yet
    base = {"order_id": order_id, "merchant_id": "m1", "merchant_type": "domestic",
            "category": FLOWERS, "ship_mode": "spot", "pay_time": "2024-02-10 10:00:00",
            "promotion_id": promotion}  # fmt: skip
    other = c.post("/orders", json={**base, "product_id": "P9"}, headers=op)
    assert other.status_code == 422 and "promotion_id" in other.text, other.text
    batch = c.post("/ingest/orders", json={"rows": [{**base, "product_id": "P9"}]}, headers=op)
    assert batch.json()["errors"][0].startswith("row 1: promotion_id"), batch.text
    own = c.post("/orders", json={**base, "product_id": "P1"}, headers=op)
    assert own.status_code == 201 and own.json()["outcome"] == "updated", own.text


# --- the evidence uploads' larger body limit, before authentication ---


def test_the_larger_upload_limit_is_for_a_valid_token_only(
    service: ServiceWorld, evidence_dir: Path
) -> None:
    """FastAPI reads a form before it authenticates the caller: anyone, without a token or
    with a made-up one, could make the service spool an evidence-sized body (200 MiB by
    default, 12 times the API's 16 MiB) to disk per request before answering 401. The
    upload routes' larger limit now needs a valid bearer token; without one the service's
    own limit applies (413), and a merchant's upload within the larger one still succeeds."""
    order_id = _shipped(service)
    small = create_app(service.url, max_body_bytes=2_000)
    video = {"file": ("a.mp4", MP4 + bytes(2_000), "video/mp4")}  # within 4 x len(MP4)
    path = f"/orders/{order_id}/shipment/packing-video"
    try:
        with TestClient(small) as client:
            for headers in ({}, {"Authorization": "Bearer made-up"}):
                r = client.post(path, files=video, headers=headers)
                assert r.status_code == 413, (headers, r.text)  # was 401 after reading it
            r = client.post(path, files=video, headers=service.auth("m1.main"))
            assert r.status_code == 201, r.text
    finally:
        small.state.engine.dispose()


# --- an inspection agency's account without its organisation ---


def test_an_agency_account_without_its_agency_sees_no_inspection(
    service: ServiceWorld, evidence_dir: Path
) -> None:
    """An agency account is scoped by its organisation; one made without it (the API took
    that, 201) counted as an operator wherever an inspection is loaded: it read any shop's
    inspection and its send-out video (200). Such an account is refused now (422), and one
    that exists answers as for a missing inspection (404, as its list is empty)."""
    from lvyue.store import make_engine, make_session_factory, session_scope
    from lvyue.store.accounts import create_account, issue_token
    from lvyue.store.permissions import Role

    c, op, m1 = service.client, service.auth("operator"), service.auth("m1.main")
    loose = {"account_id": f"agency-{next(_ids)}", "name": "机构", "role": "inspection_agency"}
    assert c.post("/accounts", json=loose, headers=op).status_code == 422
    engine = make_engine(service.url)
    with session_scope(make_session_factory(engine)) as session:
        create_account(session, account_id=loose["account_id"], name="机构",
                       role=Role.INSPECTION_AGENCY)  # fmt: skip
        token = issue_token(session, loose["account_id"])
    engine.dispose()
    agency = {"Authorization": f"Bearer {token}"}
    body = {"item_id": f"ITEM-{next(_ids)}", "category": "二手商品>二手3C数码>手机",
            "agency": "btas-agency-1"}  # fmt: skip
    made = c.post("/btas/inspections", json=body, headers=m1)
    assert made.status_code == 201, made.text
    iid = made.json()["inspection_id"]
    video = {"file": ("a.mp4", MP4, "video/mp4")}
    up = c.post(f"/btas/inspections/{iid}/packing-video", files=video, headers=m1)
    assert up.status_code == 201, up.text
    for path in (f"/btas/inspections/{iid}", f"/btas/inspections/{iid}/packing-video"):
        theirs, missing = (
            c.get(path, headers=agency),
            c.get(path.replace(iid, "nope"), headers=agency),
        )
        assert theirs.status_code == missing.status_code == 404, (path, theirs.text)
        assert c.get(path, headers=service.auth("agency")).status_code == 200  # its own agency
    assert c.get("/btas/inspections", headers=agency).json() == []

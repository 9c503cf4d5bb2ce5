"""Ingestion through the API: JSON and bulk CSV, natural keys, Idempotency-Key, quarantine,
size and content-type limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from lvyue.api import create_app
from lvyue.api.testing import ServiceWorld
from lvyue.model import format_instant
from lvyue.model.enums import AfterSaleReason
from lvyue.store import make_engine, make_session_factory, session_scope
from lvyue.store.tables import Order
from lvyue.workflows.actions.stored_facts import facts_for


def minutes_ago(minutes: int) -> str:
    """A ship time a merchant may claim: shortly before the shipment is recorded."""
    return format_instant(datetime.now(UTC) - timedelta(minutes=minutes))


def order(order_id: str, merchant: str = "m1", **more: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "merchant_id": merchant,
        "merchant_type": "domestic",
        "category": "服饰内衣>女装",
        "ship_mode": "spot",
        "pay_time": "2024-02-09 10:00:00",
        **more,
    }


def test_order_json_is_idempotent_by_natural_key(service: ServiceWorld) -> None:
    c, main = service.client, service.auth("operator")
    first = c.post("/orders", json=order("i-1"), headers=main)
    assert first.status_code == 201, first.text
    assert first.json() == {"id": "i-1", "outcome": "created"}
    assert c.post("/orders", json=order("i-1"), headers=main).json()["outcome"] == "unchanged"
    later = order("i-1", confirmed_receipt_time="2024-02-15 09:00:00")
    assert c.post("/orders", json=later, headers=main).json()["outcome"] == "updated"
    got = c.get("/orders/i-1", headers=main).json()
    # naive input is Beijing time; output carries the offset
    assert got["pay_time"] == "2024-02-09T10:00:00+08:00"
    assert got["confirmed_receipt_time"] == "2024-02-15T09:00:00+08:00"


def test_order_body_errors_name_the_field(service: ServiceWorld) -> None:
    bad = order("i-2", pay_time="yesterday", ship_mode="by-boat")
    r = service.client.post("/orders", json=bad, headers=service.auth("operator"))
    assert r.status_code == 422
    fields = {tuple(e["loc"]) for e in r.json()["detail"]}
    assert ("body", "pay_time") in fields
    assert ("body", "ship_mode") in fields


def test_the_platform_feed_keeps_an_order_with_its_shop(service: ServiceWorld) -> None:
    """An order id is the platform's: its feed cannot move an order to another shop."""
    c, op = service.client, service.auth("operator")
    assert c.post("/orders", json=order("i-3"), headers=op).status_code == 201
    moved = c.post("/orders", json=order("i-3", "m2"), headers=op)
    assert moved.status_code == 409
    assert c.get("/orders/i-3", headers=service.auth("m2.main")).status_code == 404


def test_idempotency_key_replays_or_conflicts(service: ServiceWorld) -> None:
    c = service.client
    headers = {**service.auth("operator"), "Idempotency-Key": "k-1"}
    first = c.post("/orders", json=order("i-5"), headers=headers)
    again = c.post("/orders", json=order("i-5"), headers=headers)
    assert again.status_code == first.status_code == 201
    assert again.json() == first.json() == {"id": "i-5", "outcome": "created"}
    assert again.headers["idempotent-replayed"] == "true"
    other = c.post("/orders", json=order("i-6"), headers=headers)
    assert other.status_code == 409
    assert c.get("/orders/i-6", headers=service.auth("m1.main")).status_code == 404


def test_shipping_once_per_order(service: ServiceWorld) -> None:
    c, sub = service.client, service.auth("m1.sub")
    c.post("/orders", json=order("i-7"), headers=service.auth("operator"))
    ship = {"carrier": "zhongtong", "waybill": "ZT100"}  # the server clock is the ship time
    assert c.post("/orders/i-7/shipment", json=ship, headers=sub).json()["outcome"] == "created"
    assert c.post("/orders/i-7/shipment", json=ship, headers=sub).json()["outcome"] == "unchanged"
    other = c.post("/orders/i-7/shipment", json={**ship, "waybill": "ZT101"}, headers=sub)
    assert other.status_code == 409
    assert (
        c.post("/orders/i-7/shipment", json=ship, headers=service.auth("m2.main")).status_code
        == 404
    )
    clerk = c.post("/orders/i-7/shipment", json=ship, headers=service.auth("m1.clerk"))
    assert clerk.status_code == 403
    assert clerk.json()["detail"]["permission"] == "orders:ship"
    got = c.get("/orders/i-7", headers=sub).json()
    assert got["shipment"]["waybill"] == "ZT100"


def test_bulk_csv_quarantines_bad_rows_and_replays_unchanged(service: ServiceWorld) -> None:
    c = service.client
    csv_text = (
        "order_id,merchant_id,merchant_type,category,ship_mode,pay_time,ship_time,carrier,waybill,amount\n"
        f"c-1,m2,domestic,服饰内衣>女装,spot,2024-02-09 10:00:00,{minutes_ago(10)},"
        "yunda,YD1,99.5\n"
        "c-2,m2,domestic,服饰内衣>女装,spot,not a time,,,,\n"
        "c-3,m2,domestic,服饰内衣>女装,presale,2024-02-09 11:00:00,,,,\n"
    )
    headers = {**service.auth("operator"), "Content-Type": "text/csv"}
    first = c.post("/ingest/orders/csv", content=csv_text.encode(), headers=headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["created"], body["unchanged"], len(body["quarantined"])) == (2, 0, 1)
    again = c.post("/ingest/orders/csv", content=csv_text.encode(), headers=headers).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert again["quarantined"] == body["quarantined"]  # the same bad row is kept once
    assert body["errors"] == [body["errors"][0]]
    assert body["errors"][0].startswith("row 2: pay_time:")  # the second data row
    row = c.get(f"/quarantine/{body['quarantined'][0]}", headers=service.auth("operator")).json()
    assert row["error"].startswith("row 2: pay_time:")
    assert row["payload"]["order_id"] == "c-2"
    detail = c.get("/orders/c-1", headers=service.auth("m2.main")).json()
    assert detail["extra"] == {"amount": "99.5"}
    assert detail["shipment"]["carrier"] == "yunda"


def test_operator_fixes_and_replays_a_quarantined_row(service: ServiceWorld) -> None:
    c, op = service.client, service.auth("operator")
    rows = [order("q-1", "m1"), order("q-2", "m1", pay_time="32/13/2024")]
    result = c.post("/ingest/orders", json={"rows": rows}, headers=service.auth("operator")).json()
    assert result["created"] == 1
    (qid,) = result["quarantined"]
    # the platform feed's refused rows are the operator's to read, fix and replay
    own = c.get("/quarantine", headers=service.auth("m1.main")).json()
    assert qid not in [r["quarantine_id"] for r in own]
    assert c.get(f"/quarantine/{qid}", headers=service.auth("m1.main")).status_code == 404
    assert c.get("/quarantine", headers=service.auth("m1.clerk")).status_code == 403
    assert c.post(f"/quarantine/{qid}/replay", headers=service.auth("m1.main")).status_code == 403
    listed = c.get("/quarantine", params={"source": "orders"}, headers=op).json()
    assert qid in [r["quarantine_id"] for r in listed]
    still_bad = c.post(f"/quarantine/{qid}/replay", headers=op).json()
    assert still_bad["replayed"] is False and "pay_time" in still_bad["error"]
    fixed = c.put(f"/quarantine/{qid}", json={"payload": order("q-2", "m1")}, headers=op)
    assert fixed.status_code == 200
    replayed = c.post(f"/quarantine/{qid}/replay", headers=op).json()
    assert replayed == {"quarantine_id": qid, "replayed": True, "outcome": "created", "error": None}
    assert c.get("/orders/q-2", headers=service.auth("m1.main")).status_code == 200
    assert c.post(f"/quarantine/{qid}/replay", headers=op).status_code == 409


def test_batch_is_all_or_nothing_on_unexpected_failure(service: ServiceWorld) -> None:
    """A JSON batch whose Idempotency-Key was used for another body changes nothing at all."""
    c = service.client
    headers = {**service.auth("operator"), "Idempotency-Key": "batch-1"}
    c.post("/ingest/orders", json={"rows": [order("b-1")]}, headers=headers)
    clash = c.post("/ingest/orders", json={"rows": [order("b-2"), order("b-3")]}, headers=headers)
    assert clash.status_code == 409
    for order_id in ("b-2", "b-3"):
        assert c.get(f"/orders/{order_id}", headers=service.auth("m1.main")).status_code == 404


def test_wrong_content_type_is_415(service: ServiceWorld) -> None:
    c = service.client
    r = c.post(
        "/orders",
        content=b"order_id=1",
        headers={**service.auth("operator"), "Content-Type": "text/plain"},
    )
    assert r.status_code == 415
    r = c.post("/ingest/orders/csv", json={"rows": []}, headers=service.auth("operator"))
    assert r.status_code == 415


def test_oversized_upload_is_413_and_writes_nothing(service: ServiceWorld) -> None:
    from fastapi.testclient import TestClient

    small = create_app(service.url, max_body_bytes=2_000)
    line = "o-{i},m1,domestic,服饰内衣>女装,spot,2024-02-09 10:00:00\n"
    text = "order_id,merchant_id,merchant_type,category,ship_mode,pay_time\n" + "".join(
        line.format(i=i) for i in range(100)
    )
    with TestClient(small) as client:
        headers = {**service.auth("operator"), "Content-Type": "text/csv"}
        r = client.post("/ingest/orders/csv", content=text.encode(), headers=headers)
        assert r.status_code == 413

        def chunks():  # no Content-Length: the streamed size is what counts
            yield text.encode()

        r = client.post("/ingest/orders/csv", content=chunks(), headers=headers)
        assert r.status_code == 413
        assert client.get("/orders/o-1", headers=service.auth("m1.main")).status_code == 404
    small.state.engine.dispose()


def test_after_sales_and_tracking_json(service: ServiceWorld) -> None:
    c = service.client
    c.post("/orders", json=order("t-1"), headers=service.auth("operator"))
    ship = {"carrier": "zhongtong", "waybill": "ZT900"}
    c.post("/orders/t-1/shipment", json=ship, headers=service.auth("m1.main"))
    scan = {
        "carrier": "zhongtong",
        "waybill": "ZT900",
        "time": minutes_ago(0),  # after the shipment (a scan before it is held for review)
        "kind": "pickup",
    }
    carrier = service.auth("carrier")
    assert c.post("/tracking", json=scan, headers=carrier).json()["outcome"] == "created"
    assert c.post("/tracking", json=scan, headers=carrier).json()["outcome"] == "unchanged"
    assert c.post("/tracking", json=scan, headers=service.auth("m1.main")).status_code == 403
    aftersale = {
        "aftersale_id": "as-1",
        "order_id": "t-1",
        "type": "refund_only",
        "created_at": "2024-02-11 10:00:00",
    }
    assert (
        c.post("/after-sales", json=aftersale, headers=service.auth("m1.main")).status_code == 403
    )
    assert (
        c.post("/after-sales", json=aftersale, headers=service.auth("operator")).status_code == 201
    )
    detail = c.get("/orders/t-1", headers=service.auth("m1.main")).json()
    assert [e["kind"] for e in detail["tracking"]] == ["pickup"]
    assert detail["after_sales"][0]["aftersale_id"] == "as-1"
    assert detail["after_sales"][0]["reason"] is None


def test_after_sales_reason_is_kept(service: ServiceWorld) -> None:
    """VF-8's reason, accepted by the API, is stored and read back as the engine's facts."""
    c, main = service.client, service.auth("operator")  # the platform's feed
    c.post("/orders", json=order("rs-1"), headers=main)
    request = {"aftersale_id": "as-r1", "order_id": "rs-1", "type": "return_refund",
               "created_at": "2024-02-11 10:00:00", "reason": "defect"}  # fmt: skip
    assert c.post("/after-sales", json=request, headers=main).status_code == 201
    assert c.post("/after-sales", json=request, headers=main).json()["outcome"] == "unchanged"
    got = c.get("/orders/rs-1", headers=main).json()["after_sales"][0]
    assert got["reason"] == "defect"
    # recorded with the request: a re-send does not change it
    changed = {**request, "reason": "no_longer_wanted"}
    assert c.post("/after-sales", json=changed, headers=main).status_code == 409
    bad = {**request, "aftersale_id": "as-r2", "reason": "bored"}
    assert c.post("/after-sales", json=bad, headers=main).status_code == 422
    engine = make_engine(service.url)
    with session_scope(make_session_factory(engine)) as session:
        (facts,) = facts_for(session, [session.get(Order, "rs-1")])
    engine.dispose()
    assert [(a.aftersale_id, a.reason) for a in facts.after_sales] == [
        ("as-r1", AfterSaleReason.DEFECT)
    ]


def test_batch_with_repeated_and_foreign_rows(service: ServiceWorld) -> None:
    """The bulk path and the row-by-row path agree: a key repeated inside one batch is one
    order (the later row updates it); the platform's feed writes every shop's orders, a
    merchant's batch is refused whole (403: the platform issues orders)."""
    c = service.client
    rows = [
        order("r-1"),
        order("r-1", confirmed_receipt_time="2024-02-15 09:00:00"),
        order("r-2", "m2"),
        order("r-3", ship_time=minutes_ago(10), carrier="yunda", waybill="YDR3"),
    ]
    refused = c.post("/ingest/orders", json={"rows": rows}, headers=service.auth("m1.main"))
    assert refused.status_code == 403
    result = c.post("/ingest/orders", json={"rows": rows}, headers=service.auth("operator")).json()
    assert (result["created"], result["updated"], result["unchanged"]) == (3, 1, 0)
    assert result["quarantined"] == []
    got = c.get("/orders/r-1", headers=service.auth("m1.main")).json()
    assert got["confirmed_receipt_time"] == "2024-02-15T09:00:00+08:00"
    picked = minutes_ago(0)  # after the shipment (a scan before it is held for review)
    scans = [
        {"carrier": "yunda", "waybill": "YDR3", "time": picked, "kind": "pickup"},
        {"carrier": "yunda", "waybill": "YDR3", "time": picked, "kind": "pickup"},
        {"carrier": "yunda", "waybill": "NOPE", "time": "2024-02-10 20:00:00", "kind": "pickup"},
    ]
    as_m1 = c.post("/ingest/tracking", json={"rows": scans}, headers=service.auth("m1.main"))
    assert as_m1.status_code == 403  # tracking:push is the carrier's
    pushed = c.post("/ingest/tracking", json={"rows": scans}, headers=service.auth("carrier"))
    assert (pushed.json()["created"], pushed.json()["unchanged"]) == (2, 1)
    detail = c.get("/orders/r-3", headers=service.auth("m1.main")).json()
    assert [e["kind"] for e in detail["tracking"]] == ["pickup"]

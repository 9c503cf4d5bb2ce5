"""One way to ship (issue 11 item 3) and facts a merchant cannot rewrite (issue 12 items 1-2),
through the API on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from lvyue.api.testing import ServiceWorld
from lvyue.model import format_instant

if TYPE_CHECKING:  # fixtures' types (conftest is not importable under importlib mode)
    from conftest import Clock, OrderFactory

PHONE = "二手商品>二手3C数码>手机"
DRESS = "服饰内衣>女装>连衣裙"
_ids = itertools.count(1)


def _order(service: ServiceWorld, clock: Clock, **fields: Any) -> dict[str, Any]:
    return {
        "order_id": f"SI-{next(_ids)}-{service.backend}",
        "merchant_id": "m1",
        "merchant_type": "domestic",
        "category": DRESS,
        "ship_mode": "spot",
        "pay_time": format_instant(clock.now - timedelta(hours=1)),
        **fields,
    }


def _verdict(service: ServiceWorld, order_id: str, check: str = "ship_deadline") -> str:
    r = service.client.get(
        f"/workflows/orders/{order_id}/verdicts", headers=service.auth("m1.main")
    )
    assert r.status_code == 200, r.text
    (found,) = [v["status"] for v in r.json() if v["check"] == check]
    return str(found)


def _audit(service: ServiceWorld, order_id: str) -> list[str]:
    r = service.client.get(
        "/workflows/audit",
        params={"entity": "order", "entity_id": order_id},
        headers=service.auth("operator"),
    )
    assert r.status_code == 200, r.text
    return [e["action"] for e in r.json()]


def _csv(rows: list[dict[str, Any]]) -> bytes:
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(str(r.get(k, "")) for k in header) for r in rows]
    return ("\n".join(lines) + "\n").encode()


# --- issue 11 item 3: every entry point ships through the one use case ---


def test_no_merchant_account_feeds_orders(service: ServiceWorld, clock: Clock) -> None:
    """Orders and after-sales records enter through the platform's feed, which issues their
    ids (docs/decisions/service-platform-issues-order-ids.md): a merchant used to post them,
    ship fields, delayed flag and all; now no merchant account holds orders:ingest, a position
    cannot grant it, and every ingestion route answers 403 naming it, writing nothing."""
    c, main = service.client, service.auth("m1.main")
    pos = c.put(
        "/positions", json={"name": "录单员", "permissions": ["orders:ingest"]}, headers=main
    )
    assert pos.status_code == 422 and "orders:ingest" in pos.text, pos.text
    parcel = {"ship_time": format_instant(clock.now), "carrier": "zhongtong"}
    phone = _order(service, clock, category=PHONE, waybill=f"ZT-P-{next(_ids)}", **parcel)
    after_sale = {"aftersale_id": f"AS-{phone['order_id']}", "order_id": phone["order_id"],
                  "type": "refund_only", "created_at": format_instant(clock.now)}  # fmt: skip
    for who in ("m1.main", "m1.sub"):
        auth = service.auth(who)
        sent = [
            c.post("/orders", json=phone, headers=auth),
            c.post("/orders", json=_order(service, clock, delayed_shipping=True), headers=auth),
            c.post("/after-sales", json=after_sale, headers=auth),
            c.post("/ingest/orders", json={"rows": [phone]}, headers=auth),
            c.post("/ingest/after_sales", json={"rows": [after_sale]}, headers=auth),
            c.post(
                "/ingest/orders/csv",
                content=_csv([phone]),
                headers={**auth, "Content-Type": "text/csv"},
            ),
        ]
        for r in sent:
            assert r.status_code == 403, r.text
            assert r.json()["detail"]["permission"] == "orders:ingest"
    assert c.get(f"/orders/{phone['order_id']}", headers=main).status_code == 404


def test_a_merchants_shipment_runs_the_inspection_check_and_is_audited(
    service: ServiceWorld, clock: Clock
) -> None:
    """A phone still needs its inspection code (BT-1/BT-8) when the merchant ships it; a dress
    ships and the shipment is audited. (A merchant used to ship by posting the order with ship
    fields; now orders come from the platform's feed, whose ship fields are its own record.)"""
    c, main, feed = service.client, service.auth("m1.main"), service.auth("operator")
    phone = _order(service, clock, category=PHONE)
    assert c.post("/orders", json=phone, headers=feed).status_code == 201
    parcel = {"carrier": "zhongtong", "waybill": f"ZT-P-{next(_ids)}"}
    r = c.post(f"/orders/{phone['order_id']}/shipment", json=parcel, headers=main)
    assert r.status_code == 422 and "BT-1" in r.text, r.text
    dress = _order(service, clock)
    assert c.post("/orders", json=dress, headers=feed).status_code == 201
    parcel = {"carrier": "zhongtong", "waybill": f"ZT-D-{next(_ids)}"}
    r = c.post(f"/orders/{dress['order_id']}/shipment", json=parcel, headers=main)
    assert r.json()["outcome"] == "created", r.text
    assert sorted(_audit(service, dress["order_id"])) == ["order.create", "order.ship"]
    shipment = c.get(f"/orders/{dress['order_id']}", headers=main).json()["shipment"]
    assert shipment["ship_time_source"] == "server"


def test_the_platforms_bulk_import_keeps_the_ship_rules(
    service: ServiceWorld, clock: Clock
) -> None:
    """An operator's batch is the platform's record (its ship time kept, flagged platform),
    checked as one shipment is: a waybill taken (stored or earlier in the batch) or a ship
    time before payment is quarantined; each shipment is audited."""
    c, op = service.client, service.auth("operator")
    taken = f"ZT-PL-{next(_ids)}-{service.backend}"
    first = _order(service, clock, ship_time=format_instant(clock.now - timedelta(minutes=30)))
    shipped = {**first, "carrier": "zhongtong", "waybill": taken}
    paid = clock.now - timedelta(days=3)
    rows = [
        shipped,
        {**_order(service, clock), "carrier": "zhongtong", "waybill": taken,
         "ship_time": format_instant(clock.now)},
        {**_order(service, clock, pay_time=format_instant(paid)), "carrier": "zhongtong",
         "waybill": f"{taken}-b", "ship_time": format_instant(paid - timedelta(seconds=1))},
        {**_order(service, clock, pay_time=format_instant(paid)), "carrier": "zhongtong",
         "waybill": f"{taken}-c", "ship_time": format_instant(paid)},
    ]  # fmt: skip
    result = c.post("/ingest/orders", json={"rows": rows}, headers=op).json()
    assert (result["created"], len(result["quarantined"])) == (2, 2), result
    assert "waybill" in result["errors"][0] and "pay_time" in result["errors"][1]
    got = c.get(f"/orders/{rows[3]['order_id']}", headers=op).json()["shipment"]
    assert (got["ship_time"], got["ship_time_source"]) == (format_instant(paid), "platform")
    assert _audit(service, rows[3]["order_id"]) == ["order.ship"]
    again = c.post(
        "/ingest/orders",
        json={"rows": [{**rows[1], "order_id": "x" + rows[1]["order_id"]}]},
        headers=op,
    )
    assert "waybill" in again.json()["errors"][0]


# --- issue 12 item 1: a merchant cannot erase its own violations ---


def test_a_back_dated_ship_time_is_refused_and_the_violation_stays(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    """Used to answer 201 and flip ship_deadline from violated to ok."""
    c, main = service.client, service.auth("m1.main")
    paid = clock.now - timedelta(hours=72)
    order = make_order(pay_time=format_instant(paid))
    waybill = f"ZT-BD-{next(_ids)}-{service.backend}"
    back_dated = {"carrier": "zhongtong", "waybill": waybill, "ship_time": format_instant(paid)}
    r = c.post(f"/orders/{order}/shipment", json=back_dated, headers=main)
    assert r.status_code == 422 and "ship_time" in r.json()["detail"], r.text
    # the bound, both sides: 61 minutes before the server clock is refused, 59 accepted
    early = {**back_dated, "ship_time": format_instant(clock.now - timedelta(minutes=61))}
    assert c.post(f"/orders/{order}/shipment", json=early, headers=main).status_code == 422
    ahead = {**back_dated, "ship_time": format_instant(clock.now + timedelta(minutes=6))}
    assert c.post(f"/orders/{order}/shipment", json=ahead, headers=main).status_code == 422
    claim = {**back_dated, "ship_time": format_instant(clock.now - timedelta(minutes=59))}
    assert c.post(f"/orders/{order}/shipment", json=claim, headers=main).status_code == 201
    shipment = c.get(f"/orders/{order}", headers=main).json()["shipment"]
    assert shipment["ship_time_source"] == "claimed"
    assert shipment["recorded_at"] == format_instant(clock.now)
    assert _verdict(service, order) == "violated"
    # shipping again with another time is refused, never answered "unchanged" (#12 review 6)
    again = c.post(f"/orders/{order}/shipment", json=back_dated, headers=main)
    assert again.status_code == 409 and "corrections" in again.json()["detail"], again.text
    assert _verdict(service, order) == "violated"


def test_reposting_an_order_with_a_later_pay_time_is_refused(
    service: ServiceWorld, clock: Clock
) -> None:
    """Used to answer 201 "updated" and flip the verdict; and left no audit row."""
    c, main = service.client, service.auth("m1.main")
    feed = service.auth("operator")  # the platform's order feed
    body = _order(service, clock, pay_time=format_instant(clock.now - timedelta(hours=72)))
    assert c.post("/orders", json=body, headers=feed).status_code == 201
    ship = {"carrier": "zhongtong", "waybill": f"ZT-RP-{body['order_id']}"}
    assert (
        c.post(f"/orders/{body['order_id']}/shipment", json=ship, headers=main).status_code == 201
    )
    assert _verdict(service, body["order_id"]) == "violated"
    later = {**body, "pay_time": format_instant(clock.now - timedelta(hours=2))}
    r = c.post("/orders", json=later, headers=feed)
    assert r.status_code == 409 and "pay_time" in r.json()["detail"], r.text
    batch = c.post("/ingest/orders", json={"rows": [later]}, headers=feed).json()
    assert len(batch["quarantined"]) == 1 and "pay_time" in batch["errors"][0]
    for changed in (
        {"category": "食品饮料>零食"},
        {"ship_mode": "presale"},
        {"festival_open": "t"},
    ):
        assert c.post("/orders", json={**body, **changed}, headers=feed).status_code == 409
    assert _verdict(service, body["order_id"]) == "violated"
    # what had not happened yet may be filled, once, and it is audited
    receipt = {**body, "confirmed_receipt_time": format_instant(clock.now)}
    assert c.post("/orders", json=receipt, headers=feed).json()["outcome"] == "updated"
    trail = sorted(_audit(service, body["order_id"]))
    assert trail == ["order.create", "order.ship", "order.update"]
    moved = {**body, "confirmed_receipt_time": format_instant(clock.now + timedelta(days=1))}
    assert c.post("/orders", json=moved, headers=feed).status_code == 409


def test_the_platform_corrects_a_fact_as_a_new_version_and_re_judges(
    service: ServiceWorld, clock: Clock
) -> None:
    """A correction is the operator's, with a reason: version 2, the old and new value, the
    verdict it changes re-judged, all audited; the merchant cannot make it."""
    c, main, op = service.client, service.auth("m1.main"), service.auth("operator")
    feed = op  # the platform's order feed
    body = _order(service, clock, pay_time=format_instant(clock.now - timedelta(hours=72)))
    order_id = body["order_id"]
    assert c.post("/orders", json=body, headers=feed).status_code == 201
    ship = {"carrier": "zhongtong", "waybill": f"ZT-CO-{order_id}"}
    assert c.post(f"/orders/{order_id}/shipment", json=ship, headers=main).status_code == 201
    assert _verdict(service, order_id) == "violated"
    paid = format_instant(clock.now - timedelta(hours=2))
    fix = {"pay_time": paid, "reason": "支付时间录入错误, 以支付系统流水为准"}
    assert c.post(f"/orders/{order_id}/corrections", json=fix, headers=main).status_code == 403
    no_reason = c.post(f"/orders/{order_id}/corrections", json={"pay_time": paid}, headers=op)
    assert no_reason.status_code == 422
    r = c.post(f"/orders/{order_id}/corrections", json=fix, headers=op)
    assert r.status_code == 201, r.text
    done = r.json()
    assert done["version"] == 2
    assert done["changes"] == {"pay_time": [body["pay_time"], paid]}
    (moved,) = [v for v in done["rejudged"] if v["check"] == "ship_deadline"]
    assert (moved["from"], moved["to"]) == ("violated", "ok")
    assert _verdict(service, order_id) == "ok"
    trail = _audit(service, order_id)
    assert trail.count("order.correct") == 1 and trail.count("verdict.rejudge") >= 1
    again = c.post(f"/orders/{order_id}/corrections", json=fix, headers=op)
    assert again.status_code == 422  # nothing left to correct
    # the corrected value is now the record: re-sending the old one is refused
    assert c.post("/orders", json=body, headers=feed).status_code == 409


# --- issue 12 item 2: a waybill belongs to one shipment ---


def test_a_waybill_belongs_to_one_shipment(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    """Used to answer 201 and show m1's scans (and credit m1's pickup) on m2's order."""
    c = service.client
    waybill = f"ZT-WB-{next(_ids)}-{service.backend}"
    owner = make_order("m1")
    parcel = {"carrier": "zhongtong", "waybill": waybill}
    assert (
        c.post(
            f"/orders/{owner}/shipment", json=parcel, headers=service.auth("m1.main")
        ).status_code
        == 201
    )
    clock.advance(hours=2)  # a scan is received when it happens (else held for review)
    scan = {
        "carrier": "zhongtong",
        "waybill": waybill,
        "time": format_instant(clock.now),
        "kind": "pickup",
        "location": "杭州市",
        "text": "【杭州市】快件已揽收, 收件人张三",
    }
    assert c.post("/tracking", json=scan, headers=service.auth("carrier")).status_code == 201
    thief = make_order("m2")
    r = c.post(f"/orders/{thief}/shipment", json=parcel, headers=service.auth("m2.main"))
    assert r.status_code == 409, r.text
    assert owner not in r.json()["detail"] and "m1" not in r.json()["detail"]  # never says whose
    seen = c.get(f"/orders/{thief}", headers=service.auth("m2.main")).json()
    assert seen["shipment"] is None and seen["tracking"] == []
    # the same merchant's second order and the ingestion path are refused alike
    second = make_order("m1")
    again = c.post(f"/orders/{second}/shipment", json=parcel, headers=service.auth("m1.main"))
    assert again.status_code == 409
    row = _order(service, clock, merchant_id="m2", ship_time=format_instant(clock.now), **parcel)
    batch = c.post("/ingest/orders", json={"rows": [row]}, headers=service.auth("operator")).json()
    assert len(batch["quarantined"]) == 1 and "waybill" in batch["errors"][0]
    own = c.get(f"/orders/{owner}", headers=service.auth("m1.main")).json()
    assert [e["kind"] for e in own["tracking"]] == ["pickup"]

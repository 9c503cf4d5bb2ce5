"""SF-1 "双方另有约定以双方约定为准" through the service (issue 10 item 13): an order recorded
with an agreed ship time is judged against it (SF-1), at both sides of the edge, on SQLite and
PostgreSQL; the agreement, the activity and its deadline are the order's record, which a
re-send cannot change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lvyue.api.testing import ServiceWorld

if TYPE_CHECKING:
    from conftest import Clock, OrderFactory

PAID = datetime(2023, 1, 20, 2, 0, tzinfo=UTC)  # 10:00 Beijing, in SF-1's window
AGREED = "2023-01-27 10:00:00"  # Beijing
AT_EDGE = datetime(2023, 1, 27, 2, 0, tzinfo=UTC)


def _ship_at(service: ServiceWorld, clock: Clock, order_id: str, when: datetime) -> None:
    clock.now = when
    r = service.client.post(
        f"/btas/orders/{order_id}/ship",
        json={"carrier": "zhongtong", "waybill": f"ZT-{order_id}"},
        headers=service.auth("m1.main"),
    )
    assert r.status_code == 201, r.text


def _ship_verdict(service: ServiceWorld, order_id: str) -> dict[str, Any]:
    r = service.client.get(
        f"/workflows/orders/{order_id}/verdicts", headers=service.auth("m1.main")
    )
    assert r.status_code == 200, r.text
    return next(v for v in r.json() if v["check"] == "ship_deadline")


def test_agreed_ship_time_is_the_deadline_at_both_sides_of_its_edge(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    clock.now = PAID.replace(hour=3)
    at = make_order(agreed_ship_time=AGREED)
    after = make_order(agreed_ship_time=AGREED)
    plain = make_order()  # no agreement: the festival rule (SF-4 / daily 48 h) stands
    _ship_at(service, clock, at, AT_EDGE)
    _ship_at(service, clock, plain, AT_EDGE)
    _ship_at(service, clock, after, AT_EDGE.replace(second=1))
    ok, late = _ship_verdict(service, at), _ship_verdict(service, after)
    assert (ok["clauses"], ok["status"], ok["deadline"]) == (
        "SF-1",
        "ok",
        "2023-01-27T10:00:00+08:00",
    )
    assert (late["clauses"], late["status"]) == ("SF-1", "violated")
    assert _ship_verdict(service, plain)["clauses"] != "SF-1"


def test_a_resend_cannot_change_or_add_an_agreement(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    clock.now = PAID.replace(hour=3)
    agreed = make_order(agreed_ship_time=AGREED, activity="年货节")
    plain = make_order()
    for order_id, change in (
        (agreed, {"agreed_ship_time": "2023-02-10 10:00:00"}),
        (agreed, {"activity": "另一个活动"}),
        (plain, {"agreed_ship_time": "2023-02-10 10:00:00"}),
        (plain, {"activity_ship_deadline": "2023-02-10 10:00:00"}),
    ):
        r = _resend(service, order_id, change)
        assert r.status_code == 409, (order_id, change, r.text)
    assert _resend(service, agreed, {"agreed_ship_time": AGREED}).status_code in (200, 201)
    assert _resend(service, agreed, {"agreed_ship_time": "not a time"}).status_code == 422


def _resend(service: ServiceWorld, order_id: str, change: dict[str, str]) -> Any:
    body = {
        "order_id": order_id,
        "merchant_id": "m1",
        "merchant_type": "domestic",
        "category": "服饰内衣>女装>连衣裙",
        "ship_mode": "spot",
        "pay_time": "2023-01-20 10:00:00",
        **change,
    }
    return service.client.post("/orders", json=body, headers=service.auth("operator"))


def test_csv_ingestion_carries_the_agreement_and_the_activity_deadline(
    service: ServiceWorld, clock: Clock
) -> None:
    clock.now = PAID.replace(hour=3)
    a, f = f"csv-agreed-{service.backend}", f"csv-activity-{service.backend}"
    csv_text = (
        "order_id,merchant_id,merchant_type,category,ship_mode,pay_time,agreed_ship_time,"
        "activity,activity_ship_deadline\n"
        f"{a},m1,domestic,服饰内衣>女装>连衣裙,spot,2023-01-20 10:00:00,{AGREED},,\n"
        f"{f},m1,domestic,服饰内衣>女装>连衣裙,spot,2023-01-20 10:00:00,,年货节,"
        "2023-02-10 23:59:59\n"
    )
    headers = {**service.auth("operator"), "Content-Type": "text/csv"}
    for created, unchanged in ((2, 0), (0, 2)):  # a replay finds the same record
        r = service.client.post("/ingest/orders/csv", content=csv_text.encode(), headers=headers)
        assert r.status_code == 200, r.text
        assert (r.json()["created"], r.json()["unchanged"]) == (created, unchanged), r.text
    _ship_at(service, clock, a, AT_EDGE.replace(second=1))
    _ship_at(service, clock, f, AT_EDGE.replace(second=1))
    assert (_ship_verdict(service, a)["clauses"], _ship_verdict(service, a)["status"]) == (
        "SF-1",
        "violated",
    )
    activity = _ship_verdict(service, f)
    assert (activity["clauses"], activity["status"], activity["deadline"]) == (
        "SF-2a",
        "ok",
        "2023-02-10T23:59:59+08:00",
    )

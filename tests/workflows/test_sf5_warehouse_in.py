"""SF-5 海外集货 through the service (issue 10 item 8): a cross-border presale order of the
overseas-consolidation kind meets its promise by the warehouse-in record a carrier pushes, not
by the tracking-number upload: ok at the promised second, violated one second after, though
the waybill was uploaded days before. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lvyue.api.testing import ServiceWorld

if TYPE_CHECKING:
    from conftest import Clock, OrderFactory

PRESALE = {
    "merchant_type": "cross_border",
    "ship_mode": "presale",
    "cross_border_mode": "overseas_consolidation",
    "category": "服饰内衣>女装>连衣裙",
    "pay_time": "2023-01-20 10:00:00",
    "promised_ship_time": "2023-01-25 10:00:00",
}


def _verdict(service: ServiceWorld, order_id: str) -> dict[str, Any]:
    r = service.client.get(
        f"/workflows/orders/{order_id}/verdicts", headers=service.auth("m1.main")
    )
    assert r.status_code == 200, r.text
    return next(v for v in r.json() if v["check"] == "ship_deadline")


def test_consolidation_met_by_the_pushed_warehouse_in_record(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    clock.now = datetime(2023, 1, 20, 3, 0, tzinfo=UTC)
    at, after = make_order(**PRESALE), make_order(**PRESALE)
    clock.now = datetime(2023, 1, 22, 2, 0, tzinfo=UTC)  # waybill uploaded 3 days early
    for oid in (at, after):
        r = service.client.post(
            f"/orders/{oid}/shipment",
            json={"carrier": "ems", "waybill": f"W-{oid}"},
            headers=service.auth("m1.main"),
        )
        assert r.status_code == 201, r.text
    clock.now = datetime(2023, 1, 25, 2, 0, 1, tzinfo=UTC)  # pushed as scanned (else held)
    for oid, scanned in ((at, "2023-01-25 10:00:00"), (after, "2023-01-25 10:00:01")):
        scan = {"carrier": "ems", "waybill": f"W-{oid}", "time": scanned, "kind": "warehouse_in"}
        r = service.client.post("/tracking", json=scan, headers=service.auth("carrier"))
        assert r.status_code == 201, r.text
    clock.now = datetime(2023, 2, 1, 0, 0, tzinfo=UTC)
    ok, late = _verdict(service, at), _verdict(service, after)
    assert (ok["status"], ok["clauses"]) == ("ok", "SF-5;SF-5c")
    assert (late["status"], late["clauses"]) == ("violated", "SF-5;SF-5c")

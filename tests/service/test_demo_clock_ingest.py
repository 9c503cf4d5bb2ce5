"""Ingestion honours the demo clock (issue 15): on `lvyue demo`'s clock a merchant's upload
(bulk CSV or one order) claims a ship time against business time "now" (2024), as
`POST /orders/{id}/shipment` does; without the clock the same claim is judged against the wall
clock and refused as too old."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lvyue.api.testing import ServiceWorld
from lvyue.model.clock import DEMO_CLOCK_ENV, demo_clock

ANCHOR = datetime(2024, 2, 10, 4, 0, tzinfo=UTC)  # 2024-02-10 12:00 Beijing
HEADER = (
    "order_id,merchant_id,merchant_type,category,ship_mode,pay_time,ship_time,carrier,waybill\n"
)


def _upload(service: ServiceWorld, rows: str) -> dict[str, object]:
    headers = {**service.auth("m1.main"), "Content-Type": "text/csv"}
    sent = service.client.post(
        "/ingest/orders/csv", content=(HEADER + rows).encode(), headers=headers
    )
    assert sent.status_code == 200, sent.text
    body: dict[str, object] = sent.json()
    return body


def _on_the_demo_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEMO_CLOCK_ENV, demo_clock(ANCHOR, datetime.now(UTC)))


def test_an_upload_claims_a_ship_time_near_the_demo_clock(
    service: ServiceWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    claim = (
        "dc-1,m1,domestic,服饰内衣>女装,spot,2024-02-10 09:00:00,2024-02-10 11:50:00,yunda,DC1\n"
    )
    refused = _upload(service, claim)  # the wall clock (2026): a claim two years old
    assert refused["created"] == 0 and "row 1: ship_time:" in str(refused["errors"])
    assert "is more than" in str(refused["errors"])
    _on_the_demo_clock(monkeypatch)
    kept = _upload(service, claim.replace("dc-1", "dc-2").replace("DC1", "DC2"))
    assert kept["errors"] == [] and kept["created"] == 1, kept
    shipment = service.client.get("/orders/dc-2", headers=service.auth("m1.main")).json()
    assert shipment["shipment"]["ship_time"] == "2024-02-10T11:50:00+08:00"


def test_one_order_with_its_shipment_honours_the_demo_clock(
    service: ServiceWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = {"order_id": "dc-3", "merchant_id": "m1", "merchant_type": "domestic",
           "category": "服饰内衣>女装", "ship_mode": "spot", "pay_time": "2024-02-10 09:00:00",
           "ship_time": "2024-02-10 11:50:00", "carrier": "yunda", "waybill": "DC3"}  # fmt: skip
    headers = service.auth("m1.main")
    assert service.client.post("/orders", json=row, headers=headers).status_code == 422
    _on_the_demo_clock(monkeypatch)
    kept = service.client.post("/orders", json=row, headers=headers)
    assert kept.status_code == 201, kept.text
    got = service.client.get("/orders/dc-3", headers=headers).json()
    assert got["shipment"]["ship_time"] == "2024-02-10T11:50:00+08:00"

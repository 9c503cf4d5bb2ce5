"""Shipping honours the demo clock (issue 15): on `lvyue demo`'s clock a merchant's shipment
claims a ship time against business time "now" (2024); without the clock the same claim is
judged against the wall clock and refused as too old. (Merchants ship through
`POST /orders/{id}/shipment` only: orders and their ship rows enter through the platform's
feed, docs/decisions/service-platform-issues-order-ids.md.)"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lvyue.api.testing import ServiceWorld
from lvyue.model.clock import DEMO_CLOCK_ENV, demo_clock

ANCHOR = datetime(2024, 2, 10, 4, 0, tzinfo=UTC)  # 2024-02-10 12:00 Beijing


def _on_the_demo_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEMO_CLOCK_ENV, demo_clock(ANCHOR, datetime.now(UTC)))


def test_a_shipment_claim_honours_the_demo_clock(
    service: ServiceWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = {"order_id": "dc-3", "merchant_id": "m1", "merchant_type": "domestic",
           "category": "服饰内衣>女装", "ship_mode": "spot",
           "pay_time": "2024-02-10 09:00:00"}  # fmt: skip
    feed = service.auth("operator")
    assert service.client.post("/orders", json=row, headers=feed).status_code == 201
    claim = {"carrier": "yunda", "waybill": "DC3", "ship_time": "2024-02-10 11:50:00"}
    headers = service.auth("m1.main")
    refused = service.client.post("/orders/dc-3/shipment", json=claim, headers=headers)
    assert refused.status_code == 422, refused.text  # the wall clock: a claim two years old
    _on_the_demo_clock(monkeypatch)
    kept = service.client.post("/orders/dc-3/shipment", json=claim, headers=headers)
    assert kept.status_code == 201, kept.text
    got = service.client.get("/orders/dc-3", headers=headers).json()
    assert got["shipment"]["ship_time"] == "2024-02-10T11:50:00+08:00"

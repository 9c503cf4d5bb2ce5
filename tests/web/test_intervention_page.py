"""VF-8a in the console: a merchant's order page shows the platform's intervention on its
after-sales request (the timeline) and what it means for the settlement (the verdict)."""

from __future__ import annotations

from webkit import login

from lvyue.api.testing import ServiceWorld
from lvyue.web.security import LoginThrottle


def test_the_order_page_shows_the_intervention(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    order = f"vf8a-page-{service.backend}"
    body = {"order_id": order, "merchant_id": "m1", "merchant_type": "domestic",
            "category": "鲜花速递/花卉仿真/绿植园艺>生活鲜花", "ship_mode": "spot",
            "pay_time": "2024-02-10 10:00:00", "confirmed_receipt_time": "2024-02-12 10:00:00",
            "consumer_id": "consumer"}  # fmt: skip
    assert service.client.post("/orders", json=body, headers=service.auth("operator")).is_success
    r = service.client.post("/workflows/after-sales", json={"order_id": order,
                            "type": "refund_only"}, headers=service.auth("consumer"))  # fmt: skip
    request = r.json()["aftersale_id"]
    r = service.client.post(f"/workflows/after-sales/{request}/intervention",
                            json={"intervention": "refund_only"},
                            headers=service.auth("operator"))  # fmt: skip
    assert r.status_code == 200, r.text
    page = login(service, "m1.main").get(f"/console/orders/{order}").text
    assert f"平台介入 {request}: refund_only" in page
    assert "the refund comes from the merchant&#39;s account" in page
    assert "VF-6;VF-8a" in page
    assert login(service, "m2.main").get(f"/console/orders/{order}").status_code == 404

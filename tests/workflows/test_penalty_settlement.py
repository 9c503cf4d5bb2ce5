"""VF-6 "(因违规产生延长账期处罚的订单除外)" through the service (issue 10 item 10): an order under
a 延长账期 penalty, recorded by the platform, settles at the penalty's date (VF-6a), never at
DR-5's 10 d; one paid a second outside VF-6's window keeps DR-5a. The penalty is the platform's
record: a merchant's upload that declares one is refused."""

from __future__ import annotations

from typing import Any

from lvyue.api.testing import ServiceWorld

FLOWERS = "鲜花速递/花卉仿真/绿植园艺>生活鲜花"


def _order(service: ServiceWorld, order_id: str, paid: str, **fields: Any) -> dict[str, Any]:
    return {
        "order_id": f"{order_id}-{service.backend}",
        "merchant_id": "m1",
        "merchant_type": "domestic",
        "category": FLOWERS,
        "ship_mode": "spot",
        "pay_time": paid,
        "confirmed_receipt_time": "2024-02-20 10:00:00",
        **fields,
    }


def _settlement(service: ServiceWorld, order_id: str) -> dict[str, Any]:
    r = service.client.get(
        f"/workflows/orders/{order_id}-{service.backend}/verdicts",
        headers=service.auth("m1.main"),
    )
    assert r.status_code == 200, r.text
    return next(v for v in r.json() if v["check"] == "settlement")


def test_a_penalised_order_settles_at_its_penalty_date_at_both_sides_of_the_window(
    service: ServiceWorld,
) -> None:
    penalty = {
        "settlement_extended_penalty": "true",
        "penalty_settlement_time": "2024-05-20 12:00:00",
    }
    for oid, paid in (("vf6-in", "2024-02-08 00:00:00"), ("vf6-out", "2024-02-07 23:59:59")):
        r = service.client.post(
            "/orders", json=_order(service, oid, paid, **penalty), headers=service.auth("operator")
        )
        assert r.status_code == 201, r.text
    inside, outside = _settlement(service, "vf6-in"), _settlement(service, "vf6-out")
    assert (inside["clauses"], inside["deadline"]) == ("VF-6a", "2024-05-20T12:00:00+08:00")
    assert (outside["clauses"], outside["deadline"]) == ("DR-5a", "2024-03-01T10:00:00+08:00")


def test_a_merchant_cannot_declare_its_own_settlement_penalty(service: ServiceWorld) -> None:
    """A merchant's order declaring a penalty used to be 201, then 422; now no merchant posts an
    order at all (403: the platform's feed issues orders and records its own penalties)."""
    for oid, fields in (
        ("own-flag", {"settlement_extended_penalty": "true"}),
        ("own-date", {"penalty_settlement_time": "2024-02-09 00:00:00"}),
    ):
        body = _order(service, oid, "2024-02-08 10:00:00", **fields)
        r = service.client.post("/orders", json=body, headers=service.auth("m1.main"))
        assert r.status_code == 403, r.text
        assert r.json()["detail"]["permission"] == "orders:ingest"

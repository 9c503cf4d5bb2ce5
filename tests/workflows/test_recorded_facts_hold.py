"""Holes a hostile review found in issue 12 item 1 ("a merchant cannot change the facts it is
judged on"), through the API on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from lvyue.api.testing import ServiceWorld
from lvyue.model import format_instant

if TYPE_CHECKING:  # fixtures' types (conftest is not importable under importlib mode)
    from conftest import Clock, OrderFactory

_ids = itertools.count(1)


def _confirm_verdict(service: ServiceWorld, order: str, aid: str) -> str:
    r = service.client.get(f"/workflows/orders/{order}/verdicts", headers=service.auth("m1.main"))
    assert r.status_code == 200, r.text
    (found,) = [
        v["status"]
        for v in r.json()
        if v["aftersale_id"] == aid and v["check"] == "aftersale_merchant_confirm"
    ]
    return str(found)


def _trail(service: ServiceWorld, aid: str) -> list[str]:
    r = service.client.get(
        "/workflows/audit",
        params={"entity": "after_sale", "entity_id": aid},
        headers=service.auth("operator"),
    )
    assert r.status_code == 200, r.text
    return [e["action"] for e in r.json()]


def test_re_posting_an_after_sale_never_moves_its_recorded_times(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    """Used to answer 201 "updated" and turn the violated merchant-confirm verdict ok (an
    earlier merchant_handled_at), or move the deadline (a later created_at), unaudited."""
    c, main = service.client, service.auth("operator")  # the platform's feed
    order = make_order(pay_time=format_instant(clock.now - timedelta(days=8)))
    aid = f"AS-HOLD-{next(_ids)}-{service.backend}"
    created = clock.now - timedelta(days=6)
    row: dict[str, Any] = {
        "aftersale_id": aid,
        "order_id": order,
        "type": "refund_only",
        "created_at": format_instant(created),
        "merchant_handled_at": format_instant(created + timedelta(days=5)),
        "merchant_decision": "agreed",
    }
    assert c.post("/after-sales", json=row, headers=main).status_code == 201
    assert _confirm_verdict(service, order, aid) == "violated"
    earlier = {**row, "merchant_handled_at": format_instant(created + timedelta(minutes=30))}
    r = c.post("/after-sales", json=earlier, headers=main)
    assert r.status_code == 409 and "merchant_handled_at" in r.json()["detail"], r.text
    later = {**row, "created_at": format_instant(created + timedelta(days=5))}
    r = c.post("/after-sales", json=later, headers=main)
    assert r.status_code == 409 and "created_at" in r.json()["detail"], r.text
    for changed in ({"merchant_decision": "rejected"}, {"type": "return_refund"}):
        assert c.post("/after-sales", json={**row, **changed}, headers=main).status_code == 409
    batch = c.post("/ingest/after_sales", json={"rows": [earlier]}, headers=main)
    assert batch.status_code == 200, batch.text
    assert (batch.json()["updated"], len(batch.json()["quarantined"])) == (0, 1)
    assert "merchant_handled_at" in batch.json()["errors"][0]
    assert _confirm_verdict(service, order, aid) == "violated"
    same = c.post("/after-sales", json=row, headers=main)
    assert same.status_code == 201 and same.json()["outcome"] == "unchanged"
    assert "aftersale.update" not in _trail(service, aid)


def test_a_re_posted_after_sale_fills_what_had_not_happened_yet_audited(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    c, main = service.client, service.auth("operator")  # the platform's feed
    order = make_order()
    aid = f"AS-FILL-{next(_ids)}-{service.backend}"
    row = {
        "aftersale_id": aid,
        "order_id": order,
        "type": "refund_only",
        "created_at": format_instant(clock.now - timedelta(hours=3)),
    }
    assert c.post("/after-sales", json=row, headers=main).status_code == 201
    handled = {**row, "merchant_handled_at": format_instant(clock.now - timedelta(hours=1))}
    handled["merchant_decision"] = "agreed"
    r = c.post("/after-sales", json=handled, headers=main)
    assert r.status_code == 201 and r.json()["outcome"] == "updated", r.text
    assert _trail(service, aid).count("aftersale.update") == 1
    moved = {**handled, "merchant_handled_at": format_instant(clock.now - timedelta(hours=2))}
    assert c.post("/after-sales", json=moved, headers=main).status_code == 409


def _order(service: ServiceWorld, clock: Clock, **fields: Any) -> dict[str, Any]:
    return {
        "order_id": f"HOLD-{next(_ids)}-{service.backend}",
        "merchant_id": "m1",
        "merchant_type": "domestic",
        "category": "服饰内衣>女装>连衣裙",
        "ship_mode": "spot",
        "pay_time": format_instant(clock.now - timedelta(hours=1)),
        **fields,
    }


def test_a_merchant_cannot_give_itself_the_delayed_shipping_extension(
    service: ServiceWorld, clock: Clock
) -> None:
    """POST /orders with delayed_shipping=true used to answer 201 and give the order SF-4's
    extended deadline though no window allowed the tool; then 422. Now no merchant posts an
    order at all (403: the platform's feed issues orders); only POST /delayed-shipping (its
    window check, its audit) sets the flag for a merchant. The platform's import keeps it."""
    c, main = service.client, service.auth("m1.main")
    delayed = _order(service, clock, delayed_shipping=True)
    assert c.post("/orders", json=delayed, headers=main).status_code == 403
    batch = c.post("/ingest/orders", json={"rows": [delayed]}, headers=main)
    assert batch.status_code == 403
    header = ",".join(delayed) + "\n"
    line = ",".join("true" if v is True else str(v) for v in delayed.values()) + "\n"
    headers = {**main, "Content-Type": "text/csv"}
    assert c.post("/ingest/orders/csv", content=header + line, headers=headers).status_code == 403
    assert c.get(f"/orders/{delayed['order_id']}", headers=main).status_code == 404
    r = c.post("/orders", json=delayed, headers=service.auth("operator"))
    assert r.status_code == 201, r.text
    assert c.get(f"/orders/{delayed['order_id']}", headers=main).json()["delayed_shipping"]

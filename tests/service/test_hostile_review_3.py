"""What a third hostile review found open after the second (docs/decisions/
hostile-review-3.md), through the API on SQLite and PostgreSQL: a promotion id borrowing
another shop's orders (VF-9) and a review naming a product its order is not of (VF-8). The
third finding, two interventions at once, is tested with the others of VF-8a
(tests/workflows/test_intervention.py)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from lvyue.api.testing import ServiceWorld

FLOWERS = "鲜花速递/花卉仿真/绿植园艺>生活鲜花"
_ids = itertools.count(1)


def _order(service: ServiceWorld, merchant: str, product: str | None, **fields: Any) -> str:
    """An order fed by the platform, paid in the Valentine window, of the seeded consumer."""
    order_id = f"H3-{next(_ids)}-{service.backend}"
    body = {"order_id": order_id, "merchant_id": merchant, "merchant_type": "domestic",
            "category": FLOWERS, "ship_mode": "spot", "pay_time": "2024-02-10 10:00:00",
            "consumer_id": "consumer", **fields}  # fmt: skip
    if product is not None:
        body["product_id"] = product
    r = service.client.post("/orders", json=body, headers=service.auth("operator"))
    assert r.status_code == 201, r.text
    return order_id


def _creator_sharing(service: ServiceWorld, merchant: str, product: str) -> str:
    c, op = service.client, service.auth("operator")
    creator = f"C{next(_ids)}{service.backend}"
    assert c.post("/creators", json={"creator_id": creator, "name": "达人"},
                  headers=op).status_code == 201  # fmt: skip
    share = {"product_id": product, "merchant_id": merchant}
    assert c.post(f"/creators/{creator}/shares", json=share, headers=op).status_code == 201
    return creator


# --- a promotion id named by orders before the promotion is recorded ---


@pytest.mark.parametrize(("merchant", "product"), [("m2", "P1"), ("m1", "P9")])
def test_a_promotion_id_named_by_another_shops_or_products_orders_is_not_recorded(
    service: ServiceWorld, merchant: str, product: str
) -> None:
    """Orders may name a promotion that is not recorded yet. A creator then recording a
    promotion of m1's P1 under an id that m2's orders (or m1's P9 orders) named got those
    orders judged against (or for) its claim (201, and GET /creators/claims counted them).
    Such an id is refused (409, field promotion_id); an id named only by orders of the
    promotion's own shop and product — or by none — is recorded."""
    c, op = service.client, service.auth("operator")
    creator = _creator_sharing(service, "m1", "P1")
    borrowed = f"PR-H3-{next(_ids)}-{service.backend}"
    _order(service, merchant, product, promotion_id=borrowed)
    post = {"product_id": "P1", "text": "当日达", "creator_id": creator}
    r = c.post("/creators/promotions", json={**post, "promotion_id": borrowed}, headers=op)
    assert r.status_code == 409, r.text
    assert r.json()["detail"]["field"] == "promotion_id"
    assert merchant not in r.text and product not in r.text  # never whose
    own = f"PR-H3-{next(_ids)}-{service.backend}"
    _order(service, "m1", "P1", promotion_id=own)
    _order(service, "m1", None, promotion_id=own)  # its product not known yet
    r = c.post("/creators/promotions", json={**post, "promotion_id": own}, headers=op)
    assert r.status_code == 201, r.text


def test_orders_of_another_shop_recorded_before_are_not_judged_by_the_service(
    service: ServiceWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that already holds such a promotion (recorded before the refusal above): m2's
    ten orders named it, shipped days after payment, and GET /creators/claims judged m1's
    "48小时内发货" on them (10 of 10 broken, severe) and /creators/measures proposed a measure
    against the creator. The claim check joins an order to a promotion only on its shop and
    product too (the one Ibis definition the batch reads): nothing is judged, no measure."""
    from datetime import UTC, datetime

    from lvyue.store import make_engine, make_session_factory, session_scope
    from lvyue.store.creator_tables import Promotion

    monkeypatch.delenv("LVYUE_INDICATOR_FACTS", raising=False)
    c, op = service.client, service.auth("operator")
    creator = _creator_sharing(service, "m1", "P1")
    legacy = f"PR-H3-{next(_ids)}-{service.backend}"
    for k in range(10):
        order_id = _order(service, "m2", "P1", promotion_id=legacy)
        parcel = {"carrier": "zhongtong", "waybill": f"ZTH3{k}{order_id[-12:]}"}
        r = c.post(f"/orders/{order_id}/shipment", json=parcel, headers=service.auth("m2.main"))
        assert r.status_code == 201, r.text
    engine = make_engine(service.url)
    with session_scope(make_session_factory(engine)) as session:
        session.add(Promotion(promotion_id=legacy, product_id="P1", merchant_id="m1",
                              creator_id=creator, published_at=datetime(2024, 2, 1, tzinfo=UTC),
                              text="48小时内发货", created_by="operator",
                              created_at=datetime.now(UTC)))  # fmt: skip
    engine.dispose()
    claims = c.get("/creators/claims", params={"creator_id": creator}, headers=op).json()
    assert [(f["orders"], f["broken"], f["level"]) for f in claims] == [(0, 0, "not_judged")]
    measures = c.get("/creators/measures", params={"creator_id": creator}, headers=op)
    assert measures.status_code == 200 and measures.json() == [], measures.text


# --- a review names the product of its order ---


@pytest.mark.parametrize("who", ["consumer", "operator"])
def test_a_review_names_its_orders_product_only(service: ServiceWorld, who: str) -> None:
    """A review carried any ``product_id`` (201): a consumer who bought P1 could give one
    star to the shop's P2 in the record, and the feed's row named a product its order is not
    of. Both are 422 naming ``product_id`` now (the feed's row refused, not stored); the
    order's own product, or none, is recorded."""
    c, headers = service.client, service.auth(who)
    order_id = _order(service, "m1", "P1")
    feed = who == "operator"

    def review(product: str | None, n: int) -> Any:
        body: dict[str, Any] = {"order_id": order_id, "rating": 1, "product_id": product}
        if feed:
            body |= {"review_id": f"RV-H3-{n}-{order_id}", "created_at": "2024-02-12T10:00:00"}
        return c.post("/reviews", json=body, headers=headers)

    other = review("P2", 1)
    assert other.status_code == 422, other.text
    assert other.json()["detail"]["field"] == "product_id"
    own = review("P1", 2)
    assert own.status_code == 201 and own.json()["detail"]["product_id"] == "P1", own.text
    if feed:  # a consumer reviews an order once (409); the feed may send another row
        assert review(None, 3).status_code == 201
    unnamed = _order(service, "m1", None)  # an order whose product is not known
    body = {"order_id": unnamed, "rating": 2, "product_id": "P1"}
    if feed:
        body |= {"review_id": f"RV-H3-4-{unnamed}", "created_at": "2024-02-12T10:00:00"}
    r = c.post("/reviews", json=body, headers=headers)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "product_id", r.text

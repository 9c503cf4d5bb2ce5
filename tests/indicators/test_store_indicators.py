"""GET /indicators reads the service's own data: a consumer's after-sales request with reason
``defect`` (残次), its review and its complaint, all posted through the API, change the
merchant's defect, negative-review and complaint rates at once. Reviews and complaints: a
consumer about its own order only, the platform's feed about any; merchants cannot post
them. SQLite and PostgreSQL (no LVYUE_INDICATOR_FACTS: the store)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from lvyue.api.testing import ServiceWorld

FLOWERS = "鲜花速递/花卉仿真/绿植园艺>生活鲜花"
NOW = datetime(2024, 2, 15, 4, 0, tzinfo=UTC)  # 2024-02-15 12:00 Beijing: the service's clock
QUERY = {"as_of": "2024-02-16 00:00:00", "festival": "VF-8"}


@pytest.fixture
def pinned(service: ServiceWorld, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("LVYUE_INDICATOR_FACTS", raising=False)
    app: Any = service.client.app
    app.state.clock = lambda: NOW
    yield
    app.state.clock = None


def _orders(service: ServiceWorld, merchant: str, n: int) -> list[str]:
    ids = [f"ind-{merchant}-{i}-{service.backend}" for i in range(n)]
    rows = [{"order_id": oid, "merchant_id": merchant, "merchant_type": "domestic",
             "category": FLOWERS, "ship_mode": "spot", "pay_time": "2024-02-10 10:00:00",
             "product_id": "P1", "consumer_id": "consumer"} for oid in ids]  # fmt: skip
    r = service.client.post("/ingest/orders", json={"rows": rows}, headers=service.auth("operator"))
    assert r.status_code in (200, 201), r.text
    return ids


def _rates(service: ServiceWorld) -> dict[str, float | None]:
    r = service.client.get("/indicators", params=QUERY, headers=service.auth("m1.main"))
    assert r.status_code == 200, r.text
    (row,) = r.json()
    return {f["indicator"]: f["value"] for f in row["findings"]}


def _post(service: ServiceWorld, path: str, body: dict[str, Any], who: str = "consumer") -> Any:
    return service.client.post(path, json=body, headers=service.auth(who))


def test_a_reason_a_review_and_a_complaint_posted_reach_the_indicators(
    service: ServiceWorld, pinned: None
) -> None:
    m1 = _orders(service, "m1", 4)
    m2 = _orders(service, "m2", 2)
    before = _rates(service)
    assert (before["defect_rate"], before["complaint_rate"]) == (0.0, 0.0)
    body = {"order_id": m1[0], "type": "refund_only", "reason": "defect"}  # 残次
    assert _post(service, "/workflows/after-sales", body).status_code == 201
    review = _post(service, "/reviews", {"order_id": m1[1], "rating": 1})
    assert review.status_code == 201, review.text
    complaint = _post(service, "/complaints", {"order_id": m1[2], "reason": "quality"})
    assert complaint.status_code == 201, complaint.text
    after = _rates(service)
    assert after["defect_rate"] == pytest.approx(0.25)  # 1 of 4 orders
    assert after["complaint_rate"] == pytest.approx(0.25)
    assert after["negative_review_rate"] == pytest.approx(1.0)  # 1 review, 1 star
    others = service.client.get("/indicators", params={**QUERY, "merchant_id": "m2"},
                                headers=service.auth("operator")).json()  # fmt: skip
    assert {f["indicator"]: f["value"] for f in others[0]["findings"]}["defect_rate"] == 0.0
    del m2


def test_who_may_post_reviews_and_complaints(service: ServiceWorld, pinned: None) -> None:
    (mine,) = _orders(service, "m1", 1)
    theirs = f"ind-other-{service.backend}"
    row = {"order_id": theirs, "merchant_id": "m2", "merchant_type": "domestic",
           "category": FLOWERS, "ship_mode": "spot", "pay_time": "2024-02-10 10:00:00",
           "consumer_id": "somebody-else"}  # fmt: skip
    assert _post(service, "/orders", row, "operator").status_code == 201
    assert _post(service, "/reviews", {"order_id": theirs, "rating": 5}).status_code == 404
    for who in ("m1.main", "m1.sub", "carrier", "agency"):
        assert _post(service, "/complaints", {"order_id": mine, "reason": "service"},
                     who).status_code == 403, who  # fmt: skip
    assert _post(service, "/reviews", {"order_id": mine, "rating": 6}).status_code == 422
    given = {"order_id": mine, "rating": 4, "review_id": "RV-MINE"}
    assert _post(service, "/reviews", given).status_code == 422  # the service issues its ids
    assert _post(service, "/reviews", {"order_id": mine, "rating": 4}).status_code == 201
    again = _post(service, "/reviews", {"order_id": mine, "rating": 2})
    assert again.status_code == 409  # one review per order and consumer (ours)
    feed = {"order_id": theirs, "rating": 2, "review_id": f"RV-FEED-{service.backend}",
            "created_at": "2024-02-12T10:00:00+08:00"}  # fmt: skip
    first = _post(service, "/reviews", feed, "operator")
    assert first.status_code == 201, first.text
    assert _post(service, "/reviews", feed, "operator").json() == first.json()  # as recorded
    changed = _post(service, "/reviews", {**feed, "rating": 5}, "operator")
    assert changed.status_code == 409
    early = {**feed, "review_id": "RV-EARLY", "created_at": "2024-02-01T00:00:00+08:00"}
    assert _post(service, "/reviews", early, "operator").status_code == 422  # before payment

"""The delayed-shipping tool (SF-2, SF-4, VF-3) through the HTTP API: allowed only where the
rulebook's ``ship.delayed_tool_allowed`` resolves true when it is set and for the paid orders
it applies to."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lvyue.api.testing import ServiceWorld

if TYPE_CHECKING:
    from conftest import Clock, OrderFactory

FLOWERS = "鲜花速递/花卉仿真/绿植园艺>生活鲜花"
DRESS = "服饰内衣>女装>连衣裙"
SPRING_2023 = datetime(2023, 1, 20, 2, 0, tzinfo=UTC)  # 10:00 Beijing, in SF-1's window
VALENTINE_2024 = datetime(2024, 2, 10, 2, 0, tzinfo=UTC)  # in VF-3's window


def _set(service: ServiceWorld, product: str, category: str, who: str = "m1.main") -> Any:
    body = {"product_id": f"{product}-{service.backend}", "category": category}
    return service.client.post("/delayed-shipping", json=body, headers=service.auth(who))


def test_spring_festival_window_allows_it_and_the_engine_uses_sf4(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    clock.now = SPRING_2023
    product = f"P-SF-{service.backend}"
    order = make_order(category=DRESS, product_id=product)
    r = _set(service, "P-SF", DRESS)
    assert r.status_code == 201, r.text
    assert r.json()["clause"] == "SF-2" and r.json()["order_ids"] == [order]
    verdicts = service.client.get(
        f"/workflows/orders/{order}/verdicts", headers=service.auth("m1.main")
    ).json()
    ship = next(v for v in verdicts if v["check"] == "ship_deadline")
    assert ship["clauses"] == "SF-4" and ship["deadline"] == "2023-02-04T23:59:59+08:00"
    assert _set(service, "P-SF", DRESS).status_code == 409  # already set


def test_flowers_in_the_valentine_window_are_refused_naming_vf3(
    service: ServiceWorld, clock: Clock
) -> None:
    clock.now = VALENTINE_2024
    r = _set(service, "P-VF", FLOWERS)
    assert r.status_code == 422
    assert r.json()["detail"]["clause"] == "VF-3"
    assert r.json()["detail"]["field"] == "product_id"


def test_outside_any_window_no_window_opens_the_tool(service: ServiceWorld, clock: Clock) -> None:
    r = _set(service, "P-DAILY", DRESS)
    assert r.status_code == 422 and r.json()["detail"]["clause"] == "SF-4"


def test_a_paid_order_outside_the_window_is_refused_naming_it(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    clock.now = SPRING_2023
    product = f"P-EARLY-{service.backend}"
    early = make_order(category=DRESS, product_id=product, pay_time="2023-01-10 09:00:00")
    r = _set(service, "P-EARLY", DRESS)
    assert r.status_code == 422
    assert early in r.json()["detail"]["error"] and r.json()["detail"]["clause"] == "SF-4"


def test_refusals_are_audited_with_the_clause(service: ServiceWorld, clock: Clock) -> None:
    clock.now = VALENTINE_2024
    _set(service, "P-AUDIT", FLOWERS)
    trail = service.client.get(
        "/workflows/audit",
        params={"entity": "product", "entity_id": f"P-AUDIT-{service.backend}"},
        headers=service.auth("m1.main"),
    ).json()
    assert [(e["action"], e["clause"]) for e in trail] == [("delayed_shipping.refused", "VF-3")]


def test_permissions_and_tenancy(service: ServiceWorld, clock: Clock) -> None:
    clock.now = SPRING_2023
    assert _set(service, "P-PERM", DRESS, "m1.clerk").status_code == 403
    assert _set(service, "P-PERM", DRESS, "operator").status_code == 403
    assert _set(service, "P-PERM", DRESS, "m1.sub").status_code == 201
    theirs = service.client.get("/delayed-shipping", headers=service.auth("m2.main")).json()
    assert f"P-PERM-{service.backend}" not in {x["product_id"] for x in theirs}

"""Console pages enforce the API's permissions and tenancy (LD-9, GN-4)."""

from __future__ import annotations

import pytest
from markupsafe import escape
from webkit import csrf_of, login

from lvyue.api.testing import ServiceWorld
from lvyue.store.permissions import WHO_GRANTS
from lvyue.web.security import LoginThrottle

M1_ORDER, M2_ORDER = "perm-m1-order", "perm-m2-order"


@pytest.fixture(scope="module", autouse=True)
def orders(service: ServiceWorld) -> None:
    for merchant, order_id in (("m1", M1_ORDER), ("m2", M2_ORDER)):
        order = {
            "order_id": order_id,
            "merchant_id": merchant,
            "merchant_type": "domestic",
            "category": "服饰内衣>女装",
            "ship_mode": "spot",
            "pay_time": "2024-02-09 10:00:00",
        }
        answer = service.client.post("/orders", json=order, headers=service.auth("operator"))
        assert answer.status_code == 201, answer.text


def test_a_sub_account_without_the_permission_sees_which_and_who_grants_it(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    clerk = login(service, "m1.clerk")
    answer = clerk.get("/console/orders")
    assert answer.status_code == 403
    assert "orders:view" in answer.text
    assert str(escape(WHO_GRANTS)) in answer.text
    assert M1_ORDER not in answer.text


def test_a_sub_account_without_orders_ship_cannot_ship(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    # m1.sub holds every grantable permission: give it a position without orders:ship.
    position = service.client.put(
        "/positions",
        json={"name": "只看订单", "permissions": ["orders:view"]},
        headers=service.auth("m1.main"),
    ).json()
    assigned = service.client.put(
        "/accounts/m1.sub/positions",
        json={"position_ids": [position["position_id"]]},
        headers=service.auth("m1.main"),
    )
    assert assigned.status_code == 200
    sub = login(service, "m1.sub")
    detail = sub.get(f"/console/orders/{M1_ORDER}")
    assert detail.status_code == 200
    answer = sub.post(
        f"/console/orders/{M1_ORDER}/ship",
        data={"csrf_token": csrf_of(detail.text), "carrier": "zhongtong", "waybill": "ZT1"},
    )
    assert answer.status_code == 403
    assert "orders:ship" in answer.text and str(escape(WHO_GRANTS)) in answer.text
    order = service.client.get(f"/orders/{M1_ORDER}", headers=service.auth("m1.main")).json()
    assert order["shipment"] is None


def test_another_merchants_order_is_not_found(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    m1 = login(service, "m1.main")
    assert m1.get(f"/console/orders/{M1_ORDER}").status_code == 200
    answer = m1.get(f"/console/orders/{M2_ORDER}")
    assert answer.status_code == 404
    assert "二号店" not in answer.text and M2_ORDER not in answer.text
    assert M2_ORDER not in m1.get("/console/orders").text
    assert m1.get("/console/orders?merchant=m2").status_code == 404


def test_an_operator_sees_every_merchants_orders(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    operator = login(service, "operator")
    board = operator.get("/console/orders").text
    assert M1_ORDER in board and M2_ORDER in board
    assert operator.get(f"/console/orders/{M2_ORDER}").status_code == 200


def test_form_posts_without_the_session_csrf_token_are_refused(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    m2 = login(service, "m2.main")
    answer = m2.post(
        f"/console/orders/{M2_ORDER}/ship", data={"carrier": "zhongtong", "waybill": "ZT2"}
    )
    assert answer.status_code == 403 and "CSRF" in answer.text
    forged = m2.post(
        f"/console/orders/{M2_ORDER}/ship",
        data={"csrf_token": "forged", "carrier": "zhongtong", "waybill": "ZT2"},
    )
    assert forged.status_code == 403
    order = service.client.get(f"/orders/{M2_ORDER}", headers=service.auth("m2.main")).json()
    assert order["shipment"] is None

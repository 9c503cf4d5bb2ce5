"""BT-1 by designation and BT-7's opt-in through the service (issue 10 item 7): a second-hand
category the seed does not name owes BTAS only when the product was listed with 前置质检/查验场景
ticked (``pre_inspection``); a designated one (二手手机) owes it regardless. On SQLite and
PostgreSQL, through the order upload and the shipment endpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lvyue.api.testing import ServiceWorld

if TYPE_CHECKING:
    from conftest import Clock, OrderFactory

BOOKS = "二手商品>二手图书>小说"  # second-hand, not among BT-1's named subtrees
PHONE = "二手商品>二手3C数码>手机"  # designated (二手3C数码)


def _ship(service: ServiceWorld, order_id: str) -> Any:
    return service.client.post(
        f"/orders/{order_id}/shipment",
        json={"carrier": "zhongtong", "waybill": f"ZT-{order_id}"},
        headers=service.auth("m1.main"),
    )


def test_btas_duty_follows_the_designation_or_the_products_opt_in(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    plain = make_order(category=BOOKS)
    opted = make_order(category=BOOKS, pre_inspection="true")
    phone = make_order(category=PHONE)
    assert _ship(service, plain).status_code == 201  # undesignated, no opt-in: no BTAS duty
    for refused in (opted, phone):
        r = _ship(service, refused)
        assert r.status_code == 422, r.text
        assert "BT-" in r.text

"""Tenancy of the workflow routes (GN-4): merchant m2's accounts, an agency that is not the
inspection's and a consumer who did not buy the order call every workflow route with m1's
objects. Each call is refused (403 without the permission, 404 otherwise), no list shows
m1's objects, and m1's objects are unchanged afterwards."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from lvyue.api.testing import ServiceWorld

if TYPE_CHECKING:
    from conftest import Clock, OrderFactory

PHONE = "二手商品>二手3C数码>手机"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
PARCEL = {"carrier": "shunfeng", "waybill": "SF-T-1"}


@pytest.fixture
def m1_objects(service: ServiceWorld, clock: Clock, make_order: OrderFactory) -> dict[str, str]:
    c, m1 = service.client, service.auth("m1.main")
    order = make_order(category=PHONE, product_id="ITEM-TENANT", consumer_id="someone-else")
    agency = {"account_id": "other-agency", "name": "另一鉴定机构", "role": "inspection_agency",
              "organisation": "other-agency"}  # fmt: skip
    made = c.post("/accounts", json=agency, headers=service.auth("operator"))
    assert made.status_code in (201, 409), made.text  # once per module database
    body = {"item_id": f"ITEM-T-{order}", "category": PHONE, "agency": "other-agency"}
    inspection = c.post("/btas/inspections", json=body, headers=m1).json()["inspection_id"]
    report = {"type": "address_abnormal", "description": "地址异常", "order_ids": [order]}
    rid = c.post("/reports", json=report, headers=m1).json()["report_id"]
    ingested = {
        "aftersale_id": f"AS-{order}",
        "order_id": order,
        "type": "return_refund",
        "created_at": "2026-01-01 10:00:00",
    }
    assert (
        c.post("/after-sales", json=ingested, headers=service.auth("operator")).status_code == 201
    )
    measure = {"merchant_id": "m1", "kind": "limit_orders", "reason": "test"}
    mid = c.post("/measures", json=measure, headers=service.auth("operator")).json()["measure_id"]
    return {"order": order, "inspection": inspection, "report": rid,
            "aftersale": f"AS-{order}", "measure": str(mid)}  # fmt: skip


def _calls(ids: dict[str, str]) -> list[tuple[str, str, Any]]:
    i, r, a, o = ids["inspection"], ids["report"], ids["aftersale"], ids["order"]
    result = {"result": "pass", "report_ref": "x", "tag_ref": "T"}
    return [
        ("get", f"/btas/inspections/{i}", None),
        ("post", f"/btas/inspections/{i}/send", PARCEL),
        ("post", f"/btas/inspections/{i}/receive", None),
        ("post", f"/btas/inspections/{i}/result", result),
        ("post", f"/btas/inspections/{i}/resubmit", None),
        ("post", f"/btas/inspections/{i}/cancel", None),
        ("post", f"/btas/inspections/{i}/return", PARCEL),
        ("post", f"/btas/inspections/{i}/ship", {**PARCEL, "order_id": o}),
        ("post", f"/btas/orders/{o}/ship", PARCEL),
        ("get", f"/reports/{r}", None),
        ("post", f"/reports/{r}/withdraw", None),
        ("post", f"/reports/{r}/evidence", "FILE"),
        ("get", f"/workflows/after-sales/{a}", None),
        ("post", f"/workflows/after-sales/{a}/decision", {"agree": True}),
        ("post", f"/workflows/after-sales/{a}/return-shipped", None),
        ("post", f"/workflows/after-sales/{a}/receive", None),
        ("post", f"/workflows/after-sales/{a}/complete", None),
        ("post", "/workflows/after-sales", {"order_id": o, "type": "refund_only"}),
        ("get", f"/workflows/orders/{o}/verdicts", None),
        ("get", f"/workflows/orders/{o}/settlement", None),
        ("post", f"/measures/{ids['measure']}/lift", None),
    ]


LISTS = ("/btas/inspections", "/reports", "/workflows/after-sales", "/violations", "/measures",
         "/delayed-shipping", "/penalties")  # fmt: skip


@pytest.mark.parametrize("who", ["m2.main", "m2.sub", "m2.clerk", "agency", "consumer"])
def test_foreign_callers_get_nothing_of_m1(
    service: ServiceWorld, m1_objects: dict[str, str], who: str
) -> None:
    c, headers = service.client, service.auth(who)
    m1 = service.auth("m1.main")
    before = _snapshot(service, m1_objects)
    for method, path, body in _calls(m1_objects):
        if body == "FILE":
            r = c.post(path, files={"file": ("p.png", PNG, "image/png")}, headers=headers)
        else:
            r = c.request(method, path, json=body, headers=headers)
        assert r.status_code in (403, 404), f"{who} {method} {path}: {r.status_code} {r.text}"
    for path in LISTS:
        r = c.get(path, headers=headers)
        assert r.status_code in (200, 403, 404), f"{who} {path}: {r.status_code}"
        if r.status_code == 200:
            assert not set(m1_objects.values()) & set(r.text.split('"')), f"{who} {path} leaks"
    trail = c.get(
        "/workflows/audit",
        params={"entity": "report", "entity_id": m1_objects["report"]},
        headers=headers,
    )
    assert trail.status_code in (403, 404) or trail.json() == []
    assert _snapshot(service, m1_objects) == before
    assert c.get(f"/reports/{m1_objects['report']}", headers=m1).status_code == 200


def _snapshot(service: ServiceWorld, ids: dict[str, str]) -> list[Any]:
    c, m1, op = service.client, service.auth("m1.main"), service.auth("operator")
    return [
        c.get(f"/btas/inspections/{ids['inspection']}", headers=m1).json(),
        c.get(f"/reports/{ids['report']}", headers=m1).json(),
        c.get(f"/workflows/after-sales/{ids['aftersale']}", headers=m1).json()["state"],
        [
            m
            for m in c.get("/measures", headers=op).json()
            if str(m["measure_id"]) == ids["measure"]
        ],
    ]

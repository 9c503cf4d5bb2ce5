"""BTAS inspection through the HTTP API (BT-2, BT-3, BT-7..BT-10, BT-12)."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from lvyue.api.testing import ServiceWorld

if TYPE_CHECKING:  # fixtures' types (conftest is not importable under importlib mode)
    from conftest import Clock, OrderFactory

PHONE = "二手商品>二手3C数码>手机"
_items = itertools.count(1)


def _item(service: ServiceWorld) -> str:
    return f"ITEM-{next(_items)}-{service.backend}"


def _pass_inspection(
    service: ServiceWorld, item: str, *, merchant: str = "m1", order_id: str | None = None
) -> dict[str, Any]:
    """Create, send, receive and pass an inspection; returns the inspection."""
    c, m, agency = service.client, service.auth(f"{merchant}.main"), service.auth("agency")
    body = {"item_id": item, "category": PHONE, "agency": "btas-agency-1", "order_id": order_id}
    created = c.post("/btas/inspections", json=body, headers=m)
    assert created.status_code == 201, created.text
    iid = created.json()["inspection_id"]
    parcel = {"carrier": "shunfeng", "waybill": f"SF{iid[-6:]}", "packing_video": "oss://v/1.mp4"}
    sent = c.post(f"/btas/inspections/{iid}/send", json=parcel, headers=m)
    assert sent.status_code == 200, sent.text
    assert sent.json()["packing_video"] == "oss://v/1.mp4"  # BT-9
    assert c.post(f"/btas/inspections/{iid}/receive", headers=agency).status_code == 200
    result = {"result": "pass", "report_ref": "rpt-1", "evidence": ["e1.jpg"], "tag_ref": "TAG-9"}
    passed = c.post(f"/btas/inspections/{iid}/result", json=result, headers=agency)
    assert passed.status_code == 200, passed.text
    out: dict[str, Any] = passed.json()
    assert out["state"] == "passed" and out["code"].startswith("BT1-") and out["tag_ref"] == "TAG-9"
    return out


def _return(service: ServiceWorld, inspection_id: str) -> None:
    r = service.client.post(
        f"/btas/inspections/{inspection_id}/return",
        json={"carrier": "shunfeng", "waybill": f"RT{inspection_id[-6:]}"},
        headers=service.auth("agency"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "returned"


def _ship(service: ServiceWorld, order_id: str, code: str | None, **extra: Any) -> Any:
    body = {"carrier": "zhongtong", "waybill": f"ZT-{order_id}", "inspection_code": code}
    return service.client.post(
        f"/btas/orders/{order_id}/ship", json={**body, **extra}, headers=service.auth("m1.main")
    )


def test_pre_inspection_route_binds_the_code_when_the_merchant_ships(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    item = _item(service)
    inspection = _pass_inspection(service, item)
    _return(service, inspection["inspection_id"])
    order = make_order(category=PHONE, product_id=item)
    shipped = _ship(service, order, inspection["code"], packing_video="oss://v/ship.mp4")
    assert shipped.status_code == 201, shipped.text
    assert shipped.json()["inspection_code"] == inspection["code"]
    assert shipped.json()["packing_video"] == "oss://v/ship.mp4"  # BT-9
    after = service.client.get(
        f"/btas/inspections/{inspection['inspection_id']}", headers=service.auth("m1.main")
    ).json()
    assert after["state"] == "shipped" and after["code_bound_to"] == order
    # the engine sees a passed, bound code
    verdicts = service.client.get(
        f"/workflows/orders/{order}/verdicts", headers=service.auth("m1.main")
    ).json()
    assert {"check": "inspection", "status": "ok"}.items() <= next(
        v for v in verdicts if v["check"] == "inspection"
    ).items()


def test_agency_ships_to_the_consumer(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    item = _item(service)
    order = make_order(category=PHONE, product_id=item)
    inspection = _pass_inspection(service, item, order_id=order)
    r = service.client.post(
        f"/btas/inspections/{inspection['inspection_id']}/ship",
        json={"carrier": "shunfeng", "waybill": "SF-AG-1", "packing_video": "oss://v/ag.mp4"},
        headers=service.auth("agency"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["inspection_code"] == inspection["code"]
    again = service.client.post(
        f"/btas/inspections/{inspection['inspection_id']}/ship",
        json={"carrier": "shunfeng", "waybill": "SF-AG-2"},
        headers=service.auth("agency"),
    )
    assert again.status_code == 409


def test_shipping_without_a_code_is_refused_naming_the_clause(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    order = make_order(category=PHONE, product_id=_item(service))
    r = _ship(service, order, None)
    assert r.status_code == 422
    assert r.json()["detail"]["clause"] == "BT-1"
    assert r.json()["detail"]["field"] == "inspection_code"
    # the service's own ship endpoint runs the same check through the hook
    plain = service.client.post(
        f"/orders/{order}/shipment",
        json={"carrier": "zhongtong", "waybill": "ZT-PLAIN-1"},
        headers=service.auth("m1.main"),
    )
    assert plain.status_code == 422 and plain.json()["detail"]["clause"] == "BT-1"


def test_a_category_without_inspection_ships_without_a_code(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    order = make_order()
    assert _ship(service, order, None).status_code == 201


def test_forged_foreign_and_used_codes_are_refused(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    item = _item(service)
    inspection = _pass_inspection(service, item)
    _return(service, inspection["inspection_id"])
    code = inspection["code"]
    order = make_order(category=PHONE, product_id=item)

    forged = code[:-3] + ("AAA" if not code.endswith("AAA") else "BBB")
    r = _ship(service, order, forged)
    assert r.status_code == 422 and "forged" in r.json()["detail"]["error"]
    assert r.json()["detail"]["clause"] == "BT-10"

    other_item = make_order(category=PHONE, product_id=_item(service))
    r = _ship(service, other_item, code)
    assert r.status_code == 422 and "another item" in r.json()["detail"]["error"]

    # another merchant's code: m2 passes an item, m1 tries its code
    foreign = _pass_inspection(service, _item(service), merchant="m2")
    r = _ship(service, order, foreign["code"])
    assert r.status_code == 422 and r.json()["detail"]["clause"] == "BT-10"

    assert _ship(service, order, code).status_code == 201
    second = make_order(category=PHONE, product_id=item)
    r = _ship(service, second, code)
    assert r.status_code == 409 and "already bound" in r.json()["detail"]["error"]


def test_a_passed_item_still_at_the_agency_cannot_be_bound_by_the_merchant(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    item = _item(service)
    inspection = _pass_inspection(service, item)
    order = make_order(category=PHONE, product_id=item)
    r = _ship(service, order, inspection["code"])
    assert r.status_code == 422 and r.json()["detail"]["clause"] == "BT-3"


def test_an_unknown_agency_is_refused(service: ServiceWorld, clock: Clock) -> None:
    body = {"item_id": _item(service), "category": PHONE, "agency": "no-such-agency"}
    r = service.client.post("/btas/inspections", json=body, headers=service.auth("m1.main"))
    assert r.status_code == 422 and r.json()["detail"]["field"] == "agency"


def test_two_passes_for_one_item_issue_one_code(service: ServiceWorld, clock: Clock) -> None:
    c, m, agency = service.client, service.auth("m1.main"), service.auth("agency")
    item = _item(service)
    body = {"item_id": item, "category": PHONE, "agency": "btas-agency-1"}
    ids = [c.post("/btas/inspections", json=body, headers=m).json()["inspection_id"] for _ in "ab"]
    for iid in ids:
        c.post(f"/btas/inspections/{iid}/send", json={"carrier": "sf", "waybill": "W"}, headers=m)
        c.post(f"/btas/inspections/{iid}/receive", headers=agency)
    result = {"result": "pass", "report_ref": "r", "tag_ref": "T"}
    first = c.post(f"/btas/inspections/{ids[0]}/result", json=result, headers=agency)
    second = c.post(f"/btas/inspections/{ids[1]}/result", json=result, headers=agency)
    assert first.status_code == 200
    assert second.status_code == 409 and second.json()["detail"]["clause"] == "BT-10"


def test_one_item_one_code(service: ServiceWorld, clock: Clock) -> None:
    item = _item(service)
    _pass_inspection(service, item)
    again = service.client.post(
        "/btas/inspections",
        json={"item_id": item, "category": PHONE, "agency": "btas-agency-1"},
        headers=service.auth("m1.main"),
    )
    assert again.status_code == 409 and again.json()["detail"]["clause"] == "BT-10"


def test_a_fail_has_a_resubmission_deadline(service: ServiceWorld, clock: Clock) -> None:
    c, m, agency = service.client, service.auth("m1.main"), service.auth("agency")
    body = {"item_id": _item(service), "category": PHONE, "agency": "btas-agency-1"}
    iid = c.post("/btas/inspections", json=body, headers=m).json()["inspection_id"]
    c.post(f"/btas/inspections/{iid}/send", json={"carrier": "sf", "waybill": "W1"}, headers=m)
    c.post(f"/btas/inspections/{iid}/receive", headers=agency)
    fail = {"result": "fail", "report_ref": "rpt-f", "evidence": ["scratch.jpg"]}
    failed = c.post(f"/btas/inspections/{iid}/result", json=fail, headers=agency).json()
    assert failed["state"] == "failed" and failed["code"] is None
    assert failed["resubmit_deadline"] is not None
    clock.advance(days=8)
    late = c.post(f"/btas/inspections/{iid}/resubmit", headers=m)
    assert (
        late.status_code == 422 and late.json()["detail"]["clause"] == "lvyue:inspection.resubmit"
    )
    clock.advance(days=-2)
    ok = c.post(f"/btas/inspections/{iid}/resubmit", headers=m)
    assert ok.status_code == 200 and ok.json()["state"] == "created"


def test_roles_and_agencies(service: ServiceWorld, clock: Clock) -> None:
    c = service.client
    body = {"item_id": _item(service), "category": PHONE, "agency": "btas-agency-1"}
    iid = c.post("/btas/inspections", json=body, headers=service.auth("m1.main")).json()[
        "inspection_id"
    ]
    # the merchant cannot record a result, the agency cannot create, m2 cannot see it
    assert (
        c.post(f"/btas/inspections/{iid}/receive", headers=service.auth("m1.main")).status_code
        == 403
    )
    assert c.post("/btas/inspections", json=body, headers=service.auth("agency")).status_code == 403
    assert c.get(f"/btas/inspections/{iid}", headers=service.auth("m2.main")).status_code == 404
    assert c.get(f"/btas/inspections/{iid}", headers=service.auth("agency")).status_code == 200
    # a transition out of order is a 409 naming the allowed events
    early = c.post(f"/btas/inspections/{iid}/receive", headers=service.auth("agency"))
    assert early.status_code == 409 and "allowed: cancel, send" in early.json()["detail"]["error"]


def test_codes_verify_offline(service: ServiceWorld, clock: Clock) -> None:
    item = _item(service)
    code = _pass_inspection(service, item)["code"]
    verify = {"code": code, "item_id": item, "merchant_id": "m1"}
    consumer = service.auth("consumer")
    assert service.client.post("/btas/codes/verify", json=verify, headers=consumer).json()[
        "authentic"
    ]
    wrong = {**verify, "item_id": "ITEM-X"}
    assert not service.client.post("/btas/codes/verify", json=wrong, headers=consumer).json()[
        "authentic"
    ]


def test_every_step_is_audited_with_its_clause(service: ServiceWorld, clock: Clock) -> None:
    inspection = _pass_inspection(service, _item(service))
    trail = service.client.get(
        "/workflows/audit",
        params={"entity": "inspection", "entity_id": inspection["inspection_id"]},
        headers=service.auth("m1.main"),
    ).json()
    assert [(e["action"], e["clause"]) for e in trail] == [
        ("inspection.create", "BT-4"),
        ("inspection.send", "BT-4"),
        ("inspection.receive", "BT-4"),
        ("inspection.pass", "BT-10"),
    ]
    assert trail[2]["actor"] == "agency"


# The signing key earlier versions fell back to when LVYUE_INSPECTION_SECRET was unset.
PUBLISHED_DEFAULT = b"lvyue-development-inspection-secret"


def test_a_code_forged_offline_with_the_published_default_key_is_refused(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    """Issue 12 item 6: with the secret from the source, anyone could sign the code id of a
    passed item (it is on the tag) for another listing. The service has a secret of its own
    now: the forgery neither verifies nor ships, and the code the agency issued still does."""
    from lvyue.workflows.inspection import CodeSigner

    item = _item(service)
    inspection = _pass_inspection(service, item)
    _return(service, inspection["inspection_id"])
    code = inspection["code"]
    code_id = code.split("-")[1]
    forged = f"BT1-{code_id}-{CodeSigner(PUBLISHED_DEFAULT)._signature(code_id, item, 'm1')}"
    assert forged != code
    consumer = service.auth("consumer")
    check = {"code": forged, "item_id": item, "merchant_id": "m1"}
    verified = service.client.post("/btas/codes/verify", json=check, headers=consumer).json()
    assert verified == {"authentic": False, "code_id": None}
    order = make_order(category=PHONE, product_id=item)
    refused = _ship(service, order, forged)
    assert refused.status_code == 422 and refused.json()["detail"]["clause"] == "BT-10"
    genuine = {**check, "code": code}
    assert service.client.post("/btas/codes/verify", json=genuine, headers=consumer).json()[
        "authentic"
    ]
    assert _ship(service, order, code).status_code == 201

"""Every console page answers every role with a page or a refusal (never a 500), lists are
keyset-paginated without overlap, and exports are real CSV and XLSX."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook
from webkit import csrf_of, login

from lvyue.api.testing import ServiceWorld
from lvyue.web.security import LoginThrottle

PAGES = ("/console/orders", "/console/orders/at-risk", "/console/violations",
         "/console/reports", "/console/btas", "/console/after-sales", "/console/diagnosis",
         "/console/positions", "/console/dashboard", "/console/rules", "/console/review",
         "/console/measures", "/console/quarantine", "/console/audit",
         "/console/violations/ledger", "/console/governance",
         "/console/diagnosis/reachability")  # fmt: skip
ROLES = ("operator", "m1.main", "m1.sub", "m1.clerk", "agency", "consumer")
ORDERS = 57


@pytest.fixture(scope="module", autouse=True)
def orders(service: ServiceWorld) -> None:
    rows = [
        {
            "order_id": f"page-{n:03d}",
            "merchant_id": "m1",
            "merchant_type": "domestic",
            "category": "服饰内衣>女装",
            "ship_mode": "spot",
            "pay_time": f"2024-02-{1 + n % 20:02d} {n % 24:02d}:00:00",
        }
        for n in range(ORDERS)
    ]
    answer = service.client.post(
        "/ingest/orders", json={"rows": rows}, headers=service.auth("operator")
    )
    assert answer.status_code in (200, 201), answer.text


def test_every_page_answers_every_role(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    for key in ROLES:
        client = login(service, key)
        for path in PAGES:
            answer = client.get(path)
            assert answer.status_code in (200, 403), (key, path, answer.status_code)
            if answer.status_code == 403:
                assert "缺少权限" in answer.text, (key, path)


def test_orders_are_paginated_by_keyset_without_overlap(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    client = login(service, "m1.main")
    for sort in ("pay_asc", "pay_desc"):
        first = client.get(f"/console/orders?sort={sort}")
        ids_1 = _order_ids(first.text)
        assert len(set(ids_1)) == 50
        cursor = first.text.split("cursor=")[1].split('"')[0]
        second = client.get(f"/console/orders?sort={sort}&cursor={cursor}")
        ids_2 = _order_ids(second.text)
        assert len(set(ids_2)) == ORDERS - 50 and not set(ids_1) & set(ids_2), sort
        assert "下一页" not in second.text
    assert client.get("/console/orders?cursor=not-a-cursor").status_code == 400


def _order_ids(html: str) -> list[str]:
    return [part.split('"')[0] for part in html.split('href="/console/orders/page-')[1:]]


def test_exports_are_csv_with_bom_and_real_xlsx(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    login(service, "m2.main")  # another shop's log-in is audited under m2
    client = login(service, "m1.main")
    csv = client.get("/console/orders?format=csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    text = csv.content.decode("utf-8")
    assert text.startswith("\ufefforder_id,merchant_id")
    assert sum("page-" in line for line in {ln.split(",")[0] for ln in text.splitlines()}) == ORDERS
    xlsx = client.get("/console/violations?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[1]][:3] == ["violation_id", "merchant_id", "order_id"]
    audit = client.get("/console/audit?format=csv")
    assert audit.status_code == 200 and "console.login" in audit.text and "m1.main" in audit.text
    assert "m2.main" not in audit.text  # a merchant's audit log is its own shop's only


def test_a_main_account_defines_a_position_and_grants_it(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    main = login(service, "m1.main")
    form = main.get("/console/positions")
    token = csrf_of(form.text)
    saved = main.post(
        "/console/positions",
        data={"csrf_token": token, "name": "仓库", "permissions": ["orders:view", "orders:ship"]},
    )
    assert saved.status_code == 303 and "error" not in saved.headers["location"]
    refused = main.post(
        "/console/positions",
        data={"csrf_token": token, "name": "越权", "permissions": ["accounts:manage"]},
    )
    assert "error" in refused.headers["location"]
    positions = service.client.get("/positions", headers=service.auth("m1.main")).json()
    warehouse = next(p for p in positions if p["name"] == "仓库")
    assert warehouse["permissions"] == ["orders:ship", "orders:view"]
    assert not any(p["name"] == "越权" for p in positions)
    assert login(service, "m1.clerk").get("/console/orders").status_code == 403
    assigned = main.post(
        "/console/positions/assign/m1.clerk",
        data={"csrf_token": token, "position_ids": [str(warehouse["position_id"])]},
    )
    assert assigned.status_code == 303
    assert login(service, "m1.clerk").get("/console/orders").status_code == 200
    other = main.post(
        "/console/positions/assign/m2.clerk",
        data={"csrf_token": token, "position_ids": [str(warehouse["position_id"])]},
    )
    assert other.status_code == 404  # another shop's sub-account


def test_an_operator_fixes_and_replays_a_quarantined_row(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    bad = {"order_id": "page-fix-1", "merchant_id": "m1", "merchant_type": "domestic",
           "category": "服饰内衣>女装", "ship_mode": "spot", "pay_time": "not a time"}  # fmt: skip
    answer = service.client.post(
        "/ingest/orders", json={"rows": [bad]}, headers=service.auth("operator")
    ).json()
    quarantine_id = answer["quarantined"][0]
    operator = login(service, "operator")
    page = operator.get("/console/quarantine")
    assert f"#{quarantine_id}" in page.text or str(quarantine_id) in page.text
    token = csrf_of(page.text)
    failed = operator.post(
        f"/console/quarantine/{quarantine_id}/replay", data={"csrf_token": token}
    )
    assert "error" in failed.headers["location"]
    fixed = {**bad, "pay_time": "2024-02-09 10:00:00"}

    operator.post(
        f"/console/quarantine/{quarantine_id}/fix",
        data={"csrf_token": token, "payload": json.dumps(fixed, ensure_ascii=False)},
    )
    replayed = operator.post(
        f"/console/quarantine/{quarantine_id}/replay", data={"csrf_token": token}
    )
    assert "done" in replayed.headers["location"], replayed.headers["location"]
    order = service.client.get("/orders/page-fix-1", headers=service.auth("m1.main"))
    assert order.status_code == 200

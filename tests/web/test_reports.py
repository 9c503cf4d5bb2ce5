"""报备中心 → 报备审核: a report the operator approves turns the order's verdict exempted."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from webkit import csrf_of, login

from lvyue.api.testing import ServiceWorld
from lvyue.web.security import LoginThrottle

ORDER = "report-m1-order"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="module", autouse=True)
def late_order(service: ServiceWorld) -> None:
    order = {
        "order_id": ORDER,
        "merchant_id": "m1",
        "merchant_type": "domestic",
        "category": "服饰内衣>女装",
        "ship_mode": "spot",
        "pay_time": "2024-02-09 10:00:00",
    }
    answer = service.client.post("/orders", json=order, headers=service.auth("operator"))
    assert answer.status_code == 201, answer.text


def _ship_deadline_status(html: str) -> str:
    row = re.search(
        r"<td>ship_deadline</td><td>—</td><td><span class=\"status status-(\w+)\"", html
    )
    assert row, "no ship_deadline row"
    return row.group(1)


def test_an_approved_report_exempts_the_late_order(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    merchant = login(service, "m1.main")
    assert _ship_deadline_status(merchant.get(f"/console/orders/{ORDER}").text) == "violated"
    centre = merchant.get("/console/reports")
    filed = merchant.post(
        "/console/reports",
        data={
            "csrf_token": csrf_of(centre.text),
            "type": "address_abnormal",
            "description": "消费者地址异常，无法派送",
            "order_ids": ORDER,
        },
        files={"evidence": ("proof.png", PNG, "image/png")},
    )
    assert filed.status_code == 303, filed.text
    location = filed.headers["location"]
    report_id = parse_qs(urlsplit(location).query)["filed"][0]
    assert f"已提交报备 {report_id}" in merchant.get(location).text  # signed for this session
    assert "审核中" in merchant.get("/console/reports").text

    operator = login(service, "operator")
    queue = operator.get("/console/review")
    assert report_id in queue.text
    approved = operator.post(
        f"/console/review/{report_id}",
        data={"csrf_token": csrf_of(queue.text), "decision": "approve"},
    )
    assert approved.status_code == 303 and "error" not in approved.headers["location"]

    assert _ship_deadline_status(merchant.get(f"/console/orders/{ORDER}").text) == "exempted"
    assert "已通过" in merchant.get("/console/reports").text


def test_a_merchant_cannot_open_the_review_queue(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    answer = login(service, "m1.main").get("/console/review")
    assert answer.status_code == 403 and "reports:review" in answer.text


def test_an_invalid_report_names_the_field(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    merchant = login(service, "m1.main")
    centre = merchant.get("/console/reports")
    answer = merchant.post(
        "/console/reports",
        data={"csrf_token": csrf_of(centre.text), "type": "address_abnormal", "description": "x"},
    )
    assert answer.status_code == 422
    assert "order_ids" in answer.text


def test_a_crafted_link_shows_no_message_of_the_console(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    """``?filed=`` and ``?shipped=1`` used to show their text to anyone who followed a link
    ("已提交报备 <anything>，等待平台审核。", "已发货 Shipped." on an unshipped order); the
    console's messages are signed for the session (lvyue.web.flash)."""
    merchant = login(service, "m1.main")
    centre = merchant.get("/console/reports?filed=R1，已被驳回，请致电400-000")
    assert centre.status_code == 200 and "已提交报备" not in centre.text
    assert "已被驳回" not in centre.text
    detail = merchant.get(f"/console/orders/{ORDER}?shipped=1")
    assert detail.status_code == 200 and "已发货" not in detail.text

"""Report centre (SF-8) through the HTTP API: filing limits, evidence, review, and the
engine applying an approved report (waiver or new deadline)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from lvyue.api.testing import ServiceWorld
from lvyue.model import format_instant, to_beijing

if TYPE_CHECKING:
    from conftest import Clock, OrderFactory

PROVINCES = ["北京市", "天津市", "河北省", "山西省", "辽宁省", "吉林省", "黑龙江省", "上海市",
             "江苏省", "浙江省", "安徽省"]  # fmt: skip
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _file(service: ServiceWorld, body: dict[str, Any], who: str = "m1.main") -> Any:
    return service.client.post("/reports", json=body, headers=service.auth(who))


def _evidence(service: ServiceWorld, report_id: str, data: bytes = PNG, kind: str = "image/png"):
    return service.client.post(
        f"/reports/{report_id}/evidence",
        files={"file": ("proof.png", data, kind)},
        headers=service.auth("m1.main"),
    )


def _review(service: ServiceWorld, report_id: str, decision: str, reason: str | None = None):
    return service.client.post(
        f"/reports/{report_id}/review",
        json={"decision": decision, "reason": reason},
        headers=service.auth("operator"),
    )


def _verdict(service: ServiceWorld, order_id: str, check: str = "ship_deadline") -> Any:
    r = service.client.get(
        f"/workflows/orders/{order_id}/verdicts", headers=service.auth("m1.main")
    )
    assert r.status_code == 200, r.text
    return next(v for v in r.json() if v["check"] == check)


def _weather(clock: Clock, **extra: Any) -> dict[str, Any]:
    today = to_beijing(clock.now).date()
    return {
        "type": "force_majeure",
        "reason": "weather",
        "description": "暴雪封路",
        "period_start": str(today - timedelta(days=1)),
        "period_end": str(today + timedelta(days=2)),
        **extra,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reason": None}, "reason"),
        ({"period_end": "__start+21"}, "period_end"),
        ({"latest_ship_date": "__end+8"}, "latest_ship_date"),
        ({"regions": PROVINCES[:11]}, "regions"),
        ({"regions": ["火星"]}, "regions"),
        ({"type": "consumer_requested_delay", "reason": None}, "order_ids"),
        ({"type": "teleport"}, "type"),
    ],
)
def test_filing_limits_name_the_field(
    service: ServiceWorld, clock: Clock, change: dict[str, Any], field: str
) -> None:
    body = _weather(clock)
    start = to_beijing(clock.now).date() - timedelta(days=1)
    end = to_beijing(clock.now).date() + timedelta(days=2)
    for key, value in change.items():
        if value == "__start+21":
            value = str(start + timedelta(days=21))  # 22 days
        elif value == "__end+8":
            value = str(end + timedelta(days=8))
        body[key] = value
    r = _file(service, body)
    assert r.status_code == 422, r.text
    assert [e["loc"][-1] for e in r.json()["detail"]] == [field]


def test_the_limits_themselves_are_accepted(service: ServiceWorld, clock: Clock) -> None:
    start = to_beijing(clock.now).date()
    body = _weather(
        clock,
        period_start=str(start),
        period_end=str(start + timedelta(days=20)),  # 21 days
        latest_ship_date=str(start + timedelta(days=27)),  # 7 days after
        regions=[*PROVINCES[:9], "220100"],  # names or GB/T 2260 codes
    )
    assert _file(service, body).status_code == 201


def test_evidence_type_and_size_limits(service: ServiceWorld, clock: Clock) -> None:
    report = _file(service, _weather(clock)).json()["report_id"]
    wrong = _evidence(service, report, b"hello", "text/plain")
    assert wrong.status_code == 422 and wrong.json()["detail"]["field"] == "file"
    big = _evidence(service, report, b"\0" * (10 * 1024 * 1024 + 1))
    assert big.status_code == 422 and "10 MiB" in big.json()["detail"]["error"]
    fake = _evidence(service, report, b"<html>not an image</html>", "image/png")
    assert fake.status_code == 422 and "not a image/png file" in fake.json()["detail"]["error"]
    ok = _evidence(service, report)
    assert ok.status_code == 201 and ok.json()["size"] == len(PNG)
    assert (
        service.client.get(f"/reports/{report}", headers=service.auth("m1.main")).json()["evidence"]
        == 1
    )


def test_approved_report_sets_the_new_deadline_through_the_engine(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    order = make_order()
    before = _verdict(service, order)
    assert before["clauses"] == "DR-1a" and before["status"] == "pending"
    latest = to_beijing(clock.now).date() + timedelta(days=5)
    report = _file(service, _weather(clock, order_ids=[order], latest_ship_date=str(latest)))
    assert report.status_code == 201, report.text
    rid = report.json()["report_id"]
    assert _verdict(service, order)["deadline"] == before["deadline"]  # pending: no effect

    no_evidence = _review(service, rid, "approve")
    assert no_evidence.status_code == 422 and no_evidence.json()["detail"]["clause"] == "SF-8"
    _evidence(service, rid)
    approved = _review(service, rid, "approve")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"

    after = _verdict(service, order)
    assert after["deadline"] == f"{latest}T23:59:59+08:00"
    assert "SF-8" in after["clauses"].split(";")


def test_approved_report_without_a_date_waives(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    order = make_order()
    body = {"type": "consumer_requested_delay", "description": "顾客出差", "order_ids": [order]}
    rid = _file(service, body).json()["report_id"]
    _evidence(service, rid)
    assert _review(service, rid, "approve").status_code == 200
    clock.advance(days=3)  # the 48 h deadline has passed, unshipped
    waived = _verdict(service, order)
    assert waived["status"] == "exempted" and "SF-8" in waived["clauses"]


def test_reject_needs_a_reason_and_is_final(service: ServiceWorld, clock: Clock) -> None:
    rid = _file(service, _weather(clock)).json()["report_id"]
    no_reason = _review(service, rid, "reject")
    assert no_reason.status_code == 422 and no_reason.json()["detail"]["field"] == "reason"
    rejected = _review(service, rid, "reject", "证据不足")
    assert rejected.json()["state"] == "rejected" and rejected.json()["review_reason"] == "证据不足"
    assert _review(service, rid, "approve").status_code == 409


def test_a_report_naming_no_orders_covers_the_period_and_areas(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    inside = make_order(dest_province="吉林省")
    elsewhere = make_order(dest_province="广东省")
    rid = _file(service, _weather(clock, regions=["吉林省"])).json()["report_id"]
    _evidence(service, rid)
    approved = _review(service, rid, "approve").json()
    assert inside in approved["order_ids"] and elsewhere not in approved["order_ids"]


def test_tenancy_and_permissions(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    c = service.client
    rid = _file(service, _weather(clock)).json()["report_id"]
    assert c.get(f"/reports/{rid}", headers=service.auth("m2.main")).status_code == 404
    assert c.post(f"/reports/{rid}/withdraw", headers=service.auth("m2.main")).status_code == 404
    assert _evidence_as(service, rid, "m2.main").status_code == 404
    assert c.get(f"/reports/{rid}", headers=service.auth("operator")).status_code == 200
    mine = c.post(
        f"/reports/{rid}/review", json={"decision": "approve"}, headers=service.auth("m1.main")
    )
    assert mine.status_code == 403 and mine.json()["detail"]["permission"] == "reports:review"
    foreign_order = make_order("m2")
    body = {"type": "address_abnormal", "description": "地址异常", "order_ids": [foreign_order]}
    r = _file(service, body)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "order_ids"
    queue = c.get("/reports", params={"state": "pending"}, headers=service.auth("operator"))
    assert rid in {x["report_id"] for x in queue.json()}
    assert rid not in {
        x["report_id"] for x in c.get("/reports", headers=service.auth("m2.main")).json()
    }


def _evidence_as(service: ServiceWorld, report_id: str, who: str) -> Any:
    return service.client.post(
        f"/reports/{report_id}/evidence",
        files={"file": ("p.png", PNG, "image/png")},
        headers=service.auth(who),
    )


def test_a_replayed_filing_with_its_idempotency_key_files_once(
    service: ServiceWorld, clock: Clock
) -> None:
    headers = {**service.auth("m1.main"), "Idempotency-Key": f"file-{service.backend}-1"}
    body = _weather(clock)
    first = service.client.post("/reports", json=body, headers=headers)
    again = service.client.post("/reports", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["report_id"] == again.json()["report_id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = service.client.post("/reports", json={**body, "description": "改"}, headers=headers)
    assert other.status_code == 409


def test_approval_withdraws_a_violation_already_recorded(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    from lvyue.store import make_engine, make_session_factory, session_scope
    from lvyue.store.hooks import sweeps

    order = make_order(pay_time=format_instant(clock.now - timedelta(days=3)))
    engine = make_engine(service.url)
    try:
        sweep = next(s for s in sweeps() if s.name == "workflows.violations_from_verdicts")
        with session_scope(make_session_factory(engine)) as session:
            sweep.run(session, clock.now)
    finally:
        engine.dispose()

    def recorded() -> list[str]:
        rows = service.client.get("/violations", headers=service.auth("m1.main")).json()
        return [v["check"] for v in rows if v["order_id"] == order]

    assert recorded() == ["ship_deadline"]
    body = {"type": "consumer_requested_delay", "description": "顾客要求延迟", "order_ids": [order]}
    rid = _file(service, body).json()["report_id"]
    _evidence(service, rid)
    assert _review(service, rid, "approve").status_code == 200
    assert recorded() == []
    trail = service.client.get(
        "/workflows/audit",
        params={"entity": "violation", "entity_id": f"{order}//ship_deadline"},
        headers=service.auth("m1.main"),
    ).json()
    assert [(e["action"], e["clause"]) for e in trail] == [
        ("violation.record", "DR-1a"),
        ("violation.withdraw", "SF-8"),
    ]


def test_the_operator_sees_the_evidence_before_deciding(
    service: ServiceWorld, clock: Clock, make_order: OrderFactory
) -> None:
    """Issue 12 item 11: the review route accepted a decision on evidence nobody could see
    (only a count was shown). The reviewer lists and downloads each file, as uploaded; another
    merchant and a clerk without report permissions get 404/403."""
    order = make_order()
    rid = _file(service, _weather(clock, order_ids=[order])).json()["report_id"]
    assert _evidence(service, rid).status_code == 201
    operator = service.auth("operator")
    listed = service.client.get(f"/reports/{rid}/evidence", headers=operator)
    assert listed.status_code == 200, listed.text
    [meta] = listed.json()
    assert (meta["filename"], meta["content_type"], meta["size"]) == ("proof.png", "image/png", 72)
    assert meta["uploaded_by"] == "m1.main"
    url = f"/reports/{rid}/evidence/{meta['evidence_id']}"
    got = service.client.get(url, headers=operator)
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"].startswith("attachment")
    assert service.client.get(url, headers=service.auth("m1.main")).content == PNG
    for who, status in (("m2.main", 404), ("m1.clerk", 403)):
        assert service.client.get(url, headers=service.auth(who)).status_code == status
        listing = service.client.get(f"/reports/{rid}/evidence", headers=service.auth(who))
        assert listing.status_code == status
    other = make_order()
    other_rid = _file(service, _weather(clock, order_ids=[other])).json()["report_id"]
    wrong_report = f"/reports/{other_rid}/evidence/{meta['evidence_id']}"
    assert service.client.get(wrong_report, headers=operator).status_code == 404
    assert _review(service, rid, "approve").status_code == 200

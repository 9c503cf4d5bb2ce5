"""Issue 12 item 11: implausible values are refused with 422 naming the field, on both
sides of each bound. Before, each of these was stored: pay_time 1900-01-01 or 9999-12-31,
a shipment before the payment, an order row with 50,000 extra columns."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lvyue.api.testing import ServiceWorld
from lvyue.model.time import BEIJING

_ids = itertools.count(1)


def _order(**fields: Any) -> dict[str, Any]:
    return {
        "order_id": f"plaus-{next(_ids)}",
        "merchant_id": "m1",
        "merchant_type": "domestic",
        "category": "服饰内衣>女装",
        "ship_mode": "spot",
        "pay_time": "2024-02-09 10:00:00",
        **fields,
    }


def _post(service: ServiceWorld, body: dict[str, Any], who: str = "operator") -> Any:
    return service.client.post("/orders", json=body, headers=service.auth(who))


@pytest.mark.parametrize(
    ("pay_time", "status"),
    [
        ("1900-01-01 00:00:00", 422),
        ("9999-12-31 23:59:59", 422),
        ("1999-12-31 23:59:59", 422),
        ("2000-01-01 00:00:00", 201),
        ("2099-12-31 23:59:59", 201),
        ("2100-01-01 00:00:00", 422),
    ],
)
def test_times_outside_2000_to_2099_are_refused(
    service: ServiceWorld, pay_time: str, status: int
) -> None:
    r = _post(service, _order(pay_time=pay_time))
    assert r.status_code == status, r.text
    if status == 422:
        assert r.json()["detail"][0]["loc"] == ["body", "pay_time"]


def test_a_scan_in_year_9999_is_refused(service: ServiceWorld) -> None:
    scan = {"carrier": "zhongtong", "waybill": "Y9999", "time": "9999-01-01", "kind": "pickup"}
    r = service.client.post("/tracking", json=scan, headers=service.auth("carrier"))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "time"]


@pytest.mark.parametrize(("offset", "status"), [(-1, 422), (0, 201), (1, 201)])
def test_an_imported_shipment_is_never_before_the_payment(
    service: ServiceWorld, offset: int, status: int
) -> None:
    """The platform's import (an operator) records ship times as given: not before pay_time."""
    pay = datetime(2024, 2, 9, 10, 0, 0)
    ship = (pay + timedelta(seconds=offset)).strftime("%Y-%m-%d %H:%M:%S")
    body = _order(ship_time=ship, carrier="zhongtong", waybill=f"ZTP{next(_ids)}")
    r = _post(service, body, "operator")
    assert r.status_code == status, r.text
    if status == 422:
        assert "ship_time" in r.text and "before pay_time" in r.text


def test_a_shipment_on_the_server_clock_before_the_payment_is_refused(
    service: ServiceWorld,
) -> None:
    later = (datetime.now(UTC) + timedelta(hours=2)).astimezone(BEIJING)
    created = _post(service, _order(pay_time=later.strftime("%Y-%m-%d %H:%M:%S")))
    order_id = created.json()["id"]
    ship = {"carrier": "zhongtong", "waybill": f"ZTS{next(_ids)}"}
    r = service.client.post(
        f"/orders/{order_id}/shipment", json=ship, headers=service.auth("m1.main")
    )
    assert r.status_code == 422, r.text
    assert "before the order's pay_time" in r.text
    earlier = (datetime.now(UTC) - timedelta(minutes=5)).astimezone(BEIJING)
    paid = _post(service, _order(pay_time=earlier.strftime("%Y-%m-%d %H:%M:%S"))).json()["id"]
    ship = {"carrier": "zhongtong", "waybill": f"ZTS{next(_ids)}"}
    ok = service.client.post(f"/orders/{paid}/shipment", json=ship, headers=service.auth("m1.main"))
    assert ok.status_code == 201, ok.text


@pytest.mark.parametrize(("columns", "status"), [(50, 201), (51, 422), (50_000, 422)])
def test_extra_columns_are_bounded(service: ServiceWorld, columns: int, status: int) -> None:
    extra = {f"note_{i}": "x" for i in range(columns)}
    r = _post(service, _order(**extra))
    assert r.status_code == status
    if status == 422:
        assert f"{columns} unknown columns, at most 50" in r.text
        assert len(r.content) < 2_000  # the refusal does not echo the 50,000 columns
    rows = {"rows": [_order(**extra)]}
    batch = service.client.post("/ingest/orders", json=rows, headers=service.auth("operator"))
    assert batch.status_code == 200
    assert len(batch.json()["quarantined"]) == (status == 422)


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [("category", "女装\x01", 422), ("category", "女装\x7f", 422), ("category", "女装\x00", 422),
     ("category", "女装 >裙", 201), ("inspection_code", "QC\x1b1", 422),
     ("inspection_code", "QC1", 201)],
)  # fmt: skip
def test_control_characters_in_text_are_refused_naming_the_field(
    service: ServiceWorld, field: str, value: str, status: int
) -> None:
    r = _post(service, _order(**{field: value}))
    assert r.status_code == status, r.text
    if status == 422:
        assert field in r.text
    rows = {"rows": [_order(**{field: value})]}
    batch = service.client.post("/ingest/orders", json=rows, headers=service.auth("operator"))
    assert batch.status_code == 200 and len(batch.json()["quarantined"]) == (status == 422)


@pytest.mark.parametrize(
    ("value", "refusal"),
    [({"a": [1, {"b": 1}]}, "not a nested object"), ([1, 2], "not a nested object"),
     ("a\x00b", "control character"), ("x" * 2_001, "2,001 characters, at most 2,000"),
     ("x" * 3_000_000, "3,000,000 characters")],
)  # fmt: skip
def test_extra_values_are_plain_bounded_scalars(
    service: ServiceWorld, value: Any, refusal: str
) -> None:
    r = _post(service, _order(note=value))
    assert r.status_code == 422, r.text
    assert "note: " + refusal in r.text and len(r.content) < 5_000  # named, not echoed
    rows = {"rows": [_order(note=value)]}
    batch = service.client.post("/ingest/orders", json=rows, headers=service.auth("operator"))
    assert batch.status_code == 200, batch.text
    assert len(batch.json()["quarantined"]) == 1 and refusal in batch.json()["errors"][0]


@pytest.mark.parametrize("value", ["x" * 2_000, 12.5, -3, True, "a\tb\nc"])
def test_plain_extra_values_are_kept_as_sent(service: ServiceWorld, value: Any) -> None:
    r = _post(service, _order(note=value))
    assert r.status_code == 201, r.text
    stored = service.client.get(f"/orders/{r.json()['id']}", headers=service.auth("m1.main"))
    assert stored.json()["extra"] == {"note": value}


def test_a_non_finite_number_nested_anywhere_is_refused(service: ServiceWorld) -> None:
    text = json.dumps({"rows": [_order(note={"a": [1, {"b": float("nan")}]})]})
    assert "NaN" in text
    headers = {**service.auth("operator"), "Content-Type": "application/json"}
    batch = service.client.post("/ingest/orders", content=text.encode(), headers=headers)
    assert batch.status_code == 200, batch.text
    assert len(batch.json()["quarantined"]) == 1 and batch.json()["created"] == 0

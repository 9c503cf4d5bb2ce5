"""Bad rows never sink a batch (issue 12 item 9): a year-0001 time, a NaN, an unknown column
and identical bad rows are each handled row by row, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from lvyue.api.testing import ServiceWorld

HEADER = "order_id,merchant_id,merchant_type,category,ship_mode,pay_time"


def order(order_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "merchant_id": "m1",
        "merchant_type": "domestic",
        "category": "服饰内衣>女装",
        "ship_mode": "spot",
        "pay_time": "2024-02-09 10:00:00",
        **extra,
    }


def upload_csv(service: ServiceWorld, text: str) -> dict[str, Any]:
    headers = {**service.auth("operator"), "Content-Type": "text/csv"}
    r = service.client.post("/ingest/orders/csv", content=text.encode(), headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def quarantined(service: ServiceWorld, ids: list[int]) -> list[dict[str, Any]]:
    op = service.auth("operator")
    return [service.client.get(f"/quarantine/{i}", headers=op).json() for i in ids]


def test_a_year_0001_time_quarantines_its_row_only(service: ServiceWorld) -> None:
    body = upload_csv(
        service,
        f"{HEADER}\n"
        "b-1,m1,domestic,服饰内衣>女装,spot,0001-01-01 00:00:00\n"  # before year 1 in UTC
        "b-3,m1,domestic,服饰内衣>女装,spot,2024-02-09 10:00:00\n",
    )
    assert (body["created"], len(body["quarantined"])) == (1, 1)
    assert body["errors"][0].startswith("row 1: pay_time:")
    assert "out of range" in body["errors"][0]
    got = service.client.get("/orders/b-3", headers=service.auth("m1.main"))
    assert got.status_code == 200


def test_a_nan_is_refused_row_by_row_on_every_backend(service: ServiceWorld) -> None:
    rows = [order("n-1", amount=float("nan")), order("n-2", amount=12.5)]
    from json import dumps

    text = dumps({"rows": rows})  # NaN as JSON writes it (json.dumps allows it)
    assert "NaN" in text
    headers = {**service.auth("operator"), "Content-Type": "application/json"}
    r = service.client.post("/ingest/orders", content=text.encode(), headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["created"], len(body["quarantined"])) == (1, 1)
    (error,) = body["errors"]
    assert error.startswith("row 1:")
    assert error.endswith("amount: not a finite number (nan)")
    (entry,) = quarantined(service, body["quarantined"])
    assert entry["payload"]["amount"] == "nan"  # kept, as text every backend can store
    assert service.client.get("/orders/n-1", headers=service.auth("m1.main")).status_code == 404
    n2 = service.client.get("/orders/n-2", headers=service.auth("m1.main")).json()
    assert n2["extra"] == {"amount": 12.5}


def test_unknown_columns_are_reported(service: ServiceWorld) -> None:
    body = upload_csv(
        service,
        f"{HEADER},promised_ship_tme,amount\nu-1,m1,domestic,服饰内衣>女装,spot,"
        "2024-02-09 10:00:00,2024-02-10 10:00:00,9\n",
    )
    assert body["created"] == 1
    assert body["unknown_columns"] == ["promised_ship_tme"]  # amount is a known optional column
    clean = upload_csv(service, f"{HEADER}\nu-2,m1,domestic,服饰内衣>女装,spot,2024-02-09\n")
    assert clean["unknown_columns"] == []
    headers = service.auth("operator")
    r = service.client.post(
        "/ingest/after_sales",
        json={
            "rows": [
                {
                    "aftersale_id": "a-1",
                    "order_id": "u-1",
                    "type": "refund_only",
                    "created_at": "2024-02-11 10:00:00",
                    "merchant_handeled_at": "x",
                }
            ]
        },
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["unknown_columns"] == ["merchant_handeled_at"]


def test_identical_bad_rows_each_get_an_entry_with_their_row_number(
    service: ServiceWorld,
) -> None:
    bad = "d-1,m1,domestic,服饰内衣>女装,spot,not a time\n"
    text = f"{HEADER}\n{bad}d-2,m1,domestic,服饰内衣>女装,spot,2024-02-09 10:00:00\n{bad}{bad}"
    body = upload_csv(service, text)
    assert len(set(body["quarantined"])) == 3
    entries = quarantined(service, body["quarantined"])
    assert [e["error"].split(":")[0] for e in entries] == ["row 1", "row 3", "row 4"]
    again = upload_csv(service, text)  # the same file again: the same entries, none added
    assert again["quarantined"] == body["quarantined"]

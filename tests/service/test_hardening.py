"""Issue 12 item 11 (the service's part): security headers on every response, a lone
surrogate in JSON and an extreme diagnosis period answered 422 instead of 500."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from lvyue.api import create_app
from lvyue.api.hardening import SECURITY_HEADERS
from lvyue.api.testing import ServiceWorld

ORDER = (
    '{"order_id":"%s","merchant_id":"m1","merchant_type":"domestic",'
    '"category":"服饰内衣>女装","ship_mode":"spot","pay_time":"2024-02-09 10:00:00"}'
)


def _secured(headers: object) -> list[str]:
    """The security headers missing from a response's headers."""
    names = {k.lower() for k in headers}  # type: ignore[attr-defined]
    return [k.decode() for k in SECURITY_HEADERS if k.decode() not in names]


def test_every_route_answers_with_the_security_headers(service: ServiceWorld) -> None:
    """Before: no X-Content-Type-Options, X-Frame-Options, CSP, ... on any answer."""
    spec = service.client.get("/openapi.json").json()
    missing = []
    operator = service.fresh_auth("operator")  # the walk may rotate it away: headers still due
    for path, operations in spec["paths"].items():
        url = path.replace("{", "x").replace("}", "")
        for method in operations:
            for who in ("operator", None):
                headers = operator if who else {}
                r = service.client.request(method.upper(), url, headers=headers)
                if _secured(r.headers):
                    missing.append(f"{method} {url} {r.status_code}: {_secured(r.headers)}")
    assert not missing, "\n".join(missing)
    assert not _secured(service.client.get("/no-such-route").headers)


def test_even_a_server_error_carries_the_headers(service: ServiceWorld) -> None:
    app = create_app(service.url)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/boom")
    app.state.engine.dispose()
    assert r.status_code == 500
    assert not _secured(r.headers)
    assert r.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/orders", ORDER % "o\\ud800"),
        ("/ingest/orders", '{"rows":[%s]}' % (ORDER % "o\\ud800")),
        ("/ingest/orders", '{"rows":[{"\\udc00":"x"}]}'),
        ("/positions", '{"name":"\\ud800","permissions":[]}'),
    ],
)
def test_a_lone_surrogate_is_a_client_error(service: ServiceWorld, path: str, body: str) -> None:
    """Before: 500 (FastAPI's 422 could not encode the echoed input; free-form rows reached
    the idempotency fingerprint and the database)."""
    who = "m1.main" if path == "/positions" else "operator"  # the platform's order feed
    headers = {**service.auth(who), "Content-Type": "application/json"}
    method = "PUT" if path == "/positions" else "POST"
    r = service.client.request(method, path, content=body.encode(), headers=headers)
    assert r.status_code == 422, r.text
    assert "lone surrogate" in r.text or "unicode" in r.text


def test_a_surrogate_pair_is_text_like_any_other(service: ServiceWorld) -> None:
    headers = {**service.auth("m1.main"), "Content-Type": "application/json"}
    body = '{"name":"客服\\ud83d\\ude00","permissions":["orders:view"]}'
    r = service.client.put("/positions", content=body.encode(), headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "客服😀"


@pytest.mark.parametrize(
    "period",
    ["2024-01-01..9999-12-31", "9999-12-31..9999-12-31", "0001-01-01..0001-01-02"],
)
def test_an_extreme_diagnosis_period_is_refused_with_its_range(
    service: ServiceWorld, period: str
) -> None:
    """Before: 500 for a period reaching year 9999 (no day after it), a rulebook error for 0001."""
    merchant = _a_merchant()
    r = service.client.get(
        f"/diagnosis/merchants/{merchant}",
        params={"period": period},
        headers=service.auth("operator"),
    )
    assert r.status_code == 422, r.text
    assert "2000-01-01 to 2099-12-31" in r.json()["detail"]
    inside = service.client.get(
        f"/diagnosis/merchants/{merchant}",
        params={"period": "2000-01-01..2099-12-31"},
        headers=service.auth("operator"),
    )
    assert inside.status_code == 200, inside.text


def _a_merchant() -> str:
    facts = Path(os.environ["LVYUE_DIAGNOSIS_FACTS"])
    return str(pq.read_table(facts / "orders.parquet").column("merchant_id")[0].as_py())

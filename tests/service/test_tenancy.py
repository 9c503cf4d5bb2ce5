"""The tenancy matrix (LD-9, GN-4): every endpoint of the app — enumerated from its OpenAPI
spec, so routes added by any capability are walked too — called by every role of merchant m1
(and by agency, carrier, consumer) with merchant m2's ids. Nothing of m2's may come back,
nothing of m2's may change, and no call may fail with a server error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lvyue.api.testing import ServiceWorld

M2_ORDER = "tenant-m2-order"
M2_AFTERSALE = "tenant-m2-as"
# The carrier integration legitimately writes scans for any waybill (it is nobody's tenant),
# so it is walked for leaks and server errors but last, after m2's data is compared.
OUTSIDERS = ("m1.main", "m1.sub", "m1.clerk", "agency", "consumer", "carrier")
MARKERS = ('"m2"', M2_ORDER, M2_AFTERSALE, '"m2.sub"', '"m2.main"', "二号店")


@pytest.fixture(scope="module")
def m2_world(service: ServiceWorld) -> dict[str, str]:
    """Objects of merchant m2, and their ids by path-parameter name."""
    c, m2 = service.client, service.auth("m2.main")
    order = {
        "order_id": M2_ORDER,
        "merchant_id": "m2",
        "merchant_type": "domestic",
        "category": "服饰内衣>女装",
        "ship_mode": "spot",
        "pay_time": "2024-02-09 10:00:00",
    }
    feed = service.auth("operator")  # orders enter through the platform's feed
    assert c.post("/orders", json=order, headers=feed).status_code == 201
    ship = {"carrier": "zhongtong", "waybill": "ZTM2"}
    assert c.post(f"/orders/{M2_ORDER}/shipment", json=ship, headers=m2).status_code == 201
    aftersale = {
        "aftersale_id": M2_AFTERSALE,
        "order_id": M2_ORDER,
        "type": "refund_only",
        "created_at": "2024-02-11 10:00:00",
    }
    assert c.post("/after-sales", json=aftersale, headers=feed).status_code == 201
    position = c.put(
        "/positions", json={"name": "客服", "permissions": ["orders:view"]}, headers=m2
    ).json()
    second = {**order, "order_id": f"{M2_ORDER}-2"}
    assert c.post("/orders", json=second, headers=feed).status_code == 201
    # the shop's own quarantined row: a second order claiming its waybill (held for review)
    claim = c.post(f"/orders/{second['order_id']}/shipment", json=ship, headers=m2)
    assert claim.status_code == 409, claim.text
    bad = {"quarantined": [int(claim.json()["detail"].rsplit(" ", 1)[-1].rstrip(")"))]}
    return {
        "token_id": _token_id(service, "m2.sub"),
        "order_id": M2_ORDER,
        "aftersale_id": M2_AFTERSALE,
        "merchant_id": "m2",
        "account_id": "m2.sub",
        "position_id": str(position["position_id"]),
        "quarantine_id": str(bad["quarantined"][0]),
        "waybill": "ZTM2",
        "carrier": "zhongtong",
    }


def _token_id(service: ServiceWorld, key: str) -> str:
    """The id of the seeded token of ``key`` (the one ``service.auth(key)`` sends)."""
    mine = service.client.get("/tokens", headers=service.auth(key)).json()
    return str(next(t["token_id"] for t in mine if t["current"]))


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _fill(name: str, schema: dict[str, Any], spec: dict[str, Any], ids: dict[str, str]) -> Any:
    """A plausible value, using m2's ids wherever a field names one."""
    schema = _resolve(schema, spec)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            return _fill(name, options[0], spec, ids) if options else None
    if name in ids:
        return ids[name]
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {k: _fill(k, v, spec, ids) for k, v in props.items()}
    if kind == "array":
        return [_fill(name, schema.get("items", {}), spec, ids)]
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return False
    if schema.get("format") == "date-time" or name.endswith(("_at", "_time")):
        return "2024-02-10 10:00:00"
    if schema.get("format") == "date":
        return "2024-02-10"
    return "x"


def _calls(spec: dict[str, Any], ids: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    calls = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            url = path
            params: dict[str, Any] = {}
            for p in op.get("parameters", []):
                value = _fill(p["name"], p.get("schema", {}), spec, ids)
                if p["in"] == "path":
                    url = url.replace("{" + p["name"] + "}", str(ids.get(p["name"], "m2-x")))
                elif p["in"] == "query":
                    params[p["name"]] = value
            kwargs: dict[str, Any] = {"params": params}
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                kwargs["json"] = _fill("body", content["application/json"]["schema"], spec, ids)
            elif "text/csv" in content:
                kwargs["content"] = (
                    "order_id,merchant_id,merchant_type,category,ship_mode,"
                    f"pay_time\n{M2_ORDER},m2,domestic,x,spot,2024-02-10\n"
                )
                kwargs["headers"] = {"Content-Type": "text/csv"}
            elif content:
                media = next(iter(content))
                form = _fill("form", content[media]["schema"], spec, ids)
                kwargs["data"] = {
                    k: json.dumps(v) if not isinstance(v, str) else v for k, v in form.items()
                }
            calls.append((method.upper(), url, kwargs, op.get("x-revokes-caller", False)))
    # Calls that may revoke the caller's own token go last (walkers use a fresh token).
    calls.sort(key=lambda call: call[3])
    return [(method, url, kwargs) for method, url, kwargs, _ in calls]


def _snapshot(service: ServiceWorld) -> str:
    c, m2 = service.client, service.auth("m2.main")
    parts = [
        c.get(f"/orders/{M2_ORDER}", headers=m2).text,
        c.get("/accounts", headers=m2).text,
        c.get("/positions", headers=m2).text,
        c.get("/me", headers=service.auth("m2.sub")).text,
    ]
    return "\n".join(parts)


def test_no_role_of_another_tenant_reads_or_writes_m2(
    service: ServiceWorld, m2_world: dict[str, str]
) -> None:
    spec = service.client.get("/openapi.json").json()
    calls = _calls(spec, m2_world)
    assert len(calls) >= 20
    before = _snapshot(service)
    problems = []
    for who in OUTSIDERS:
        if who == "carrier":
            assert _snapshot(service) == before, "a call by another tenant changed m2's data"
        auth = service.fresh_auth(who)
        for method, url, kwargs in calls:
            headers = {**auth, **kwargs.pop("headers", {})}
            r = service.client.request(method, url, headers=headers, **kwargs)
            kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
            if r.status_code >= 500:
                problems.append(f"{who} {method} {url}: {r.status_code}")
            elif r.is_success and any(marker in r.text for marker in MARKERS):
                problems.append(f"{who} {method} {url}: {r.status_code} shows m2: {r.text[:200]}")
    assert not problems, "\n".join(problems)


def test_operator_walk_has_no_server_error(service: ServiceWorld, m2_world: dict[str, str]) -> None:
    spec = service.client.get("/openapi.json").json()
    problems = []
    auth = service.fresh_auth("operator")
    for method, url, kwargs in _calls(spec, m2_world):
        headers = {**auth, **kwargs.pop("headers", {})}
        r = service.client.request(method, url, headers=headers, **kwargs)
        if r.status_code >= 500:
            problems.append(f"operator {method} {url}: {r.status_code}")
    assert not problems, "\n".join(problems)


def test_every_endpoint_but_health_needs_a_token(service: ServiceWorld) -> None:
    spec = service.client.get("/openapi.json").json()
    open_paths = []
    for method, url, kwargs in _calls(spec, {}):
        kwargs.pop("headers", None)
        if service.client.request(method, url, **kwargs).status_code != 401:
            open_paths.append(f"{method} {url}")
    assert open_paths == ["GET /health"]


M1_ORDER = "tenant-m1-order"
M1_AFTERSALE = "tenant-m1-as"
# What an account holding no permission may still do: see that the service is up, who it is,
# the permission catalogue (no shop's data), and whether an inspection code is authentic (the
# check anyone holding a code may make; it answers yes/no from the signature alone).
SIGNED_PUSH = "/carriers/kuaidi100/push/"  # Kuaidi100's callback: 401 without its subscription
SELF_SERVICE = {
    ("GET", "/health"),
    ("GET", "/me"),
    ("GET", "/permissions"),
    ("POST", "/btas/codes/verify"),
    ("GET", "/tokens"),
    ("POST", "/tokens/rotate"),
}


@pytest.fixture(scope="module")
def m1_world(service: ServiceWorld) -> dict[str, str]:
    """Objects of merchant m1 (the clerk's own shop), and their ids by path-parameter name."""
    c, m1 = service.client, service.auth("m1.main")
    order = {
        "order_id": M1_ORDER,
        "merchant_id": "m1",
        "merchant_type": "domestic",
        "category": "服饰内衣>女装",
        "ship_mode": "spot",
        "pay_time": "2024-02-09 10:00:00",
    }
    feed = service.auth("operator")  # orders enter through the platform's feed
    assert c.post("/orders", json=order, headers=feed).status_code == 201
    ship = {"carrier": "zhongtong", "waybill": "ZTM1"}  # shipped now (server clock)
    assert c.post(f"/orders/{M1_ORDER}/shipment", json=ship, headers=m1).status_code == 201
    aftersale = {
        "aftersale_id": M1_AFTERSALE,
        "order_id": M1_ORDER,
        "type": "refund_only",
        "created_at": "2024-02-11 10:00:00",
    }
    assert c.post("/after-sales", json=aftersale, headers=feed).status_code == 201
    position = c.put(
        "/positions", json={"name": "只读", "permissions": ["orders:view"]}, headers=m1
    ).json()
    second = {**order, "order_id": f"{M1_ORDER}-2"}
    assert c.post("/orders", json=second, headers=feed).status_code == 201
    # the shop's own quarantined row: a second order claiming its waybill (held for review)
    claim = c.post(f"/orders/{second['order_id']}/shipment", json=ship, headers=m1)
    assert claim.status_code == 409, claim.text
    bad = {"quarantined": [int(claim.json()["detail"].rsplit(" ", 1)[-1].rstrip(")"))]}
    return {
        "token_id": _token_id(service, "m1.sub"),
        "order_id": M1_ORDER,
        "aftersale_id": M1_AFTERSALE,
        "merchant_id": "m1",
        "account_id": "m1.sub",
        "position_id": str(position["position_id"]),
        "quarantine_id": str(bad["quarantined"][0]),
        "waybill": "ZTM1",
        "carrier": "zhongtong",
        "entity": "order",
        "entity_id": M1_ORDER,
        "table": "orders",
    }


def test_a_sub_account_without_permissions_gets_nothing_of_its_own_shop(
    service: ServiceWorld, m1_world: dict[str, str]
) -> None:
    """Issue 12 item 7: m1.clerk (a sub-account granted no position) walks every route with
    its own shop's ids: each answer is 403 or 404, never data (GET /workflows/audit used to
    answer 200 with the order's audit trail)."""
    spec = service.client.get("/openapi.json").json()
    calls = _calls(spec, m1_world)
    assert ("GET", "/workflows/audit") in {(m, u) for m, u, _ in calls}
    problems = []
    auth = service.fresh_auth("m1.clerk")
    for method, url, kwargs in calls:
        if (method, url) in SELF_SERVICE or url.startswith(SIGNED_PUSH):
            continue  # the signed push ignores tokens: its subscription's salt authenticates it
        headers = {**auth, **kwargs.pop("headers", {})}
        r = service.client.request(method, url, headers=headers, **kwargs)
        if r.status_code not in (403, 404):
            problems.append(f"{method} {url}: {r.status_code} {r.text[:160]}")
    assert not problems, "\n".join(problems)
    me = service.client.get("/me", headers=service.auth("m1.clerk")).json()
    assert me["permissions"] == []


def test_the_audit_trail_of_an_object_needs_audit_view(
    service: ServiceWorld, m1_world: dict[str, str]
) -> None:
    params = {"entity": "order", "entity_id": M1_ORDER}
    clerk = service.client.get("/workflows/audit", params=params, headers=service.auth("m1.clerk"))
    assert clerk.status_code == 403
    assert clerk.json()["detail"]["permission"] == "audit:view"
    sub = service.client.get("/workflows/audit", params=params, headers=service.auth("m1.sub"))
    assert sub.status_code == 200
    assert sub.json(), "the holder of audit:view sees the order's trail"


# Whose ids a probe may try (docs/decisions/service-platform-issues-order-ids.md): every
# route called with m2's ids must answer exactly as with ids nobody holds (same status, same
# body once the id itself is put back), or a merchant could tell that an id is in use.
PROBERS = ("m1.main", "m1.sub", "m1.clerk", "agency", "consumer")
_UNHELD = {"carrier": "zhongtong"}  # not an id: a carrier code is public


def _unheld(ids: dict[str, str]) -> dict[str, str]:
    """The same ids, each changed into one no account and no object holds."""
    return {
        name: value if name in _UNHELD else ("987654" if value.isdigit() else f"{value}-none")
        for name, value in ids.items()
    }


def _answer(r: Any, swap: dict[str, str]) -> tuple[int, str]:
    text = r.text
    for unheld, held in swap.items():
        text = text.replace(unheld, held)
    return r.status_code, text


def test_another_shops_ids_answer_exactly_as_ids_nobody_holds(
    service: ServiceWorld, m2_world: dict[str, str]
) -> None:
    """Issue 12 item 11: POST /orders (and /after-sales, /ingest/...) with m2's order id used to
    answer 409 where a free id answered 201: a merchant could probe or claim another's ids."""
    spec = service.client.get("/openapi.json").json()
    unheld = _unheld(m2_world)
    swap = {unheld[k]: v for k, v in m2_world.items() if unheld[k] != v}
    held_calls, free_calls = _calls(spec, m2_world), _calls(spec, unheld)
    problems = []
    for who in PROBERS:
        auth = service.fresh_auth(who)
        for (method, url, held), (_, free_url, free) in zip(held_calls, free_calls, strict=True):
            if url == "/tokens/rotate":
                continue  # ends the caller's token; it takes no id
            answers = []
            for where, kwargs in ((url, dict(held)), (free_url, dict(free))):
                headers = {**auth, **kwargs.pop("headers", {})}
                r = service.client.request(method, where, headers=headers, **kwargs)
                answers.append(_answer(r, swap))
            if answers[0] != answers[1]:
                problems.append(f"{who} {method} {url}: {answers[0]} != {answers[1]}")
    assert not problems, "\n".join(problems)


def test_creating_with_another_shops_id_answers_as_with_a_free_one(
    service: ServiceWorld, m1_world: dict[str, str], m2_world: dict[str, str]
) -> None:
    """Issue 12 item 11: as m1, POST /orders with m2's order id and m1's own merchant id used
    to answer 409 where a free id answered 201 (and the same for after-sales ids, batches and
    CSV): an id's existence anywhere was one request away. Every create route is walked with
    the colliding id and with a free one; the answers must be the same, and nothing created."""
    c = service.client
    order = {"merchant_id": "m1", "merchant_type": "domestic", "category": "服饰内衣>女装",
             "ship_mode": "spot", "pay_time": "2024-02-09 10:00:00"}  # fmt: skip
    after_sale = {"order_id": M1_ORDER, "type": "refund_only", "created_at": "2024-02-11 10:00:00"}

    def creates(order_id: str, aftersale_id: str, account_id: str) -> list[tuple[str, Any]]:
        row = {**order, "order_id": order_id}
        sale = {**after_sale, "aftersale_id": aftersale_id}
        csv = "order_id,merchant_id,merchant_type,category,ship_mode,pay_time\n" + (
            f"{order_id},m1,domestic,服饰内衣>女装,spot,2024-02-09 10:00:00\n"
        )
        return [
            ("/orders", {"json": row}),
            ("/after-sales", {"json": sale}),
            ("/ingest/orders", {"json": {"rows": [row]}}),
            ("/ingest/after_sales", {"json": {"rows": [sale]}}),
            ("/ingest/orders/csv", {"content": csv, "headers": {"Content-Type": "text/csv"}}),
            ("/sub-accounts", {"json": {"account_id": account_id, "name": "x"}}),
        ]

    held = creates(M2_ORDER, M2_AFTERSALE, "m2.sub")
    free = creates("free-order", "free-as", "m2.free")
    problems = []
    for who in ("m1.main", "m1.sub", "m1.clerk"):
        auth = service.auth(who)
        for (path, theirs), (_, unheld) in zip(held, free, strict=True):
            answers = []
            for kwargs in (theirs, unheld):
                headers = {**auth, **kwargs.get("headers", {})}
                body = {k: v for k, v in kwargs.items() if k != "headers"}
                r = c.post(path, headers=headers, **body)
                text = r.text.replace("free-order", M2_ORDER).replace("free-as", M2_AFTERSALE)
                answers.append((r.status_code, text.replace("m2.free", "m2.sub")))
            if answers[0] != answers[1] or answers[0][0] < 400:
                problems.append(f"{who} POST {path}: {answers[0]} vs {answers[1]}")
    assert not problems, "\n".join(problems)
    operator = service.auth("operator")
    assert c.get("/orders/free-order", headers=operator).status_code == 404
    assert c.get(f"/orders/{M2_ORDER}", headers=operator).json()["merchant_id"] == "m2"

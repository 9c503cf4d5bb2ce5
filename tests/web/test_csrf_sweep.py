"""Every console form post refuses a cross-site request, and a flash message says only what the
console said (issue 12, what the hostile review did not reach). The posts are walked from the
console's own routes, so a form added later is swept too."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi.routing import APIRoute
from webkit import browser, console_app, csrf_of, login

from lvyue.api.testing import ServiceWorld
from lvyue.web import pages

SHOPS_FORMS = ("operator", "m1.main", "m1.sub")


def _form_posts(service: ServiceWorld) -> list[str]:
    """The console's own routes and those of every page router (included without a prefix)."""
    console = console_app(service.client.app)  # type: ignore[arg-type]
    routes = [*console.routes, *(r for router in pages.routers() for r in router.routes)]
    paths = []
    for route in routes:
        if isinstance(route, APIRoute) and "POST" in route.methods and route.path != "/login":
            path = route.path
            for name in route.param_convertors:
                path = path.replace("{" + name + "}", "1")
            paths.append("/console" + path)
    return sorted(paths)


def _audit_count(service: ServiceWorld) -> int:
    r = service.client.get("/audit", params={"limit": 500}, headers=service.auth("operator"))
    assert r.status_code == 200, r.text
    assert len(r.json()) < 500  # all of it
    return len(r.json())


def test_every_form_post_refuses_a_request_without_the_sessions_token(
    service: ServiceWorld,
) -> None:
    posts = _form_posts(service)
    assert len(posts) >= 15, posts  # the sweep sees the console's forms
    clients = {key: login(service, key) for key in SHOPS_FORMS}
    before = _audit_count(service)
    accepted = []
    for key, client in clients.items():
        for path in posts:
            for token in (None, "forged"):
                data = {"name": "x", "week": "2024-W06", "decision": "approve"}
                if token is not None:
                    data["csrf_token"] = token
                r = client.post(path, data=data)
                if r.status_code != 403 or "CSRF" not in r.text:
                    accepted.append(f"{key} {path} token={token}: {r.status_code}")
    assert not accepted, "\n".join(accepted)
    assert _audit_count(service) == before  # nothing was done
    stranger = browser(service)  # the log-in form's own double-submit token
    r = stranger.post(
        "/console/login",
        data={
            "name": "m1.main",
            "password": service.accounts["m1.main"].password,
            "csrf_token": "x",
        },
    )
    assert r.status_code == 403


def test_a_flash_message_is_one_encoded_parameter_signed_for_the_session(
    service: ServiceWorld,
) -> None:
    """Used to be `?done=岗位 {name} 已保存` as typed: a name with "&error=…#" added parameters,
    and any link `/console/positions?done=<text>` made the console show that text."""
    main = login(service, "m1.main")
    token = csrf_of(main.get("/console/positions").text)
    name = "仓库&error=伪造#frag"
    saved = main.post(
        "/console/positions",
        data={"csrf_token": token, "name": name, "permissions": ["orders:view"]},
    )
    assert saved.status_code == 303
    target = urlsplit(saved.headers["location"])
    assert target.path == "/console/positions" and not target.fragment
    query = parse_qs(target.query)
    assert set(query) == {"done", "sig"}, query
    assert query["done"] == [f"岗位 {name} 已保存"]
    shown = main.get(saved.headers["location"]).text
    assert "岗位 仓库&amp;error=伪造#frag 已保存" in shown
    crafted = "/console/positions?done=账号已冻结，请联系客服&error=<script>alert(1)</script>"
    page = main.get(crafted).text
    assert "账号已冻结" not in page and "<script>alert" not in page
    forged = main.get(f"/console/positions?done=账号已冻结&sig={query['sig'][0]}").text
    assert "账号已冻结" not in forged
    other = login(service, "m2.main")  # another session: the same link shows nothing there
    assert "已保存" not in other.get(saved.headers["location"]).text

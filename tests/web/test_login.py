"""Console log-in: passwords, cookie sessions apart from API tokens, CSRF, the throttle."""

from __future__ import annotations

from webkit import browser, csrf_of, login

from lvyue.api.testing import ServiceWorld
from lvyue.web.security import LoginThrottle


def test_log_in_sets_a_secure_httponly_samesite_session(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    client = browser(service)
    form = client.get("/console/login")
    answer = client.post(
        "/console/login",
        data={
            "name": "m1.main",
            "password": service.accounts["m1.main"].password,
            "csrf_token": csrf_of(form.text),
            "next": "/console/orders",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/orders"
    cookie = next(h for h in answer.headers.get_list("set-cookie") if "lvyue_console=" in h)
    lowered = cookie.lower()
    assert "secure" in lowered and "httponly" in lowered and "samesite=strict" in lowered
    assert client.get("/console/orders").status_code == 200


def test_wrong_password_and_unknown_name_are_refused_alike(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    for name, password in (("m1.main", "not-the-password"), ("nobody", "whatever-it-is")):
        client = browser(service)
        form = client.get("/console/login")
        answer = client.post(
            "/console/login",
            data={"name": name, "password": password, "csrf_token": csrf_of(form.text)},
        )
        assert answer.status_code == 401
        assert "账号或密码错误" in answer.text
        assert "lvyue_console=" not in answer.headers.get("set-cookie", "")


def test_pages_need_a_session_and_a_bearer_token_is_not_one(service: ServiceWorld) -> None:
    client = browser(service)
    answer = client.get("/console/orders", headers=service.auth("m1.main"))
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/login?next=")


def test_the_session_cookie_does_not_authenticate_the_api(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    client = login(service, "m1.main")
    assert client.get("/console/orders").status_code == 200
    assert client.get("/orders").status_code == 401


def test_log_in_without_its_csrf_token_is_refused(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    client = browser(service)
    client.get("/console/login")
    answer = client.post(
        "/console/login",
        data={"name": "m1.main", "password": service.accounts["m1.main"].password},
    )
    assert answer.status_code == 403
    assert "CSRF" in answer.text


def test_log_in_throttle_holds_even_for_the_right_password(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    client = browser(service)
    for _ in range(fresh_throttle.limit):
        form = client.get("/console/login")
        wrong = {
            "name": "m2.main",
            "password": "guess-guess-guess",
            "csrf_token": csrf_of(form.text),
        }
        assert client.post("/console/login", data=wrong).status_code == 401
    form = client.get("/console/login")
    right = {
        "name": "m2.main",
        "password": service.accounts["m2.main"].password,
        "csrf_token": csrf_of(form.text),
    }
    answer = client.post("/console/login", data=right)
    assert answer.status_code == 429
    assert "尝试次数过多" in answer.text
    # Another name is not locked by m2.main's failures (one below the address limit).
    assert login(service, "m1.main").get("/console/orders").status_code == 200


def test_log_out_needs_csrf_and_ends_the_session(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    client = login(service, "m1.main")
    page = client.get("/console/orders")
    assert client.post("/console/logout").status_code == 403
    assert (
        client.post("/console/logout", data={"csrf_token": csrf_of(page.text)}).status_code == 303
    )
    assert client.get("/console/orders").status_code == 303


def test_next_after_log_in_stays_inside_the_console(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    client = browser(service)
    form = client.get("/console/login")
    answer = client.post(
        "/console/login",
        data={
            "name": "m1.main",
            "password": service.accounts["m1.main"].password,
            "csrf_token": csrf_of(form.text),
            "next": "//evil.example/console/",
        },
    )
    assert answer.headers["location"] == "/console/"

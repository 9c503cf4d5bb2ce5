"""Helpers for the console tests: a cookie-keeping client, log-in, CSRF fields."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Mount

from lvyue.api.testing import ServiceWorld

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_app(app: FastAPI) -> FastAPI:
    for route in app.routes:
        if isinstance(route, Mount) and route.path == "/console":
            assert isinstance(route.app, FastAPI)
            return route.app
    raise AssertionError("console not mounted")


def browser(service: ServiceWorld) -> TestClient:
    """A new client with its own cookie jar, not following redirects."""
    return TestClient(service.client.app, base_url="https://testserver", follow_redirects=False)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def login(service: ServiceWorld, key: str, password: str | None = None) -> TestClient:
    client = browser(service)
    form = client.get("/console/login")
    assert form.status_code == 200
    answer = client.post(
        "/console/login",
        data={
            "name": service.accounts[key].account_id,
            "password": password if password is not None else service.accounts[key].password,
            "csrf_token": csrf_of(form.text),
        },
    )
    assert answer.status_code == 303, answer.text
    return client

"""A console GET with an oversized query string is answered promptly (414) before any work
is spent on it: in-process and through a real uvicorn server."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
from webkit import login

from lvyue.api.loopback import serve_on_loopback
from lvyue.api.testing import ServiceWorld
from lvyue.web.security import LoginThrottle


def _cookie_header(service: ServiceWorld) -> str:
    client = login(service, "m1.main")
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def _raw_get(base: str, target: str, cookie: str) -> bytes:
    where = urlsplit(base)
    with socket.create_connection((where.hostname, where.port), timeout=10) as conn:
        head = f"GET {target} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n"
        request = head + "Connection: close\r\n\r\n"
        conn.sendall(request.encode())
        return conn.recv(200)


@pytest.mark.parametrize("size", [9_000, 60_000])
def test_an_oversized_query_string_is_refused_promptly(
    service: ServiceWorld, fresh_throttle: LoginThrottle, size: int
) -> None:
    client = login(service, "m1.main")
    started = time.monotonic()
    answer = client.get("/console/orders?merchant=" + "a" * size)
    assert answer.status_code == 414, answer.status_code
    assert time.monotonic() - started < 5 and len(answer.content) < 200  # no echo


def test_a_query_string_of_8_kib_is_still_read(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    client = login(service, "m1.main")
    pad = "&pad=" + "a" * (8 * 1024 - len("merchant=m1&pad="))
    assert client.get("/console/orders?merchant=m1" + pad).status_code == 200
    assert client.get("/console/orders?merchant=m1" + pad + "a").status_code == 414
    api = service.client.get("/orders?x=" + "a" * 9_000, headers=service.auth("m1.main"))
    assert api.status_code == 414  # the API alike


def test_a_real_server_answers_an_oversized_query_string(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    cookie = _cookie_header(service)
    with serve_on_loopback(service.client.app) as base:  # type: ignore[arg-type]
        started = time.monotonic()
        head = _raw_get(base, "/console/orders?merchant=" + "a" * 9_000, cookie)
        assert head.split(b" ")[1] == b"414", head
        assert time.monotonic() - started < 5
        ok = _raw_get(base, "/console/orders?merchant=m1", cookie)
        assert ok.split(b" ")[1] in (b"200", b"303"), ok  # an ordinary request still served

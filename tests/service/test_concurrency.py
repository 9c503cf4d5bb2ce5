"""Concurrent writes of the same record (issue 12 item 4): a real server on loopback, requests
in parallel threads, so each runs its own database transaction at the same time as the others.
Every request must get an answer that is not a server error, and the final state must be the
one a single request would leave."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from lvyue.api.app import create_app
from lvyue.api.loopback import serve_on_loopback
from lvyue.api.testing import TEST_SALT, ServiceWorld
from lvyue.model import TrackingEvent, TrackingKind, parse_instant
from lvyue.tracking.kuaidi100 import encode_push

PARALLEL = 20


@pytest.fixture(scope="module")
def base_url(service: ServiceWorld) -> Iterator[str]:
    app = create_app(service.url, kuaidi100_salt=TEST_SALT)
    with serve_on_loopback(app) as url:
        yield url
    app.state.engine.dispose()


def fire(times: int, send: Callable[[httpx.Client], httpx.Response]) -> list[httpx.Response]:
    """``send`` ``times`` at once, each from its own thread and connection."""
    return fire_numbered(times, lambda client, _: send(client))


def fire_numbered(
    times: int, send: Callable[[httpx.Client, int], httpx.Response]
) -> list[httpx.Response]:
    """``send(client, i)`` for i in range(times), all at once from their own threads."""
    with ThreadPoolExecutor(max_workers=times) as pool:

        def one(number: int) -> httpx.Response:
            with httpx.Client(timeout=60) as client:
                return send(client, number)

        return list(pool.map(one, range(times)))


def order(order_id: str) -> dict[str, str]:
    return {
        "order_id": order_id,
        "merchant_id": "m1",
        "merchant_type": "domestic",
        "category": "服饰内衣>女装",
        "ship_mode": "spot",
        "pay_time": "2024-03-01 09:00:00",
    }


def statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def test_parallel_identical_orders_with_one_key(service: ServiceWorld, base_url: str) -> None:
    headers = {**service.auth("operator"), "Idempotency-Key": "same-order-1"}
    answers = fire(
        PARALLEL, lambda c: c.post(f"{base_url}/orders", json=order("c-1"), headers=headers)
    )
    assert statuses(answers) == {201: PARALLEL}
    assert {r.json()["outcome"] for r in answers} == {"created"}  # all answered as the first
    got = service.client.get("/orders/c-1", headers=service.auth("m1.main")).json()
    assert got["pay_time"] == "2024-03-01T09:00:00+08:00"


def test_parallel_identical_orders_without_a_key(service: ServiceWorld, base_url: str) -> None:
    headers = service.auth("operator")  # the platform's order feed
    answers = fire(
        PARALLEL, lambda c: c.post(f"{base_url}/orders", json=order("c-2"), headers=headers)
    )
    assert statuses(answers) == {201: PARALLEL}
    outcomes = Counter(r.json()["outcome"] for r in answers)
    assert outcomes == {"created": 1, "unchanged": PARALLEL - 1}


def test_parallel_shipments_of_one_order(service: ServiceWorld, base_url: str) -> None:
    auth, feed = service.auth("m1.main"), service.auth("operator")
    assert service.client.post("/orders", json=order("c-3"), headers=feed).status_code == 201
    same = {"carrier": "zhongtong", "waybill": "ZTC3"}  # shipped now (server clock)
    answers = fire(
        PARALLEL, lambda c: c.post(f"{base_url}/orders/c-3/shipment", json=same, headers=auth)
    )
    assert statuses(answers) == {201: PARALLEL}
    assert Counter(r.json()["outcome"] for r in answers)["created"] == 1

    assert service.client.post("/orders", json=order("c-4"), headers=feed).status_code == 201

    def rival(c: httpx.Client, number: int) -> httpx.Response:
        waybill = f"ZTC4{number}"
        body = {"carrier": "zhongtong", "waybill": waybill}  # shipped now (server clock)
        return c.post(f"{base_url}/orders/c-4/shipment", json=body, headers=auth)

    answers = fire_numbered(PARALLEL, rival)  # different waybills: one wins, the others are refused
    assert statuses(answers) == {201: 1, 409: PARALLEL - 1}
    got = service.client.get("/orders/c-4", headers=auth).json()
    (winner,) = [r for r in answers if r.status_code == 201]
    assert winner.json()["outcome"] == "created"
    assert got["shipment"]["waybill"].startswith("ZTC4")


def test_repeated_kuaidi100_pushes_of_the_same_scans(service: ServiceWorld, base_url: str) -> None:
    auth, op = service.auth("m1.main"), service.auth("operator")
    # the platform's record of a past shipment: its past scans are taken as recorded
    shipped = {"carrier": "zhongtong", "waybill": "ZTC5", "ship_time": "2024-03-01 12:00:00"}
    assert (
        service.client.post("/orders", json={**order("c-5"), **shipped}, headers=op).status_code
        == 201
    )
    scans = [
        TrackingEvent("zhongtong", "ZTC5", parse_instant(when), kind, "杭州", text)
        for when, kind, text in [
            ("2024-03-01 18:00:00", TrackingKind.PICKUP, "【杭州市】快件已揽收"),
            ("2024-03-02 02:00:00", TrackingKind.HUB_ARRIVAL, "快件已到达【杭州转运中心】"),
        ]
    ]
    form = encode_push("zhongtong", "ZTC5", scans, salt=TEST_SALT)
    carrier = service.auth("carrier")
    answers = fire(
        PARALLEL,
        lambda c: c.post(f"{base_url}/carriers/kuaidi100/push", data=form, headers=carrier),
    )
    assert statuses(answers) == {200: PARALLEL}
    got = service.client.get("/orders/c-5", headers=auth).json()
    assert [e["kind"] for e in got["tracking"]] == ["pickup", "hub_arrival"]

"""Every list endpoint is paginated (issue 15): ``limit``/``offset`` like /orders, the total in
``X-Total-Count``; out-of-range paging is a 422."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from lvyue.api.testing import ServiceWorld

if TYPE_CHECKING:
    from conftest import Clock

PATHS = ["/violations", "/penalties", "/reports", "/measures", "/delayed-shipping"]
MERCHANT_PATHS = ["/workflows/after-sales", "/btas/inspections"]


def _measures(service: ServiceWorld, n: int) -> list[int]:
    ids = []
    for i in range(n):
        body = {"merchant_id": "m1", "product_id": f"P-{i}", "kind": "delist_product",
                "reason": "test"}  # fmt: skip
        r = service.client.post("/measures", json=body, headers=service.auth("operator"))
        assert r.status_code == 201, r.text
        ids.append(r.json()["measure_id"])
    return ids


def test_measures_come_a_page_at_a_time(service: ServiceWorld, clock: Clock) -> None:
    made = _measures(service, 5)
    get = service.client.get
    first = get("/measures", params={"limit": 2}, headers=service.auth("m1.main"))
    rest = get("/measures", params={"limit": 2, "offset": 2}, headers=service.auth("m1.main"))
    assert first.status_code == rest.status_code == 200
    assert int(first.headers["X-Total-Count"]) >= 5
    pages = [m["measure_id"] for m in first.json() + rest.json()]
    assert len(first.json()) == 2 and len(pages) == 4 and len(set(pages)) == 4
    everything = get("/measures", params={"limit": 500}, headers=service.auth("m1.main")).json()
    assert set(made) <= {m["measure_id"] for m in everything}


@pytest.mark.parametrize("path", PATHS)
def test_every_list_takes_limit_and_offset(service: ServiceWorld, path: str) -> None:
    who = service.auth("operator")
    ok = service.client.get(path, params={"limit": 1, "offset": 0}, headers=who)
    assert ok.status_code == 200, ok.text
    assert len(ok.json()) <= 1 and "X-Total-Count" in ok.headers
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}):
        assert service.client.get(path, params=bad, headers=who).status_code == 422


@pytest.mark.parametrize("path", MERCHANT_PATHS)
def test_merchant_lists_take_limit_and_offset(service: ServiceWorld, path: str) -> None:
    who = service.auth("m1.main")
    ok = service.client.get(path, params={"limit": 1}, headers=who)
    assert ok.status_code == 200, ok.text
    assert len(ok.json()) <= 1 and "X-Total-Count" in ok.headers
    assert service.client.get(path, params={"limit": 501}, headers=who).status_code == 422

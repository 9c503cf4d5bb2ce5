"""Hostile input on the workflow routes: never a server error, always a named refusal."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from lvyue.api.testing import ServiceWorld

if TYPE_CHECKING:
    from conftest import Clock

PATHS = [
    ("get", "/reports/{x}", "m1.main"),
    ("get", "/btas/inspections/{x}", "m1.main"),
    ("get", "/workflows/after-sales/{x}", "m1.main"),
    ("get", "/workflows/orders/{x}/verdicts", "m1.main"),
    ("get", "/workflows/orders/{x}/settlement", "m1.main"),
    ("post", "/measures/{x}/lift", "operator"),
    ("post", "/reports/{x}/withdraw", "m1.main"),
]


@pytest.mark.parametrize(("method", "path", "who"), PATHS)
@pytest.mark.parametrize("ident", ["%00", "a%00b", "9" * 30, "-1", "%F0%9F%8C%B9"])
def test_odd_ids_are_404_or_422(
    service: ServiceWorld, method: str, path: str, who: str, ident: str
) -> None:
    r = service.client.request(method, path.replace("{x}", ident), headers=service.auth(who))
    assert r.status_code in (404, 422), r.text


@pytest.mark.parametrize(
    "body",
    [
        {"type": "force_majeure", "reason": "fire", "description": "a\x00b",
         "period_start": "2026-01-01", "period_end": "2026-01-02"},
        {"type": "force_majeure", "reason": "fire", "description": "x",
         "period_start": "0001-01-01", "period_end": "0001-01-02"},
        {"type": "force_majeure", "reason": "fire", "description": "x",
         "period_start": "9999-12-30", "period_end": "9999-12-31",
         "latest_ship_date": "9999-12-31"},
        {"type": "address_abnormal", "description": "x", "order_ids": ["\x00"]},
        {"type": "force_majeure", "reason": "fire", "description": "x", "regions": ["\x00"],
         "period_start": "2026-01-01", "period_end": "2026-01-02"},
    ],
)  # fmt: skip
def test_odd_report_bodies_are_refused_by_field(
    service: ServiceWorld, clock: Clock, body: dict[str, object]
) -> None:
    r = service.client.post("/reports", json=body, headers=service.auth("m1.main"))
    assert r.status_code == 422, r.text

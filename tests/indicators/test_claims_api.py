"""GET /creators/claims and /creators/measures: a creator sees only its own, a merchant the
claims on its own products and its own measures, operators everything; creator accounts are
made by an operator; bad input 422, no data 503, no token 401."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow.csv as pcsv
import pytest
from claims_market import PAY, ClaimMarket

from lvyue.api.testing import ServiceWorld

AS_OF = {"as_of": "2024-03-01 00:00:00"}
LATE = PAY + timedelta(days=4)


@pytest.fixture
def facts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    m = ClaimMarket()
    for creator, merchant, text in (
        ("C7", "m1", "次日达"),  # false, on m1's product
        ("C8", "m2", "当日达"),  # false, on m2's product
        (None, "m1", "2月10日前包邮到家"),  # m1's own listing, false
    ):
        p = m.promote(text, creator=creator, merchant=merchant, product=f"P-{merchant}")
        m.orders_of(p, 12, signed=LATE, merchant=merchant, product=f"P-{merchant}")
    for name, table in m.tables().items():
        if table is not None:
            pcsv.write_csv(table, tmp_path / f"{name}.csv")
    monkeypatch.setenv("LVYUE_INDICATOR_FACTS", str(tmp_path))
    return tmp_path


def _creator(service: ServiceWorld, creator_id: str) -> dict[str, str]:
    registered = service.client.post("/creators", json={"creator_id": creator_id, "name": "达人"},
                                     headers=service.auth("operator"))  # fmt: skip
    assert registered.status_code == 201, registered.text
    body = {"account_id": f"creator-{creator_id}", "name": "达人", "role": "creator",
            "organisation": creator_id}  # fmt: skip
    made = service.client.post("/accounts", json=body, headers=service.auth("operator"))
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['token']}"}


def test_a_creator_sees_only_its_own(service: ServiceWorld, facts: Path) -> None:
    c7 = _creator(service, "C7")
    mine = service.client.get("/creators/claims", params=AS_OF, headers=c7)
    assert mine.status_code == 200, mine.text
    (claim,) = mine.json()
    assert (claim["creator_id"], claim["phrase"], claim["level"]) == ("C7", "次日达", "severe")
    assert claim["clauses"][:2] == ["VF-9", "CC-3"] and claim["broken"] == 12
    for other in ({"creator_id": "C8"}, {"merchant_id": "m2"}):
        asked = service.client.get("/creators/claims", params={**AS_OF, **other}, headers=c7)
        assert asked.status_code == 404
    (measure,) = service.client.get("/creators/measures", params=AS_OF, headers=c7).json()
    assert (measure["party_id"], measure["kind"]) == ("C7", "withdraw_sharing")
    assert measure["clauses"][:2] == ["VF-9", "CC-5"]


def test_a_merchant_sees_claims_on_its_products_and_its_own_measures(
    service: ServiceWorld, facts: Path
) -> None:
    m1 = service.auth("m1.main")
    claims = service.client.get("/creators/claims", params=AS_OF, headers=m1).json()
    assert sorted((c["party_id"], c["merchant_id"]) for c in claims) == [("C7", "m1"), ("m1", "m1")]
    asked = service.client.get("/creators/claims", params={**AS_OF, "merchant_id": "m2"},
                               headers=m1)  # fmt: skip
    assert asked.status_code == 404
    (measure,) = service.client.get("/creators/measures", params=AS_OF, headers=m1).json()
    assert (measure["party"], measure["party_id"], measure["kind"]) == (
        "merchant", "m1", "delist_product")  # fmt: skip
    assert measure["products"] == ["P-m1"]
    theirs = service.client.get("/creators/measures", params={**AS_OF, "creator_id": "C7"},
                                headers=m1)  # fmt: skip
    assert theirs.status_code == 404


def test_operators_see_everything_and_bad_input(
    service: ServiceWorld, facts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    op = service.auth("operator")
    everything = service.client.get("/creators/claims", params=AS_OF, headers=op).json()
    assert {c["party_id"] for c in everything} == {"C7", "C8", "m1"}
    one = service.client.get("/creators/measures", params={**AS_OF, "creator_id": "C8"},
                             headers=op).json()  # fmt: skip
    assert [(m["party_id"], m["kind"]) for m in one] == [("C8", "withdraw_sharing")]
    assert service.client.get("/creators/claims").status_code == 401
    assert (
        service.client.get("/creators/claims", headers=service.auth("carrier")).status_code == 403
    )
    bad = service.client.get("/creators/claims", params={"as_of": "soon"}, headers=op)
    assert bad.status_code == 422
    no_id = {"account_id": "creator-x", "name": "达人", "role": "creator"}
    assert service.client.post("/accounts", json=no_id, headers=op).status_code == 422
    monkeypatch.delenv("LVYUE_INDICATOR_FACTS")
    bad_dir = {"LVYUE_INDICATOR_FACTS": "/nonexistent/lvyue"}
    monkeypatch.setenv(*next(iter(bad_dir.items())))
    assert service.client.get("/creators/claims", headers=op).status_code == 503
    monkeypatch.delenv("LVYUE_INDICATOR_FACTS")  # no snapshot: the service's own data
    stored = service.client.get("/creators/claims", headers=op)
    assert stored.status_code == 200 and stored.json() == []


def test_claims_and_measures_are_paginated(service: ServiceWorld, facts: Path) -> None:
    """Every list endpoint pages (issue 15): limit/offset, the total in X-Total-Count."""
    op = service.auth("operator")
    for path in ("/creators/claims", "/creators/measures"):
        whole = service.client.get(path, params=AS_OF, headers=op)
        total = len(whole.json())
        assert total >= 2 and whole.headers["X-Total-Count"] == str(total)
        first = service.client.get(path, params={**AS_OF, "limit": 1}, headers=op)
        rest = service.client.get(path, params={**AS_OF, "offset": 1}, headers=op)
        assert len(first.json()) == 1 and first.headers["X-Total-Count"] == str(total)
        assert first.json() + rest.json() == whole.json()
        bad = service.client.get(path, params={**AS_OF, "limit": 0}, headers=op)
        assert bad.status_code == 422

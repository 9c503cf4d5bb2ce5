"""GET /indicators and /indicators/measures: a merchant sees its own indicators and proposed
measures with the clauses and why; never another's; operators see every merchant; bad input
is 422, no data 503."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pcsv
import pytest
from helpers import Market

from lvyue.api.testing import ServiceWorld

AS_OF = "2024-02-16 00:00:00"


@pytest.fixture
def facts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    m = Market()
    for merchant, defects in (("m1", 12), ("m2", 1), ("m3", 1), ("m4", 0)):
        ids = m.add_orders(merchant, 100)
        for oid in ids[:defects]:
            m.after_sale(oid, "defect", kind="refund_only")
    for name, table in m.tables().items():
        if table is not None:
            pcsv.write_csv(table, tmp_path / f"{name}.csv")
    monkeypatch.setenv("LVYUE_INDICATOR_FACTS", str(tmp_path))
    return tmp_path


def test_a_merchant_sees_only_its_own_indicators(service: ServiceWorld, facts: Path) -> None:
    query = {"as_of": AS_OF, "festival": "VF-8"}
    mine = service.client.get("/indicators", params=query, headers=service.auth("m1.main"))
    assert mine.status_code == 200, mine.text
    assert {r["merchant_id"] for r in mine.json()} == {"m1"}
    defect = next(f for f in mine.json()[0]["findings"] if f["indicator"] == "defect_rate")
    assert (defect["label"], defect["level"], defect["value"]) == ("残次率", "severe", 0.12)
    assert defect["clauses"][0] == "IND-7" and "industry median" in defect["why"]
    asked = service.client.get(
        "/indicators", params={**query, "merchant_id": "m1"}, headers=service.auth("m2.main")
    )
    assert asked.status_code == 404  # another's: not even shown to exist
    everyone = service.client.get("/indicators", params=query, headers=service.auth("operator"))
    assert {r["merchant_id"] for r in everyone.json()} == {"m1", "m2", "m3", "m4"}


def test_bad_input_and_missing_data(
    service: ServiceWorld, facts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = service.auth("operator")
    assert (
        service.client.get("/indicators", params={"as_of": "soon"}, headers=auth).status_code == 422
    )
    bad = service.client.get("/indicators", params={"festival": "VF-99"}, headers=auth)
    assert bad.status_code == 422 and "VF-99" in bad.text
    assert service.client.get("/indicators").status_code == 401
    monkeypatch.delenv("LVYUE_INDICATOR_FACTS")
    stored = service.client.get("/indicators", headers=auth)  # no snapshot: the store's data
    assert stored.status_code == 200, stored.text


def test_indicators_are_paginated(service: ServiceWorld, facts: Path) -> None:
    """Every list endpoint pages (issue 15): limit/offset, the total in X-Total-Count."""
    query = {"as_of": AS_OF, "festival": "VF-8"}
    auth = service.auth("operator")
    whole = service.client.get("/indicators", params=query, headers=auth)
    assert whole.headers["X-Total-Count"] == "4"
    pages = [
        service.client.get("/indicators", params={**query, "limit": 3, "offset": o}, headers=auth)
        for o in (0, 3)
    ]
    assert [len(p.json()) for p in pages] == [3, 1]
    assert [r for p in pages for r in p.json()] == whole.json()
    assert all(p.headers["X-Total-Count"] == "4" for p in pages)


def test_a_merchant_sees_its_own_proposed_measures_citing_their_clauses(
    service: ServiceWorld, facts: Path
) -> None:
    """m1's defect rate 12 % is severe (2 points) and its product P1 abnormal: delisting P1
    (MS-2), from the period's end, until two normal periods later (MS-7), as the CLI says."""
    query = {"as_of": AS_OF, "periods": 1}
    mine = service.client.get("/indicators/measures", params=query,
                              headers=service.auth("m1.main"))  # fmt: skip
    assert mine.status_code == 200, mine.text
    (row,) = mine.json()
    assert (row["merchant_id"], row["product_id"], row["kind"], row["level"]) == (
        "m1", "P1", "delist_product", 2)  # fmt: skip
    assert row["clauses"][:3] == ["VF-8", "MS-2", "IND-7"] and "defect_rate 0.12" in row["reason"]
    assert row["start"] == "2024-02-15T16:00:00Z" and row["end"] is None
    assert row["until"] == "2024-02-29T16:00:00Z"
    theirs = service.client.get("/indicators/measures", params=query,
                                headers=service.auth("m2.main"))  # fmt: skip
    assert theirs.status_code == 200 and theirs.json() == []
    asked = service.client.get("/indicators/measures", params={**query, "merchant_id": "m1"},
                               headers=service.auth("m2.main"))  # fmt: skip
    assert asked.status_code == 404
    everyone = service.client.get("/indicators/measures", params=query,
                                  headers=service.auth("operator"))  # fmt: skip
    assert everyone.json() == mine.json()
    auth = service.auth("operator")
    for bad in ({"periods": 13}, {"as_of": "soon"}):
        assert service.client.get("/indicators/measures", params=bad,
                                  headers=auth).status_code == 422  # fmt: skip
    assert service.client.get("/indicators/measures").status_code == 401

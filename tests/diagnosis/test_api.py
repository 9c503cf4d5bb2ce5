"""Diagnosis endpoints: permission ``logistics_diagnosis:view``, a merchant sees only its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import synth

from lvyue.api.testing import ServiceWorld, service, service_backend  # noqa: F401

# The endpoints only read the database for authentication, which the service's own tests
# cover on both databases: SQLite is enough here.
pytestmark = pytest.mark.parametrize("service_backend", ["sqlite"], indirect=True, scope="module")


@pytest.fixture(scope="module")
def with_facts(
    service: ServiceWorld,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServiceWorld]:
    """The synthetic market, with merchant M000 renamed to the seeded merchant ``m1``."""
    market = synth.make(orders=3_000, merchants=10, weeks=2, seed=5)
    out: Path = tmp_path_factory.mktemp("api-facts")
    for name, table in market.facts.items():
        if "merchant_id" not in table.column_names:
            pq.write_table(table, out / f"{name}.parquet")
            continue
        ids = table.column("merchant_id")
        renamed = pc.if_else(pc.equal(ids, "M000"), "m1", ids)
        table = table.set_column(
            table.schema.get_field_index("merchant_id"), "merchant_id", renamed
        )
        pq.write_table(table, out / f"{name}.parquet")
    patch = pytest.MonkeyPatch()
    patch.setenv("LVYUE_DIAGNOSIS_FACTS", str(out))
    yield service
    patch.undo()


def test_reachability_needs_the_permission(service: ServiceWorld) -> None:  # noqa: F811
    url = "/diagnosis/reachability?carrier=yunda&address=西藏拉萨市城关区北京中路1号&on=2023-03-01"
    ok = service.client.get(url, headers=service.auth("m1.main"))
    assert ok.status_code == 200 and ok.json()["reachable"] is False
    assert service.client.get(url, headers=service.auth("m1.clerk")).status_code == 403
    assert service.client.get(url).status_code == 401
    bad = service.client.get(
        "/diagnosis/reachability?carrier=yunda&address=火星基地", headers=service.auth("m1.main")
    )
    assert bad.status_code == 422 and "province" in bad.json()["detail"]


def test_reachability_api_refuses_unknown_carriers_and_ambiguous_places(  # issue 15
    service: ServiceWorld,  # noqa: F811
) -> None:
    get, who = service.client.get, service.auth("m1.main")
    unknown = get("/diagnosis/reachability?carrier=zhongtomg&on=2023-03-01", headers=who)
    assert unknown.status_code == 422 and "zhongtomg" in unknown.json()["detail"]
    shared = get("/diagnosis/reachability?carrier=yunda&address=鼓楼区中山路1号", headers=who)
    assert shared.status_code == 422 and "ambiguous" in shared.json()["detail"]
    by_city = get("/diagnosis/reachability?city=阿里地区&on=2023-03-01", headers=who).json()
    assert by_city["rules"] and {r["province"] for r in by_city["rules"]} == {"西藏自治区"}
    named = get("/diagnosis/reachability?carrier=中通&province=西藏&on=2023-03-01", headers=who)
    assert {r["carrier"] for r in named.json()["rules"]} == {"zhongtong"}


def test_merchant_sees_own_diagnosis_only(with_facts: ServiceWorld) -> None:
    s = with_facts
    mine = s.client.get("/diagnosis/merchants/m1", headers=s.auth("m1.main"))
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["merchant_id"] == "m1" and body["state"] in ("ready", "cold_start")
    assert s.client.get("/diagnosis/merchants/m1", headers=s.auth("m2.main")).status_code == 404
    assert s.client.get("/diagnosis/merchants/M001", headers=s.auth("operator")).status_code == 200

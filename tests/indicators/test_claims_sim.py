"""The simulator's false claimers (labelled ``false_claims``) are found: a floor on precision
and recall, and the labels are deterministic."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

from lvyue.indicators.creators import build, judge_claims
from lvyue.indicators.creators.report import score
from lvyue.sim import simulate
from lvyue.sim.chunk import with_instants
from lvyue.sim.tables import world_tables
from lvyue.sim.world import build_world


@pytest.fixture(scope="module")
def tables() -> dict[str, Any]:
    return simulate(200_000, 5)


def test_the_labelled_false_claimers_are_found(tables: dict[str, pa.Table]) -> None:
    labels = tables["false_claims"].to_pylist()
    src = build({k: tables[k] for k in ("orders", "tracking", "promotions")})
    outcome = judge_claims(src, datetime(2024, 4, 1, tzinfo=UTC))
    creators = score(outcome.proposals, labels, "creator")
    merchants = score(outcome.proposals, labels, "merchant")
    # measured at this size and seed: creators 8/8 found, no false alarm; merchants 5/5
    assert (creators.labelled, merchants.labelled) == (8, 5)
    for s in (creators, merchants):
        assert s.precision is not None and s.precision >= 0.9
        assert s.recall is not None and s.recall >= 0.8
    assert all(p.clauses[0] == "VF-9" for p in outcome.proposals)


def test_orders_name_promotions_of_their_own_product(tables: dict[str, pa.Table]) -> None:
    promos = {r["promotion_id"]: r for r in tables["promotions"].to_pylist()}
    orders = tables["orders"].select(["product_id", "promotion_id", "pay_time"]).to_pylist()
    attributed = [o for o in orders if o["promotion_id"] is not None]
    assert len(attributed) > 1_000
    for o in attributed:
        p = promos[o["promotion_id"]]
        assert p["product_id"] == o["product_id"] and p["published_at"] <= o["pay_time"]


def test_labels_are_deterministic(tables: dict[str, pa.Table]) -> None:
    world = build_world(200_000, 5)  # the world alone: no order is drawn again
    assert world_tables(world)["false_claims"].equals(tables["false_claims"])
    assert with_instants(world_tables(world)["promotions"]).equals(tables["promotions"])

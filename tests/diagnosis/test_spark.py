"""The same Ibis expressions on a local PySpark session give DuckDB's answers."""

from __future__ import annotations

import math
from typing import Any

import ibis
import pytest
import synth

from lvyue.diagnosis import build, outlet_week, parse_week, route_week
from lvyue.diagnosis.capability import carrier_capability
from lvyue.diagnosis.metrics import rows

pytestmark = pytest.mark.spark

WEEK = parse_week("2023-W02")


@pytest.fixture(scope="module")
def spark(spark: Any) -> Any:
    """The run's one Spark session (tests/conftest.py) as an Ibis backend."""
    return ibis.pyspark.connect(spark)


def _same(left: list[dict[str, Any]], right: list[dict[str, Any]], keys: tuple[str, ...]) -> None:
    by_key = {tuple(r[k] for k in keys): r for r in right}
    assert len(left) == len(right) > 0
    for row in left:
        other = by_key[tuple(row[k] for k in keys)]
        for name, value in row.items():
            if isinstance(value, float):
                # both interpolate exactly; Spark sums in another order (last-digit noise)
                assert math.isclose(value, other[name], rel_tol=1e-6, abs_tol=1e-9), name
            else:
                assert value == other[name], name


def test_governance_and_capability_match_duckdb(spark: Any) -> None:
    market = synth.make(orders=4_000, merchants=10, weeks=3, seed=3)
    duck = ibis.duckdb.connect()
    on_duck = build(market.facts).shipments
    on_spark = build(market.facts, backend=spark).shipments
    for make, keys in (
        (lambda t: route_week(t, WEEK), ("carrier", "origin_city", "dest_city")),
        (lambda t: outlet_week(t, WEEK), ("carrier", "outlet")),
        (lambda t: carrier_capability(t, "M001"), ("carrier",)),
    ):
        _same(rows(duck.to_pyarrow(make(on_duck))), rows(spark.to_pyarrow(make(on_spark))), keys)

"""The same indicator expressions on a local PySpark session give DuckDB's answers."""

from __future__ import annotations

from typing import Any

import ibis
import pytest
from helpers import AS_OF, PAY, Market

from lvyue.indicators import evaluate, span
from lvyue.indicators.judge import Judged

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark(spark: Any) -> Any:
    """The run's one Spark session (tests/conftest.py) as an Ibis backend."""
    return ibis.pyspark.connect(spark)


def _market() -> Market:
    m = Market()
    for k, merchant in enumerate(("M1", "M2", "M3", "M4")):
        ids = m.add_orders(merchant, 40 + 10 * k, product=f"P{k % 2}")
        for oid in ids[: 2 + 3 * k]:
            m.after_sale(oid, ("defect", "not_as_described")[k % 2])
        for oid in ids[: 1 + k]:
            m.complaint(oid)
        for i, oid in enumerate(ids[:25]):
            m.review(oid, 1 + (i + k) % 5)
    return m


def _flat(judged: list[Judged]) -> list[tuple[Any, ...]]:
    return sorted(
        (j.merchant_id, j.product_id, j.orders, j.reviews, name, f.level,
         None if f.value is None else round(f.value, 9))
        for j in judged
        for name, f in j.findings.items()
    )  # fmt: skip


@pytest.mark.parametrize("by_product", [False, True])
def test_indicators_match_duckdb(spark: Any, by_product: bool) -> None:
    m = _market()
    plan = span(PAY, AS_OF, AS_OF)
    duck = evaluate(m.sources(), plan, by_product=by_product)
    on_spark = evaluate(m.sources(spark), plan, by_product=by_product, backend=spark)
    assert _flat(duck) == _flat(on_spark)
    assert any(f.level != "normal" for j in duck for f in j.findings.values())

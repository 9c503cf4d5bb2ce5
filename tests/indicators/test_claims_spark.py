"""The same claim expressions on a local PySpark session give DuckDB's answers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import ibis
import pytest
from claims_market import AS_OF, END_OF_PAY_DAY, PAY, ClaimMarket

from lvyue.indicators.creators import judge_claims

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark(spark: Any) -> Any:
    """The run's one Spark session (tests/conftest.py) as an Ibis backend."""
    return ibis.pyspark.connect(spark)


def _market() -> ClaimMarket:
    m = ClaimMarket()
    for k, text in enumerate(
        ("当日达", "次日达 48小时内发货", "2月14日前包邮到家", "情人节当天送达")
    ):
        p = m.promote(text, creator=f"C{k % 2}" if k < 3 else None, product=f"P{k}")
        m.orders_of(p, 8, signed=END_OF_PAY_DAY, product=f"P{k}")
        m.orders_of(p, 2 + 4 * k, signed=END_OF_PAY_DAY + timedelta(days=6, seconds=1),
                    ship=PAY + timedelta(hours=50), product=f"P{k}")  # fmt: skip
        m.orders_of(p, k, receipt=END_OF_PAY_DAY, product=f"P{k}")
    kept = m.promote("72小时内发货", creator="C9", product="P9")
    m.orders_of(kept, 10, signed=END_OF_PAY_DAY, product="P9")
    late = END_OF_PAY_DAY + timedelta(days=6)  # naming it, not its shop's or product's
    m.orders_of(kept, 10, signed=late, ship=late, merchant="M2", product="P9")
    m.orders_of(kept, 10, signed=late, ship=late, product="P8")
    return m


def test_spark_agrees_with_duckdb(spark: Any) -> None:
    m = _market()
    duck = judge_claims(m.sources(), AS_OF)
    sparked = judge_claims(m.sources(spark), AS_OF, backend=spark)
    assert sparked.findings == duck.findings
    assert sparked.proposals == duck.proposals
    assert {f.level for f in duck.findings} >= {"warn", "severe", "normal"}
    (c9,) = [f for f in sparked.findings if f.party_id == "C9"]
    assert (c9.orders, c9.broken, c9.level) == (10, 0, "normal")  # the borrowed ones left out


def test_spark_agrees_with_duckdb_over_periods(spark: Any) -> None:
    """The periods' filter (the moment an order's claim became final) on both engines."""
    from lvyue.indicators.creators.run import measure_claims

    m = _market()
    late = m.promote("2月10日前包邮到家", creator="C5", product="P5")  # paid after its date
    m.orders_of(late, 10, pay=PAY + timedelta(days=3), signed=PAY + timedelta(days=5),
                product="P5")  # fmt: skip
    duck = measure_claims(m.sources(), AS_OF, 4)
    sparked = measure_claims(m.sources(spark), AS_OF, 4, backend=spark)
    assert [p.findings for p in sparked.periods] == [p.findings for p in duck.periods]
    assert sparked.proposals == duck.proposals
    assert ("creator", "C5") in {(p.party, p.party_id) for p in duck.proposals}

"""One definition, two paths: on simulated marketplaces the online path, the batch path on
DuckDB and the batch path on Spark give identical verdicts (every column)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest

from lvyue.engine import evaluate_batch, evaluate_order, iter_order_facts, verdicts_table
from lvyue.facts import Facts, load_facts
from lvyue.model.time import parse_instant
from lvyue.sim import write_facts

AS_OF = parse_instant("2024-03-20 00:00:00")  # inside the simulated year: some still pending


def _facts(root: Path, orders: int, seed: int) -> Facts:
    write_facts(root, orders=orders, seed=seed, progress=False)
    return load_facts(root)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Facts:
    return _facts(tmp_path_factory.mktemp("sim100k"), 100_000, 20261124)


def test_online_equals_duckdb_on_100k_simulated_orders(big: Facts, rulebook: Any) -> None:
    batch = evaluate_batch(big, AS_OF, rulebook)
    online = verdicts_table(
        [v for of in iter_order_facts(big) for v in evaluate_order(of, AS_OF, rulebook)]
    )
    assert big.orders.num_rows == 100_000
    assert batch.num_rows == online.num_rows
    assert batch.equals(online)
    statuses = set(pc.unique(batch["status"]).to_pylist())
    checks = set(pc.unique(batch["check"]).to_pylist())
    # the comparison covers every status and check, not just the easy ones
    assert {"ok", "violated", "pending", "exempted", "scheduled"} <= statuses
    assert len(checks) == 11  # with presale_promise (issue 10 item 9)
    # VF-8a: the facts carry the platform's interventions (the simulator's); their settlement
    # effect needs a confirmed receipt, which refunded simulated orders rarely have, so it is
    # compared on hand-written orders (test_intervention.py)
    assert pc.count(big.after_sales["intervention"]).as_py() > 0


def test_batch_is_deterministic(big: Facts, rulebook: Any) -> None:
    first = evaluate_batch(big, AS_OF, rulebook)
    assert first.equals(evaluate_batch(big, AS_OF, rulebook))


@pytest.mark.spark
def test_spark_equals_duckdb_on_10k_simulated_orders(
    tmp_path: Path, rulebook: Any, spark: Any
) -> None:
    facts = _facts(tmp_path / "sim10k", 10_000, 7)
    on_spark = evaluate_batch(facts, AS_OF, rulebook, backend="spark", spark=spark)
    on_duckdb = evaluate_batch(facts, AS_OF, rulebook)
    assert on_duckdb.num_rows > 30_000
    assert on_spark.equals(on_duckdb)


# -- the parameter join's window test against its definition ---------------------------------


def _within(v: int | None, lo: int | None, hi: int | None) -> bool:
    """A cell [lo, hi) with open sides as None; a missing clock is in no closed side."""
    return (lo is None or (v is not None and v >= lo)) and (
        hi is None or (v is not None and v < hi)
    )


def test_parameter_windows_with_open_sides_and_missing_clocks(rulebook: Any) -> None:
    """expressions._resolve compares against sentinels (params._open_sides); on every mix of
    open/closed cell sides and missing/below/inside/above clock values it must match exactly
    the rows the IS NULL definition matches."""
    import ibis
    import pyarrow as pa

    from lvyue.engine import expressions as ex
    from lvyue.engine.params import parameter_slices
    from lvyue.rulebook.context import FLAGS, Clock

    cells = [(None, None), (None, 100), (100, None), (100, 200)]
    schema = rulebook.parameter_table().schema
    base = {f.name: None for f in schema} | {f"flag_{f}": False for f in FLAGS}
    table = pa.Table.from_pylist(
        [base | {"parameter": "pickup.limit", "merchant_type": "domestic", "category_key": f"c{i}",
                 "ship_mode": "spot", "ship_time_from": lo, "ship_time_to": hi,
                 "value_kind": "instant", "value_instant": i, "clause_id": f"X-{i}"}
         for i, (lo, hi) in enumerate(cells)],
        schema,
    )  # fmt: skip
    values = [None, 50, 99, 100, 150, 199, 200, 250]
    rows = pa.table({
        "row": list(range(len(cells) * len(values))),
        "merchant_type": ["domestic"] * len(cells) * len(values),
        "category_key": [f"c{i}" for i in range(len(cells)) for _ in values],
        "ship_mode": ["spot"] * len(cells) * len(values),
        **{f: [False] * len(cells) * len(values) for f in FLAGS},
        "ship_time": pa.array(values * len(cells), pa.int64()),
    })  # fmt: skip
    con = ibis.duckdb.connect()
    part = parameter_slices(table)["pickup.limit"]
    assert part.clocks == {Clock.SHIP_TIME}
    unused: Any = None  # _resolve reads only the parameter slices
    slice_ = ex.ParamSlice(ibis.memtable(part.table), part.clocks, part.flags)
    inp = ex.Inputs(unused, unused, unused, unused, unused, {"pickup.limit": slice_},
                    unused, unused, unused)  # fmt: skip
    window = {Clock.SHIP_TIME: "ship_time"}
    joined = ex._resolve(inp, ibis.memtable(rows), "pickup.limit", window, window)
    got = set(con.to_pyarrow(joined.select("row"))["row"].to_pylist())
    want = {i * len(values) + j for i, (lo, hi) in enumerate(cells)
            for j, v in enumerate(values) if _within(v, lo, hi)}  # fmt: skip
    assert got == want
    assert len(want) == 18  # not vacuous: each cell meets some values and misses others
    assert {i * len(values) for i in range(len(cells))} & got == {0}  # missing: open cell only

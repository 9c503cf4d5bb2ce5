"""Issue 11 item 6: the hand-written reference SQL of the engine benchmark
(benchmarks/engine_reference.sql) gives the verdicts of ``lvyue evaluate`` on a small
simulated set, so the benchmark cannot drift from the engine unnoticed. (It had: it counted
the pre-inspection flag twice, and knew neither the refund exemption nor waybill ownership.)"""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from lvyue.cli.main import app

BENCH = Path(__file__).parents[2] / "benchmarks" / "bench_engine.py"
AS_OF = "2024-03-20 00:00:00"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_engine_under_test", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,500 simulated orders, plus one shipped an hour after another with that order's
    waybill (the scans must not count for it), and a few listed with pre-inspection."""
    from lvyue.sim import write_facts

    directory = tmp_path_factory.mktemp("reference-sql")
    write_facts(directory, orders=1500, seed=11, progress=False)
    path = directory / "orders.parquet"
    orders = pq.read_table(path)
    shipped = pc.and_(pc.is_valid(orders["waybill"]), pc.is_valid(orders["ship_time"]))
    first = orders.filter(shipped).slice(0, 1).to_pylist()[0]
    later = first["ship_time"] + timedelta(hours=1)
    copy = {**first, "order_id": f"{first['order_id']}9", "ship_time": later}
    orders = pa.concat_tables([orders, pa.Table.from_pylist([copy], schema=orders.schema)])
    pre = [i % 97 == 0 for i in range(orders.num_rows)]
    pq.write_table(orders.append_column("pre_inspection", pa.array(pre)), path)
    return directory


def test_the_reference_sql_gives_the_verdicts_of_lvyue_evaluate(
    facts: Path, tmp_path: Path
) -> None:
    out = tmp_path / "evaluate.parquet"
    result = CliRunner().invoke(app, ["evaluate", str(facts), "--as-of", AS_OF, "--out", str(out)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    bench = _bench()
    reference = tmp_path / "reference.parquet"
    bench._run_sql(str(facts), str(reference))
    engine = _verdicts(out, "epoch(deadline)::BIGINT", "epoch(done_at)::BIGINT")
    sql = _verdicts(reference, "deadline", "done_at")
    con = duckdb.connect()
    only_engine = con.execute(f"{engine} EXCEPT ALL {sql} LIMIT 5").fetchall()
    only_sql = con.execute(f"{sql} EXCEPT ALL {engine} LIMIT 5").fetchall()
    assert only_engine == [] and only_sql == [], (only_engine, only_sql)
    total = con.execute(f"SELECT count(*), count(DISTINCT status) FROM ({engine})").fetchone()
    assert total is not None and total[0] > 5000 and total[1] >= 4
    reused = f"SELECT order_id FROM ({engine}) WHERE \"check\" = 'waybill_reuse'"
    assert len(con.execute(reused).fetchall()) == 1  # the copy shipped an hour later


def _verdicts(path: Path, deadline: str, done_at: str) -> str:
    columns = 'order_id, aftersale_id, merchant_id, "check", status, clauses, reason'
    return f"SELECT {columns}, {deadline} AS deadline, {done_at} AS done_at " \
        f"FROM read_parquet('{path}')"  # fmt: skip

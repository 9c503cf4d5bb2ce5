"""``evaluate_file``, the out-of-core path of ``lvyue evaluate``: the facts read by DuckDB from
the files, the verdicts written by DuckDB, the same verdicts as the in-memory batch path."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from lvyue.cli.main import app
from lvyue.engine import VERDICT_SCHEMA, duck, evaluate_batch, evaluate_file
from lvyue.engine.penalties import late_orders, late_orders_of, penalties
from lvyue.facts import FactsError, load_facts
from lvyue.model.time import format_instant, parse_instant
from lvyue.sim import write_facts

AS_OF = parse_instant("2024-03-20 00:00:00")


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sim5k")
    write_facts(root, orders=5_000, seed=11, progress=False)
    return root


@pytest.fixture(scope="module")
def expected(sim: Path, rulebook: Any) -> pa.Table:
    return evaluate_batch(load_facts(sim), AS_OF, rulebook)


def test_parquet_output_equals_the_in_memory_batch(
    sim: Path, expected: pa.Table, rulebook: Any, tmp_path: Path
) -> None:
    out = tmp_path / "v.parquet"
    run = evaluate_file(sim, AS_OF, rulebook, out)
    schema = pq.read_schema(out)
    for name in ("deadline", "done_at"):  # instants, not numbers that would cast silently
        assert pa.types.is_timestamp(schema.field(name).type) and schema.field(name).type.tz
    written = pq.read_table(out).cast(VERDICT_SCHEMA)
    assert written.equals(expected)  # same rows, same canonical order
    assert run.rows == expected.num_rows > 20_000
    statuses = Counter(zip(expected["check"].to_pylist(), expected["status"].to_pylist(),
                           strict=True))  # fmt: skip
    assert run.counts == statuses
    assert run.facts_counts["orders"] == (5_000, 5_000, 0)
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_big_outputs_sorted_a_slice_at_a_time_are_the_same_file(
    sim: Path, rulebook: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    one_sort = tmp_path / f"one{suffix}"
    evaluate_file(sim, AS_OF, rulebook, one_sort)  # small: DuckDB sorts and writes in one COPY
    monkeypatch.setattr(duck, "ONE_SORT_ROWS", 0)
    monkeypatch.setattr(duck, "SLICE_ROWS", 997)  # ~25 slices of orders, streamed to pyarrow
    sliced = tmp_path / f"sliced{suffix}"
    seen: list[float] = []
    run = evaluate_file(sim, AS_OF, rulebook, sliced, progress=seen.append)
    if suffix == ".csv":
        assert sliced.read_text(encoding="utf-8") == one_sort.read_text(encoding="utf-8")
    else:
        assert pq.read_schema(sliced).field("deadline").type.tz == "UTC"
        assert (
            pq.read_table(sliced)
            .cast(VERDICT_SCHEMA)
            .equals(pq.read_table(one_sort).cast(VERDICT_SCHEMA))
        )
    assert run.rows > 20_000
    steps = [p for p in seen if p > 70]  # after the checks ran: one step per slice
    assert len(steps) >= 20 and steps == sorted(steps) and steps[-1] == 100


def test_csv_output_has_iso_beijing_times(
    sim: Path, expected: pa.Table, rulebook: Any, tmp_path: Path
) -> None:
    out = tmp_path / "v.csv"
    evaluate_file(sim, AS_OF, rulebook, out)
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == expected.num_rows
    for got, want in zip(rows[:2000], expected.slice(0, 2000).to_pylist(), strict=True):
        assert got["order_id"] == want["order_id"] and got["check"] == want["check"]
        for name in ("deadline", "done_at"):
            moment = want[name]
            assert got[name] == ("" if moment is None else format_instant(moment))
            assert got[name] == "" or got[name].endswith("+08:00")


def test_the_memory_limit_is_applied_and_too_little_is_a_clear_error(
    sim: Path, expected: pa.Table, rulebook: Any, tmp_path: Path
) -> None:
    out = tmp_path / "v.parquet"
    evaluate_file(sim, AS_OF, rulebook, out, memory_limit="400MB")
    assert pq.read_table(out).cast(VERDICT_SCHEMA).equals(expected)
    out.unlink()
    args = ["evaluate", str(sim), "--as-of", "2024-03-20", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--memory-limit", "40MB"])
    assert result.exit_code == 2
    assert "out of memory within --memory-limit 40MB" in result.output
    assert not out.exists() and not list(tmp_path.glob("*.tmp"))


def test_a_failed_run_leaves_the_previous_output_alone(
    sim: Path, rulebook: Any, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    orders = pq.read_table(sim / "orders.parquet")
    bad = orders.set_column(orders.schema.get_field_index("merchant_type"), "merchant_type",
                            pa.array(["martian"] * orders.num_rows))  # fmt: skip
    pq.write_table(bad, broken / "orders.parquet")
    out = tmp_path / "v.parquet"
    out.write_text("previous run", encoding="utf-8")
    with pytest.raises(FactsError, match=r"orders.parquet row 1, column merchant_type"):
        evaluate_file(broken, AS_OF, rulebook, out)
    assert out.read_text(encoding="utf-8") == "previous run"
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.spark
def test_spark_writes_the_same_file(
    sim: Path, expected: pa.Table, rulebook: Any, tmp_path: Path, spark: Any
) -> None:
    out = tmp_path / "v.parquet"
    evaluate_file(sim, AS_OF, rulebook, out, backend="spark", spark=spark)
    assert pq.read_table(out).cast(VERDICT_SCHEMA).equals(expected)


def test_penalties_out_of_core_equal_those_of_the_loaded_facts(
    sim: Path, expected: pa.Table, rulebook: Any
) -> None:
    lates, counts = late_orders_of(sim, AS_OF, rulebook)
    in_memory = late_orders(load_facts(sim), expected)
    assert len(lates) == len(in_memory) > 30  # refunds before the deadline are not late
    assert penalties(lates, AS_OF, rulebook).equals(penalties(in_memory, AS_OF, rulebook))
    assert counts[("ship_deadline", "violated")] == len(lates)

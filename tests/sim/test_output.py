"""Determinism, the facts format on disk, and all-or-nothing writing."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from lvyue.facts import load_facts
from lvyue.model.time import format_beijing
from lvyue.sim import TABLES, simulate, write_facts
from lvyue.sim import facts as sim_facts


def test_same_seed_same_tables_other_seed_other_tables() -> None:
    first, again, other = simulate(3_000, 5), simulate(3_000, 5), simulate(3_000, 6)
    assert tuple(first) == TABLES and tuple(again) == TABLES
    for name in first:
        assert first[name].equals(again[name]), name
    assert not first["orders"].equals(other["orders"])


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_same_seed_byte_identical_files(tmp_path: Path, fmt: sim_facts.Format) -> None:
    write_facts(tmp_path / "a", 2_500, 9, fmt, progress=False)
    write_facts(tmp_path / "b", 2_500, 9, fmt, progress=False)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(f"{t}.{fmt}" for t in TABLES)
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert f"orders.{fmt}" in names and f"tracking.{fmt}" in names
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_written_parquet_equals_simulate(facts_dir: Path, market: dict[str, pa.Table]) -> None:
    for name in ("orders", "tracking", "after_sales", "labels", "ground_truth", "conversion"):
        written = pq.read_table(facts_dir / f"{name}.parquet")  # Parquet has no seconds unit
        assert written.cast(market[name].schema).equals(market[name]), name


def test_loader_reads_everything_without_quarantine(facts_dir: Path) -> None:
    facts = load_facts(facts_dir)
    assert not facts.quarantine
    assert facts.orders.num_rows == 20_000
    assert facts.tracking.num_rows > 4 * 20_000 * 0.9
    assert facts.reports.num_rows > 0 and facts.inspections.num_rows > 0


def test_csv_writes_beijing_wall_clock_and_loads(tmp_path: Path) -> None:
    tables = simulate(1_500, 2)
    write_facts(tmp_path, 1_500, 2, "csv", progress=False)
    raw = pacsv.read_csv(
        tmp_path / "orders.csv",
        convert_options=pacsv.ConvertOptions(column_types={"pay_time": pa.string()}),
    )
    first_pay = tables["orders"].column("pay_time")[0].as_py()
    assert raw.column("pay_time")[0].as_py() == format_beijing(first_pay)
    facts = load_facts(tmp_path)
    assert not facts.quarantine
    assert facts.orders.column("pay_time").equals(tables["orders"].column("pay_time"))


def test_several_chunks_give_unique_ids(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sim_facts, "CHUNK_SIZE", 1_000)
    seen: list[int] = []
    counts = write_facts(tmp_path, 2_500, 3, progress=lambda done, _total: seen.append(done))
    assert seen == [1_000, 2_000, 2_500]
    orders = pq.read_table(tmp_path / "orders.parquet")
    assert counts["orders"] == orders.num_rows == 2_500
    assert len(set(orders.column("order_id").to_pylist())) == 2_500
    assert (
        len(set(orders.column("waybill").drop_null().to_pylist()))
        == orders.column("waybill").drop_null().__len__()
    )


def test_failure_leaves_nothing_half_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sim_facts, "CHUNK_SIZE", 1_000)
    original = sim_facts.chunk_tables

    def failing(world: object, chunk: int, first: int, n: int) -> object:
        if chunk == 1:
            raise OSError("disk full")
        return original(world, chunk, first, n)  # type: ignore[arg-type]

    monkeypatch.setattr(sim_facts, "chunk_tables", failing)
    with pytest.raises(OSError, match="disk full"):
        write_facts(tmp_path, 2_500, 3, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_rejects_no_orders_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="orders"):
        simulate(0, 1)
    with pytest.raises(ValueError, match="format"):
        write_facts(tmp_path, 10, 1, "xml", progress=False)  # type: ignore[arg-type]


def test_rewriting_in_another_format_replaces_the_tables(tmp_path: Path) -> None:
    write_facts(tmp_path, 300, 1, "csv", progress=False)
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    write_facts(tmp_path, 300, 1, "parquet", progress=False)
    assert not list(tmp_path.glob("*.csv"))
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert not load_facts(tmp_path).quarantine

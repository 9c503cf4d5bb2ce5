"""``--engine spark`` writes its verdicts from Spark (nothing collected into Python) and the
files it produces are the DuckDB path's, byte for byte in content and order; when Spark cannot
start, the CLI says so in one line and exits 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from lvyue.engine import evaluate_file
from lvyue.model.time import parse_instant
from lvyue.sim import write_facts

AS_OF = parse_instant("2024-03-20 00:00:00")
_LVYUE = [sys.executable, "-c", "from lvyue.cli.main import main; main()"]


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sim5k")
    write_facts(root, orders=5_000, seed=11, progress=False)
    return root


@pytest.mark.spark
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_spark_writes_the_same_file_as_duckdb(
    facts: Path, tmp_path: Path, rulebook: Any, spark: Any, suffix: str
) -> None:
    on_duckdb, on_spark = tmp_path / f"duckdb{suffix}", tmp_path / f"spark{suffix}"
    duck = evaluate_file(facts, AS_OF, rulebook, on_duckdb)
    sprk = evaluate_file(facts, AS_OF, rulebook, on_spark, backend="spark", spark=spark)
    assert duck.rows > 15_000
    assert (sprk.rows, sprk.counts) == (duck.rows, duck.counts)
    if suffix == ".csv":
        assert on_spark.read_bytes() == on_duckdb.read_bytes()
    else:
        assert pq.read_table(on_spark).equals(pq.read_table(on_duckdb))
    assert not list(tmp_path.glob("*.tmp"))


def _evaluate(facts: Path, out: Path, **env: str) -> subprocess.CompletedProcess[str]:
    command = [*_LVYUE, "evaluate", str(facts), "--as-of", "2024-03-20 00:00:00",
               "--out", str(out), "--engine", "spark"]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200", **env})  # fmt: skip


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


@pytest.mark.spark
def test_an_impossible_driver_memory_is_one_line_and_exit_2(facts: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    out = tmp_path / "v.parquet"
    line = _one_line_error(_evaluate(facts, out, LVYUE_SPARK_DRIVER_MEMORY="99999t"))
    assert line.startswith("error: Spark did not start")
    assert "Could not reserve enough space" in line and "object heap" in line
    assert not out.exists()


@pytest.mark.spark
def test_a_missing_java_is_one_line_and_exit_2(facts: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    out = tmp_path / "v.parquet"
    line = _one_line_error(_evaluate(facts, out, JAVA_HOME="/nonexistent-java"))
    assert line.startswith("error: Spark did not start: /nonexistent-java/bin/java: No such file")
    assert not out.exists()

"""Spark ``local[2]`` against DuckDB: ``lvyue evaluate`` on the same simulated facts, each in
its own subprocess, measured over the whole process tree (the Spark JVM is a child of Python:
``time -v`` alone would miss its CPU and memory). The two verdict files must hold the same
rows: ``EXCEPT ALL`` both ways, counted by DuckDB out of core (10 M orders give ~50 M rows).

``python -m benchmarks.run --only spark [--orders N ...]`` (default 200 k; docs/scaling.md
ran 1 M and 10 M; the machine's load average is printed beside the numbers: on a shared
machine it moves them a lot). Facts: ``$LVYUE_BENCH_DIR/facts-N``, simulated with seed 1.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

AS_OF = "2024-03-20 00:00:00"
ROOT = Path(os.environ.get("LVYUE_BENCH_DIR", "/tmp/lvyue-bench"))
_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")
_LVYUE = [sys.executable, "-c", "from lvyue.cli.main import main; main()"]


@dataclass
class Usage:
    wall: float
    cpu: float  # seconds of user + system time over the whole tree
    peak_rss: int  # bytes: the largest sum of the tree's resident sets seen
    load: str  # the 1-minute load average at the start and the end


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench_spark")
    parser.add_argument("--orders", type=int, action="append", help="sizes (default 200 k)")
    args, _ = parser.parse_known_args(argv)
    table = Table("orders", "engine", "wall s", "CPU s", "peak MiB (tree)", "load 1m",
                  "verdicts", "DuckDB − Spark", "Spark − DuckDB",
                  title="lvyue evaluate: Spark local[2] vs DuckDB")  # fmt: skip
    for n in args.orders or [200_000]:
        facts = _facts(n)
        results = {}
        for engine in ("duckdb", "spark"):
            out = ROOT / f"verdicts-{engine}-{n}.parquet"
            results[engine] = _measure(_evaluate(facts, out, engine))
        rows, only_duck, only_spark = differences(
            ROOT / f"verdicts-duckdb-{n}.parquet", ROOT / f"verdicts-spark-{n}.parquet"
        )
        for engine, u in results.items():
            table.add_row(f"{n:,}", engine, f"{u.wall:.1f}", f"{u.cpu:.1f}",
                          f"{u.peak_rss / 2**20:,.0f}", u.load, f"{rows[engine]:,}",
                          f"{only_duck:,}", f"{only_spark:,}")  # fmt: skip
    Console(width=160).print(table)


def differences(duck: Path, spark: Path) -> tuple[dict[str, int], int, int]:
    """Rows per file, and the rows of each that the other lacks (EXCEPT ALL: duplicates
    count), within a bounded DuckDB session that spills to a temporary directory."""
    con = duckdb.connect()
    con.execute("SET memory_limit = '3GB'")
    con.execute(f"SET temp_directory = '{ROOT / 'duckdb-spill'}'")
    a, b = (f"SELECT * FROM read_parquet('{f}')" for f in (duck, spark))

    def count(sql: str) -> int:
        return int(con.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0])

    rows = {"duckdb": count(a), "spark": count(b)}
    return rows, count(f"{a} EXCEPT ALL {b}"), count(f"{b} EXCEPT ALL {a}")


def _facts(n: int) -> Path:
    path = ROOT / f"facts-{n}"
    if not (path / "orders.parquet").exists():
        subprocess.run([*_LVYUE, "simulate", "-n", str(n), "-s", "1",
                        "-o", str(path), "-q"], check=True)  # fmt: skip
    return path


def _evaluate(facts: Path, out: Path, engine: str) -> list[str]:
    return [*_LVYUE, "evaluate", str(facts), "--as-of", AS_OF,
            "--out", str(out), "--engine", engine]  # fmt: skip


def _measure(command: list[str]) -> Usage:
    """Run ``command``, sampling its process tree every 0.2 s."""
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    cpu: dict[int, float] = {}
    peak = 0
    while proc.poll() is None:
        rss = 0
        for pid in _tree(proc.pid):
            sample = _stat(pid)
            if sample is not None:
                cpu[pid], resident = sample
                rss += resident
        peak = max(peak, rss)
        time.sleep(0.2)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {proc.returncode}")
    return Usage(wall, sum(cpu.values()), peak, f"{load:.1f}→{os.getloadavg()[0]:.1f}")


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _read(entry / "stat")
            if stat:
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _stat(pid: int) -> tuple[float, int] | None:
    """(user + system CPU seconds, resident bytes) of one process, if it still exists."""
    stat = _read(Path(f"/proc/{pid}/stat"))
    if not stat:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK, int(fields[21]) * _PAGE


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


if __name__ == "__main__":
    main(sys.argv[1:])

"""Incremental evaluation against a full run, on the same facts, each in its own process.

Simulated facts (``lvyue simulate``) are evaluated in full into a state directory as of
2024-03-20 00:00; then 1 % of the orders (the latest paid, with a waybill) receive a new scan
and 0.5 % a new after-sales request, appended as parts (``tracking/…``, ``after_sales/…``,
docs/formats.md), and the clock moves 6 h. The incremental run (``evaluate_incremental``) is
timed against a full ``evaluate_file`` of the same facts at the same instant, and the state's
verdicts compared with the full run's. Times are the call alone (the rulebook loaded and
compiled before — its parameter table and the slices the batch reads, as a service keeps them —
the same in both); each run is a fresh process, so peak RSS is its own and the incremental run
compiles no SQL only because the state keeps it (``engine.plan_store``).

``python -m benchmarks.run --only incremental [--orders N ...]`` (default 1 M; ``--full``
adds 10 M).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

AS_OF = "2024-03-20 00:00:00"
LATER = "2024-03-20 06:00:00"
ROOT = Path(os.environ.get("LVYUE_BENCH_DIR", "/tmp/lvyue-bench"))
_LVYUE = [sys.executable, "-c", "from lvyue.cli.main import main; main()"]
_TABLES = ("orders", "tracking", "after_sales", "reports", "inspections")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench_incremental")
    parser.add_argument("--orders", type=int, action="append", help="sizes (default 1 M)")
    parser.add_argument("--full", action="store_true", help="also 10 M orders")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args(argv)
    if args.child:
        _child(*args.child)
        return
    sizes = args.orders or [1_000_000, *([10_000_000] if args.full else [])]
    table = Table("orders", "first run s", "full s", "incremental s", "ratio",
                  "peak MiB full / incr", "re-judged", "partitions / deltas", "why", "load 1m",
                  "equal",
                  title="incremental vs full: 1 % new scans, 0.5 % new after-sales, +6 h",
                  )  # fmt: skip
    for n in sizes:
        table.add_row(*_row(n))
    Console(width=220).print(table)


def _row(n: int) -> list[str]:
    work = ROOT / f"incremental-{n}"
    facts, state = work / "facts", work / "state"
    shutil.rmtree(work, ignore_errors=True)
    facts.mkdir(parents=True)
    base = _facts(n)
    for name in _TABLES:  # the simulated files, shared between runs; parts go beside them
        (facts / f"{name}.parquet").symlink_to(base / f"{name}.parquet")
    load = os.getloadavg()[0]
    first = _run("first", facts, state, AS_OF)
    _append(facts, n)
    full = _run("full", facts, work / "full.parquet", LATER)
    inc = _run("incremental", facts, state, LATER)
    equal = _equal(work / "full.parquet", state)
    for name, run in (("first", first), ("incremental", inc)):
        print(f"{n:,} {name}: " + ", ".join(run["phases"]), flush=True)
    why = ", ".join(f"{k} {v:,}" for k, v in sorted(inc["reasons"].items()))
    return [f"{n:,}", f"{first['seconds']:.1f}", f"{full['seconds']:.1f}",
            f"{inc['seconds']:.2f}", f"{inc['seconds'] / full['seconds']:.1%}",
            f"{full['rss']:,.0f} / {inc['rss']:,.0f}", f"{inc['evaluated']:,}",
            f"{inc['partitions']:,} / {inc['deltas']}", why, f"{load:.1f}→{os.getloadavg()[0]:.1f}",
            "yes" if equal else "NO"]  # fmt: skip


def _run(mode: str, facts: Path, target: Path, as_of: str) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.bench_incremental", "--child", mode, str(facts),
           str(target), as_of]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _facts(n: int) -> Path:
    path = ROOT / f"facts-{n}"
    if not (path / "orders.parquet").exists():
        subprocess.run([*_LVYUE, "simulate", "-n", str(n), "-s", "1", "-o", str(path), "-q"],
                       check=True)  # fmt: skip
    return path


def _append(facts: Path, n: int) -> None:
    """1 % of the orders (the latest paid, with a waybill) scanned again, 0.5 % given a new
    after-sales request, both within the 6 h the clock moves: one new part each."""
    from lvyue.model.time import parse_instant

    start = parse_instant(AS_OF)
    orders = pq.read_table(facts / "orders.parquet",
                           columns=["order_id", "carrier", "waybill", "pay_time"])  # fmt: skip
    paid = orders.filter(pc.less_equal(orders["pay_time"], pa.scalar(start)))
    recent = paid.sort_by([("pay_time", "descending")])
    shipped = recent.filter(pc.is_valid(recent["waybill"])).slice(0, n // 100)
    schema = pq.read_schema(facts / "tracking.parquet")
    scans = pa.table({"carrier": shipped["carrier"], "waybill": shipped["waybill"],
                      "time": pa.array([start + timedelta(hours=3)] * shipped.num_rows,
                                       schema.field("time").type),
                      "kind": pa.array(["hub_arrival"] * shipped.num_rows)})  # fmt: skip
    (facts / "tracking").mkdir()
    pq.write_table(scans, facts / "tracking" / "0001.parquet")
    asked = recent.slice(0, n // 200)
    schema = pq.read_schema(facts / "after_sales.parquet")
    created = pa.array([start + timedelta(hours=2)] * asked.num_rows,
                       schema.field("created_at").type)  # fmt: skip
    requests = pa.table({"aftersale_id": [f"bench-{i}" for i in range(asked.num_rows)],
                         "order_id": asked["order_id"],
                         "type": ["refund_only"] * asked.num_rows,
                         "created_at": created})  # fmt: skip
    (facts / "after_sales").mkdir()
    pq.write_table(requests, facts / "after_sales" / "0001.parquet")


def _equal(full: Path, state: Path) -> bool:
    """The state's verdicts (every partition) and the full run's: the same rows, duplicates
    counted. One grouped pass (each row +1 on one side, -1 on the other; any group not summing
    to 0 is a difference) in an engine session (3 GB, spilling). A bare ``duckdb.connect()``
    may take 80 % of the RAM: at 10 M orders (52 M verdicts) its two EXCEPT ALL grew this
    process to 21 GB and the OOM killer ended it after the incremental run had finished;
    within 3 GB, EXCEPT ALL spilled 10 GB and had not finished one direction in 10 min."""
    from lvyue.engine.duck import Session
    from lvyue.engine.incremental_state import all_verdicts

    a, b = f"SELECT * FROM read_parquet('{full}')", all_verdicts(state)
    both = f"SELECT *, 1 AS side FROM ({a}) UNION ALL SELECT *, -1 FROM ({b})"
    with Session() as session:
        con = session.con
        counts = [con.execute(f"SELECT count(*) FROM ({q})").fetchall()[0][0] for q in (a, b)]
        differing = con.execute(
            f"SELECT count(*) FROM (SELECT * EXCLUDE (side), sum(side) AS n FROM ({both}) "
            "GROUP BY ALL) WHERE n <> 0"
        ).fetchall()[0][0]
    return counts[0] == counts[1] and differing == 0


# -- children: one run each, timed around the call, peak RSS of the process ------------------


def _child(mode: str, facts: str, target: str, as_of: str) -> None:
    from lvyue.engine import evaluate_file
    from lvyue.engine.incremental import evaluate_incremental
    from lvyue.engine.params import parameter_slices
    from lvyue.model.time import parse_instant
    from lvyue.rulebook import load_rulebook

    phases: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            phases.append(record.getMessage())

    logger = logging.getLogger("lvyue.engine.incremental")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(Keep())
    rulebook = load_rulebook()
    parameter_slices(rulebook.parameter_table())  # the rulebook compiled, as a service keeps it
    moment = parse_instant(as_of)
    start = time.perf_counter()
    extra: dict[str, Any] = {"evaluated": 0, "partitions": 0, "deltas": 0, "reasons": {}}
    if mode == "full":
        evaluate_file(Path(facts), moment, rulebook, Path(target))
    else:
        run = evaluate_incremental(Path(facts), moment, rulebook, Path(target))
        extra = {"evaluated": run.evaluated, "partitions": run.partitions,
                 "deltas": run.deltas, "reasons": run.reasons}  # fmt: skip
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
    print(json.dumps({"seconds": seconds, "rss": rss, "phases": phases, **extra}))


if __name__ == "__main__":
    main(sys.argv[1:])

"""Incremental evaluation against a full run, in one process, on the same facts.

Simulated facts are evaluated in full into a state directory; then 1 % of the orders receive a
new scan, 0.5 % a new after-sales request, and the clock moves 6 h; the incremental run
(``evaluate_incremental``) is timed against a full ``evaluate_file`` of the changed facts, and
their verdicts compared.

``python -m benchmarks.run --only incremental [--orders N ...]`` (default 200 k).
"""

from __future__ import annotations

import argparse
import os
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

from lvyue.engine import evaluate_file
from lvyue.engine.incremental import evaluate_incremental
from lvyue.model.time import parse_instant
from lvyue.rulebook import load_rulebook

AS_OF = parse_instant("2024-03-20 00:00:00")
ROOT = Path(os.environ.get("LVYUE_BENCH_DIR", "/tmp/lvyue-bench"))
_LVYUE = [sys.executable, "-c", "from lvyue.cli.main import main; main()"]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench_incremental")
    parser.add_argument("--orders", type=int, action="append", help="sizes (default 200 k)")
    args, _ = parser.parse_known_args(argv)
    rulebook = load_rulebook()
    rulebook.parameter_table()
    table = Table("orders", "first run (full, state) s", "full s", "incremental s", "ratio",
                  "orders re-judged", "why", "load 1m", "equal",
                  title="incremental vs full: 1 % new scans, 0.5 % new requests, +6 h")  # fmt: skip
    for n in args.orders or [200_000]:
        table.add_row(*_row(n, rulebook))
    Console().print(table)


def _row(n: int, rulebook: Any) -> list[str]:
    work = ROOT / f"incremental-{n}"
    facts, state = work / "facts", work / "state"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(_facts(n), facts)
    load = os.getloadavg()[0]
    first = _timed(lambda: evaluate_incremental(facts, AS_OF, rulebook, state))
    later = AS_OF + timedelta(hours=6)
    _change(facts, n)
    full = _timed(lambda: evaluate_file(facts, later, rulebook, work / "full.parquet"))
    inc = _timed(lambda: evaluate_incremental(facts, later, rulebook, state, work / "inc.parquet"))
    run = inc[1]
    incremental, whole = pq.read_table(work / "inc.parquet"), pq.read_table(work / "full.parquet")
    equal = incremental.cast(whole.schema).equals(whole)  # values and types, not null flags
    why = ", ".join(f"{k} {v:,}" for k, v in sorted(run.reasons.items()))
    return [f"{n:,}", f"{first[0]:.1f}", f"{full[0]:.1f}", f"{inc[0]:.1f}",
            f"{inc[0] / full[0]:.0%}", f"{run.evaluated:,}", why,
            f"{load:.1f}→{os.getloadavg()[0]:.1f}", str(equal)]  # fmt: skip


def _timed(step: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = step()
    return time.perf_counter() - start, result


def _facts(n: int) -> Path:
    path = ROOT / f"facts-{n}"
    if not (path / "orders.parquet").exists():
        subprocess.run([*_LVYUE, "simulate", "-n", str(n), "-s", "1", "-o", str(path), "-q"],
                       check=True)  # fmt: skip
    return path


def _change(facts: Path, n: int) -> None:
    """1 % of the orders (the most recent, with a waybill) scanned again, 0.5 % given a new
    after-sales request, all within the 6 h the clock moves."""
    orders = pq.read_table(facts / "orders.parquet", columns=["order_id", "carrier", "waybill",
                                                               "pay_time"])  # fmt: skip
    paid = orders.filter(pc.less_equal(orders["pay_time"], pa.scalar(AS_OF)))
    recent = paid.sort_by([("pay_time", "descending")])
    shipped = recent.filter(pc.is_valid(recent["waybill"])).slice(0, n // 100)
    tracking = pq.read_table(facts / "tracking.parquet")
    scans = pa.table({"carrier": shipped["carrier"], "waybill": shipped["waybill"],
                      "time": pa.array([AS_OF + timedelta(hours=3)] * shipped.num_rows,
                                       tracking.schema.field("time").type),
                      "kind": pa.array(["hub_arrival"] * shipped.num_rows)})  # fmt: skip
    pq.write_table(pa.concat_tables([tracking, scans], promote_options="default"),
                   facts / "tracking.parquet")  # fmt: skip
    asked = recent.slice(0, n // 200)
    after = pq.read_table(facts / "after_sales.parquet")
    created = pa.array([AS_OF + timedelta(hours=2)] * asked.num_rows,
                       after.schema.field("created_at").type)  # fmt: skip
    requests = pa.table({"aftersale_id": [f"bench-{i}" for i in range(asked.num_rows)],
                         "order_id": asked["order_id"],
                         "type": ["refund_only"] * asked.num_rows,
                         "created_at": created})  # fmt: skip
    pq.write_table(pa.concat_tables([after, requests], promote_options="default"),
                   facts / "after_sales.parquet")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])

"""The simulator at scale: wall time, orders/s, peak memory and output size of ``write_facts``.

``python -m benchmarks.run --only simulate [--orders N ...] [--full] [--format csv]``
(default 1 M orders; ``--full`` adds 10 M). Each size runs in its own process, so the peak
resident memory (``os.wait4``'s ``ru_maxrss``) is that run's alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

CHILD = """
import json, sys
from lvyue.sim import write_facts
counts = write_facts(sys.argv[1], int(sys.argv[2]), 7, sys.argv[3], progress=False)
print(json.dumps(counts))
"""


def _run(orders: int, fmt: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as out:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, out, str(orders), fmt], stdout=subprocess.PIPE
        )
        assert child.stdout is not None
        output = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        if status != 0:
            raise SystemExit(f"simulate {orders} failed with status {status}")
        counts = json.loads(output)
        size = sum(p.stat().st_size for p in Path(out).iterdir())
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,  # independent of other load on the machine
        "rss_mib": usage.ru_maxrss / 1024,  # KiB on Linux
        "size_mib": size / 2**20,
        "tracking": counts["tracking"],
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--full", action="store_true", help="also 10 M orders")
    parser.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    args, _ = parser.parse_known_args(argv)
    sizes = sorted(set(args.orders) | ({10_000_000} if args.full else set()))
    load = os.getloadavg()[0]
    table = Table(title=f"lvyue simulate ({args.format}, {os.cpu_count()} cores, load {load:.1f})")
    columns = ("orders", "wall s", "CPU s", "orders/s", "peak RSS MiB", "output MiB", "scans")
    for column in columns:
        table.add_column(column, justify="right")
    for orders in sizes:
        r = _run(orders, args.format)
        table.add_row(
            f"{orders:,}",
            f"{r['wall']:.1f}",
            f"{r['cpu']:.1f}",
            f"{orders / r['wall']:,.0f}",
            f"{r['rss_mib']:,.0f}",
            f"{r['size_mib']:,.0f}",
            f"{int(r['tracking']):,}",
        )
    Console(width=120).print(table)


if __name__ == "__main__":
    main(sys.argv[1:])

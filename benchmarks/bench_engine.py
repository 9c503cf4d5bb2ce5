"""Compliance engine speed: (a) ``lvyue evaluate`` (Ibis on DuckDB), (b) the hand-written DuckDB
SQL in ``engine_reference.sql`` (checked equal to (a)), (c) the online path on a sample,
extrapolated, (d) the batch expressions (Ibis on DuckDB) run on one order at a time, the
alternative to a Python interpreter of the check specification online
(docs/decisions/engine-one-check-spec.md). Each contender runs in its own subprocess so its
peak memory is its own.

``python -m benchmarks.run --only engine [--orders N ...] [--full] [--sample K]``
Data (the simulator, ~5-6 tracking events per order) is generated once per size under
``$LVYUE_BENCH_DIR`` (default /tmp/lvyue-bench), outside the timed part.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from lvyue.engine.duck import DEFAULT_MEMORY_LIMIT

AS_OF = "2024-03-20 00:00:00"
ROOT = Path(os.environ.get("LVYUE_BENCH_DIR", "/tmp/lvyue-bench"))
SQL = Path(__file__).with_name("engine_reference.sql")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench_engine")
    parser.add_argument("--orders", type=int, action="append", help="sizes (default 1 M)")
    parser.add_argument("--full", action="store_true", help="add 10 M orders")
    parser.add_argument("--sample", type=int, default=20_000, help="online sample size")
    parser.add_argument("--ibis-sample", type=int, default=30, help="(d) orders, one by one")
    args, _ = parser.parse_known_args(argv)
    sizes = args.orders or [1_000_000]
    if args.full:
        sizes.append(10_000_000)
    table = Table("orders", "contender", "wall s", "orders/s", "peak MiB", "note",
                  title="compliance engine", title_justify="left")  # fmt: skip
    for n in sizes:
        facts = _data(n)
        out = ROOT / f"out-{n}"
        out.mkdir(exist_ok=True)
        a = _child("evaluate", facts, out / "a.parquet")
        b = _child("sql", facts, out / "b.parquet")
        # (b) again within (a)'s memory limit: the same budget for both
        bounded = _child("sql", facts, out / "b3.parquet", DEFAULT_MEMORY_LIMIT)
        c = _child("online", facts, out / "c.json", str(args.sample))
        d = _child("ibis_one", facts, out / "d.json", str(args.ibis_sample))
        equal = _equal(out / "a.parquet", out / "b.parquet")
        per_order = c["seconds"] / c["orders"]
        online_total = per_order * n
        table.add_row(
            f"{n:,}",
            "(a) lvyue evaluate",
            f"{a['seconds']:.1f}",
            f"{n / a['seconds']:,.0f}",
            f"{a['rss']:,.0f}",
            f"{a['seconds'] / b['seconds']:.2f}× (b); (b) equal: {equal}",
        )
        for label, run in (("(b) hand-written SQL", b),
                           (f"(b) within {DEFAULT_MEMORY_LIMIT}", bounded)):  # fmt: skip
            if "error" in run:
                table.add_row("", label, "—", "—", "—", str(run["error"]))
                continue
            note = f"(a) is {a['seconds'] / run['seconds']:.2f}× this" if run is bounded else ""
            table.add_row("", label, f"{run['seconds']:.1f}", f"{n / run['seconds']:,.0f}",
                          f"{run['rss']:,.0f}", note)  # fmt: skip
        table.add_row("", f"(c) online × {c['orders']:,}, extrapolated", f"{online_total:.0f}",
                      f"{1 / per_order:,.0f}", f"{c['rss']:,.0f}",
                      f"(a) is {online_total / a['seconds']:.0f}× faster; "
                      f"median {c['median_ms']:.3f} ms/order")  # fmt: skip
        if "error" in d:
            table.add_row("", "(d) Ibis, one order at a time", "—", "—", "—", str(d["error"]))
        else:
            table.add_row("", f"(d) Ibis on DuckDB, one order × {d['orders']}",
                          f"{d['seconds']:.1f}", f"{d['orders'] / d['seconds']:,.1f}",
                          f"{d['rss']:,.0f}",
                          f"median {d['median_ms']:.1f} ms/order "
                          f"({d['median_ms'] / c['median_ms']:,.0f}× (c))")  # fmt: skip
    Console(width=170).print(table)


SEED = 20261124  # in the directory's name: bench_spark and bench_incremental keep seed 1 in
# facts-N, and a cache made by one was silently read by the other as its own


def _data(n: int) -> Path:
    facts = ROOT / f"facts-{n}-seed{SEED}"
    if not (facts / "orders.parquet").exists():
        from lvyue.sim import write_facts

        write_facts(facts, orders=n, seed=SEED, progress=True)
    return facts


def _child(mode: str, facts: Path, out: Path, *extra: str) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.bench_engine", "--child", mode, str(facts),
           str(out), *extra]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True,
                          cwd=Path(__file__).parent.parent)  # fmt: skip
    if done.returncode != 0:  # e.g. (b) out of memory within the limit: a result, shown
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        return {"error": last[:80]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _equal(a: Path, b: Path) -> bool:
    from lvyue.engine.duck import Session

    cols = ("order_id, aftersale_id, merchant_id, \"check\", status, {d} AS deadline, "
            "{f} AS done_at, clauses, reason")  # fmt: skip
    left = f"SELECT {cols.format(d='epoch(deadline)::BIGINT', f='epoch(done_at)::BIGINT')} " \
           f"FROM read_parquet('{a}')"  # fmt: skip
    right = f"SELECT {cols.format(d='deadline', f='done_at')} FROM read_parquet('{b}')"
    # one grouped pass (+1 a row of a, -1 of b; a group not summing to 0 differs), bounded
    # and spilling: a bare connect may take 80 % of the RAM (bench_incremental._equal)
    both = f"SELECT *, 1 AS side FROM ({left}) UNION ALL SELECT *, -1 FROM ({right})"
    with Session() as session:
        con = session.con
        differing = con.execute(
            f"SELECT count(*) FROM (SELECT * EXCLUDE (side), sum(side) AS n FROM ({both}) "
            "GROUP BY ALL) WHERE n <> 0"
        ).fetchall()
        rows = con.execute(f"SELECT count(*) FROM read_parquet('{a}')").fetchall()
    return bool(differing[0][0] == 0 and rows[0][0] > 0)


# -- children: each measures its own wall time (from process start) and peak RSS ------------

_START = time.perf_counter()


def _report(**extra: float) -> None:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
    print(json.dumps({"seconds": time.perf_counter() - _START, "rss": rss, **extra}))


def _run_evaluate(facts: str, out: str) -> None:
    from lvyue.cli.main import app

    app(["evaluate", facts, "--as-of", AS_OF, "--out", out], standalone_mode=False)
    _report()


def _run_sql(facts: str, out: str, memory_limit: str = "") -> None:
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lvyue.model.time import epoch_seconds, parse_instant
    from lvyue.rulebook import load_rulebook

    # The hand-written query's inputs: the compiled rules and category keys (a hand-coded
    # query would hard-code them), then the query itself straight over the Parquet files.
    rb = load_rulebook()
    params = rb.parameter_table()
    categories = pq.read_table(f"{facts}/orders.parquet", columns=["category"])["category"]
    unique = sorted(set(categories.unique().to_pylist()))
    keys = pa.table({"category": unique, "category_key": [rb.category_key(c) for c in unique]})
    start = time.perf_counter()
    con = duckdb.connect()
    spill = tempfile.TemporaryDirectory(prefix="lvyue-bench-spill-")  # removed at exit
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute(f"SET temp_directory = '{spill.name}'")
    con.register("params", params)
    con.register("category_keys", keys)
    con.execute("CREATE TABLE settings AS SELECT ? AS as_of, 43200 AS horizon",
                [epoch_seconds(parse_instant(AS_OF))])  # fmt: skip
    statements = reference_statements(facts)
    for statement in statements[:-1]:
        con.execute(statement)
    con.execute(f"COPY ({statements[-1]}) TO '{out}' (FORMAT parquet)")
    _report(query_seconds=time.perf_counter() - start)


def reference_statements(facts: str) -> list[str]:
    """The reference query's statements over ``facts`` (optional order columns the files
    lack read as null, as the facts reader does)."""
    import pyarrow.parquet as pq

    orders = f"read_parquet('{facts}/orders.parquet')"
    present = set(pq.read_schema(f"{facts}/orders.parquet").names)
    optional = {"pre_inspection": "BOOLEAN", "agreed_ship_time": "TIMESTAMPTZ",
                "activity": "VARCHAR", "activity_ship_deadline": "TIMESTAMPTZ",
                "cross_border_mode": "VARCHAR",
                "penalty_settlement_time": "TIMESTAMPTZ"}  # fmt: skip
    missing = [c for c in optional if c not in present]
    if missing:
        nulls = ", ".join(f"NULL::{optional[c]} AS {c}" for c in missing)
        orders = f"(SELECT *, {nulls} FROM {orders})"
    text = SQL.read_text(encoding="utf-8").format(dir=facts, orders=orders)
    return text.split(";\n")


def _run_online(facts: str, out: str, sample: str) -> None:
    from lvyue.engine import evaluate_order, iter_order_facts
    from lvyue.facts import load_facts
    from lvyue.model.time import parse_instant
    from lvyue.rulebook import load_rulebook

    with tempfile.TemporaryDirectory(prefix="lvyue-online-") as tmp:
        loaded = load_facts(_sample(Path(facts), Path(tmp), int(sample)))
    orders = list(iter_order_facts(loaded))
    rb, as_of = load_rulebook(), parse_instant(AS_OF)
    latencies = []
    for of in orders:
        t = time.perf_counter()
        evaluate_order(of, as_of, rb)
        latencies.append(time.perf_counter() - t)
    seconds = sum(latencies)
    Path(out).write_text(json.dumps({"orders": len(orders)}), encoding="utf-8")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss": rss, "orders": len(orders),
                      "median_ms": statistics.median(latencies) * 1000}))  # fmt: skip


def _run_ibis_one(facts: str, out: str, sample: str) -> None:
    """The batch expressions on one order at a time (SQL compiled once, cached by shape)."""
    import dataclasses

    import pyarrow.compute as pc

    from lvyue.engine import evaluate_batch
    from lvyue.facts import load_facts
    from lvyue.model.time import parse_instant
    from lvyue.rulebook import load_rulebook

    with tempfile.TemporaryDirectory(prefix="lvyue-ibis-one-") as tmp:
        loaded = load_facts(_sample(Path(facts), Path(tmp), int(sample) + 1))
    rb, as_of = load_rulebook(), parse_instant(AS_OF)
    latencies = []
    for i, order_id in enumerate(loaded.orders["order_id"].to_pylist()):
        one = _one_order(loaded, order_id, dataclasses.replace, pc)
        t = time.perf_counter()
        evaluate_batch(one, as_of, rb)
        if i:  # the first run compiles the expressions (cached for the rest)
            latencies.append(time.perf_counter() - t)
    Path(out).write_text(json.dumps({"orders": len(latencies)}), encoding="utf-8")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": sum(latencies), "rss": rss, "orders": len(latencies),
                      "median_ms": statistics.median(latencies) * 1000}))  # fmt: skip


def _one_order(loaded: Any, order_id: str, replace: Any, pc: Any) -> Any:
    orders = loaded.orders.filter(pc.equal(loaded.orders["order_id"], order_id))
    waybill = orders["waybill"][0].as_py()
    tracking = loaded.tracking.filter(pc.equal(loaded.tracking["waybill"], waybill or ""))
    after_sales = loaded.after_sales.filter(pc.equal(loaded.after_sales["order_id"], order_id))
    return replace(loaded, orders=orders, tracking=tracking, after_sales=after_sales)


def _sample(facts: Path, tmp: Path, n: int) -> Path:
    """The first ``n`` orders with their scans, requests, reports and codes (not the rest:
    the online path is timed per order, and loading 10 M orders whole would not fit)."""
    import duckdb

    con = duckdb.connect()
    src = {t: f"read_parquet('{facts}/{t}.parquet')" for t in
           ("orders", "tracking", "after_sales", "reports", "inspections")}  # fmt: skip
    con.execute(f"CREATE TABLE o AS SELECT * FROM {src['orders']} LIMIT {n}")
    queries = {
        "orders": "SELECT * FROM o",
        "tracking": f"SELECT t.* FROM {src['tracking']} t SEMI JOIN o USING (carrier, waybill)",
        "after_sales": f"SELECT a.* FROM {src['after_sales']} a SEMI JOIN o USING (order_id)",
        "reports": f"SELECT * FROM {src['reports']}",
        "inspections": f"SELECT i.* FROM {src['inspections']} i "
        "SEMI JOIN o USING (inspection_code)",
    }
    for name, sql in queries.items():
        con.execute(f"COPY ({sql}) TO '{tmp}/{name}.parquet' (FORMAT parquet)")
    return tmp


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        mode, *rest = sys.argv[2:]
        children: dict[str, Callable[..., None]] = {
            "evaluate": _run_evaluate,
            "sql": _run_sql,
            "online": _run_online,
            "ibis_one": _run_ibis_one,
        }
        children[mode](*rest)
    else:
        main(sys.argv[1:])

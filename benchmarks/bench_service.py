"""Service ingestion: the bulk path against the row-by-row path, and a replay, on SQLite.

Loads the simulator's orders and scans into fresh databases; reports rows per second and
the bulk/row ratio measured in the same run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from lvyue.sim import simulate
from lvyue.store import make_engine, make_session_factory, session_scope, upgrade
from lvyue.store.accounts import create_merchant
from lvyue.store.write import ROW_MODELS, Scope, apply_row, write_rows


def _fresh(directory: Path, name: str, merchants: set[str]) -> Any:
    url = f"sqlite:///{directory / name}"
    upgrade(url)
    factory = make_session_factory(make_engine(url))
    with session_scope(factory) as session:
        for merchant_id in sorted(merchants):
            create_merchant(session, merchant_id, merchant_id, "domestic")
    return factory


def _bulk(factory: Any, tables: dict[str, list[dict[str, Any]]]) -> float:
    start = time.perf_counter()
    for table in ("orders", "tracking"):
        rows = tables[table]
        for at in range(0, len(rows), 2000):
            with session_scope(factory) as session:
                write_rows(session, table, rows[at : at + 2000], Scope(), "bench")
    return time.perf_counter() - start


def _row_by_row(factory: Any, tables: dict[str, list[dict[str, Any]]]) -> float:
    start = time.perf_counter()
    for table in ("orders", "tracking"):
        rows = tables[table]
        for at in range(0, len(rows), 2000):
            with session_scope(factory) as session:
                for raw in rows[at : at + 2000]:
                    row = ROW_MODELS[table].model_validate(raw)
                    with session.begin_nested():
                        apply_row(session, table, row, Scope(), "bench")
    return time.perf_counter() - start


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench_service")
    parser.add_argument("--orders", type=int, default=2000)
    args, _ = parser.parse_known_args(argv)
    sim = simulate(args.orders, 7)
    tables = {name: sim[name].to_pylist() for name in ("orders", "tracking")}
    rows = sum(len(v) for v in tables.values())
    merchants = {str(r["merchant_id"]) for r in tables["orders"]}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        bulk_factory = _fresh(directory, "bulk.db", merchants)
        bulk = _bulk(bulk_factory, tables)
        replay = _bulk(bulk_factory, tables)  # every key known: the row-by-row path, unchanged
        rowwise = _row_by_row(_fresh(directory, "rows.db", merchants), tables)
    table = Table(title=f"service ingestion, SQLite ({args.orders} orders, {rows} rows)")
    for column in ("path", "seconds", "rows/s", "vs row-by-row"):
        table.add_column(column, justify="right" if column != "path" else "left")
    for name, seconds in (
        ("bulk (new keys)", bulk),
        ("replay (all known)", replay),
        ("row by row", rowwise),
    ):
        table.add_row(name, f"{seconds:.2f}", f"{rows / seconds:,.0f}", f"{rowwise / seconds:.1f}x")
    Console(width=160).print(table)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])

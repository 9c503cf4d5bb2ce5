"""The parameter slices an incremental state's verdicts follow, and the orders a change touches.

The batch reads the rulebook only through its parameter slices (``params.parameter_slices``:
a few thousand rows), so those are what the state keeps (``params/N.parquet``) and digests: the
whole parameter table (2.4 M rows, ~1 GB) took 10–25 s to hash per run on a loaded machine.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from lvyue.engine import incremental_state as st
from lvyue.engine.batch import Compiles
from lvyue.engine.params import parameter_slices

_NAMES = "names.txt"  # the parameters, one a line, in the files' order


def slices(rulebook: Compiles) -> dict[str, pa.Table]:
    return {name: s.table for name, s in parameter_slices(rulebook.parameter_table()).items()}


def digest(tables: dict[str, pa.Table]) -> str:
    """A digest of the slices: their names, schemas and rows in order."""
    hashed = hashlib.sha256()
    for name, table in sorted(tables.items()):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        hashed.update(name.encode() + b"\0")
        hashed.update(memoryview(sink.getvalue()))
    return hashed.hexdigest()


def keep(state: Path, tables: dict[str, pa.Table]) -> None:
    """The slices into ``state/params`` (replaced whole)."""
    folder = state / st.PARAMS
    if folder.is_file():  # an earlier layout's params.parquet
        folder.unlink()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    names = sorted(tables)
    for i, name in enumerate(names):
        pq.write_table(tables[name], folder / f"{i}.parquet")
    (folder / _NAMES).write_text("\n".join(names), encoding="utf-8")


def _kept(state: Path) -> dict[str, Path]:
    folder = state / st.PARAMS
    names = (folder / _NAMES).read_text(encoding="utf-8").split("\n")
    return {name: folder / f"{i}.parquet" for i, name in enumerate(names) if name}


def changed_orders(con: duckdb.DuckDBPyConnection, state: Path, tables: dict[str, pa.Table],
                   orders: str) -> str:  # fmt: skip
    """SQL of ``(order_id, why)`` for the orders a change of the slices can touch: those whose
    kept verdicts cite a changed row's clause, and those in a changed row's merchant type, ship
    mode and pay-time window (a superset: category, flags and other clocks are not narrowed
    on). ``orders``: a relation of the typed orders. Rare: it reads every kept verdict."""
    old = _kept(state)
    rows = []
    for name in sorted(set(old) | set(tables)):
        rows += _changed_rows(con, old.get(name), tables.get(name))
    con.register("inc_params_changed", pa.Table.from_pylist(rows, schema=_SCOPE))
    return f"""
    SELECT DISTINCT v.order_id, 'rules' FROM ({st.all_verdicts(state)}) v
    WHERE list_has_any(string_split(v.clauses, ';'),
                       (SELECT list(DISTINCT clause_id) FROM inc_params_changed))
    UNION ALL
    SELECT o.order_id, 'rules' FROM {orders} o JOIN (
        SELECT DISTINCT merchant_type, ship_mode, pay_from, pay_to FROM inc_params_changed) c
      ON (c.merchant_type IS NULL OR c.merchant_type = '' OR c.merchant_type = o.merchant_type)
     AND (c.ship_mode IS NULL OR c.ship_mode = '' OR c.ship_mode = o.ship_mode)
     AND (c.pay_from IS NULL OR o.pay_time >= c.pay_from)
     AND (c.pay_to IS NULL OR o.pay_time < c.pay_to)
    """


_SCOPE = pa.schema([("merchant_type", pa.string()), ("ship_mode", pa.string()),
                    ("pay_from", pa.int64()), ("pay_to", pa.int64()),
                    ("clause_id", pa.string())])  # fmt: skip


def _changed_rows(
    con: duckdb.DuckDBPyConnection, old: Path | None, new: pa.Table | None
) -> list[dict[str, object]]:
    """The rows in one side only (all of both when the columns differ), as scopes."""
    before = pq.read_table(old) if old is not None else None
    sides = [t for t in (before, new) if t is not None]
    if before is None or new is None or before.schema != new.schema:
        changed = sides
    else:
        con.register("inc_old", before)
        con.register("inc_new", new)
        changed = [con.sql(f"SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b}").to_arrow_table()
                   for a, b in (("inc_old", "inc_new"), ("inc_new", "inc_old"))]  # fmt: skip
    rows = []
    for table in changed:
        have = set(table.column_names)
        for row in table.to_pylist():
            rows.append({
                "merchant_type": row.get("merchant_type"), "ship_mode": row.get("ship_mode"),
                "pay_from": row.get("pay_time_from") if "pay_time_from" in have else None,
                "pay_to": row.get("pay_time_to") if "pay_time_to" in have else None,
                "clause_id": row.get("clause_id"),
            })  # fmt: skip
    return rows

"""The batch path: the checks of :mod:`lvyue.engine.expressions` run on DuckDB (default) or a
local PySpark session, over a facts directory loaded by :mod:`lvyue.facts`."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lvyue.engine import expressions as ex
from lvyue.engine.online import DEFAULT_HORIZON
from lvyue.engine.verdict import DETAILS, TIME, VERDICT_SCHEMA, sort_verdicts
from lvyue.facts import Facts
from lvyue.model.time import epoch_seconds
from lvyue.rulebook.context import FLAGS, Clock

Backend = Literal["duckdb", "spark"]


class Compiles(Protocol):
    """What the batch path needs of a rulebook."""

    def parameter_table(self) -> pa.Table: ...

    def category_key(self, category: str) -> str: ...


def evaluate_batch(
    facts: Facts,
    as_of: datetime,
    rulebook: Compiles,
    *,
    backend: Backend = "duckdb",
    horizon: timedelta = DEFAULT_HORIZON,
    spark: Any = None,
) -> pa.Table:
    """All verdicts as one Arrow table in canonical order (tests, small runs)."""
    batches = list(iter_verdicts(facts, as_of, rulebook, backend=backend, horizon=horizon,
                                 spark=spark))  # fmt: skip
    return sort_verdicts(pa.Table.from_batches(batches, VERDICT_SCHEMA))


def iter_verdicts(
    facts: Facts,
    as_of: datetime,
    rulebook: Compiles,
    *,
    backend: Backend = "duckdb",
    horizon: timedelta = DEFAULT_HORIZON,
    spark: Any = None,
    chunk_size: int = 1_000_000,
) -> Iterator[pa.RecordBatch]:
    """Verdicts streamed in record batches of VERDICT_SCHEMA (order not guaranteed)."""
    tables = backend_tables(facts, rulebook)
    with _connect(backend, spark) as conn:
        inputs = _inputs(conn, tables, as_of, horizon)
        for batch in conn.stream(ex.verdicts(inputs), chunk_size):
            yield finish_batch(batch)


def finish_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Epoch seconds → timestamps, and the detail text from (check, reason)."""
    keys = pc.binary_join_element_wise(batch["check"], batch["reason"], "|")
    names = pa.array(list(DETAILS))
    detail = pa.array(list(DETAILS.values())).take(pc.index_in(keys, value_set=names))
    columns = {name: batch[name] for name in VERDICT_SCHEMA.names if name not in ("detail",)}
    columns["deadline"] = batch["deadline"].cast(pa.int64()).cast(TIME)
    columns["done_at"] = batch["done_at"].cast(pa.int64()).cast(TIME)
    columns["detail"] = detail
    return pa.RecordBatch.from_pydict(columns, VERDICT_SCHEMA)


def backend_tables(facts: Facts, rulebook: Compiles) -> dict[str, pa.Table]:
    """The facts as the expressions read them: times as int64 epoch seconds, category keys."""
    o = facts.orders
    categories = pc.unique(o["category"])
    keys = pa.array([rulebook.category_key(c) for c in categories.to_pylist()], pa.string())
    orders = {
        "order_id": o["order_id"],
        "merchant_id": o["merchant_id"],
        "merchant_type": o["merchant_type"],
        "category_key": keys.take(pc.index_in(o["category"], value_set=categories)),
        "ship_mode": o["ship_mode"],
        **{f: o[f] if f in o.column_names else pa.nulls(o.num_rows, pa.bool_()).fill_null(False)
           for f in FLAGS},
        "inspection_code": o["inspection_code"],
        "carrier": o["carrier"],
        "waybill": o["waybill"],
        **{c: _epoch(o[c]) for c in ("pay_time", "promised_ship_time", "ship_time",
                                     "confirmed_receipt_time")},
    }  # fmt: skip
    a = facts.after_sales
    after_sales = {
        "aftersale_id": a["aftersale_id"],
        "order_id": a["order_id"],
        "type": a["type"],
        **{c: _epoch(a[c]) for c in a.column_names if a.schema.field(c).type == TIME},
    }
    r = facts.reports
    i = facts.inspections
    t = facts.tracking
    return {
        "orders": pa.table(orders),
        "tracking": pa.table({"carrier": t["carrier"], "waybill": t["waybill"],
                              "time": _epoch(t["time"]), "kind": t["kind"]}),
        "after_sales": pa.table(after_sales),
        "reports": pa.table({"merchant_id": r["merchant_id"], "status": r["status"],
                             "order_ids": r["order_ids"],
                             "new_deadline": _epoch(r["new_deadline"])}),
        "inspections": pa.table({"inspection_code": i["inspection_code"],
                                 "merchant_id": i["merchant_id"], "result": i["result"],
                                 "inspected_at": _epoch(i["inspected_at"])}),
        "params": rulebook.parameter_table(),
    }  # fmt: skip


VALUE_COLUMNS = ("value_kind", "value_seconds", "value_anchor", "value_instant", "value_bool",
                 "value_modes", "clause_id")  # fmt: skip


def parameter_slices(params: pa.Table) -> dict[str, ex.ParamSlice]:
    """The parameter table cut per parameter, keeping only the columns its rows vary on.

    A flag no clause of the parameter scopes on appears with both values in otherwise equal
    rows; dropping it (and the clocks no row bounds) keeps the join small and the same.
    """
    out: dict[str, ex.ParamSlice] = {}
    for parameter in sorted(pc.unique(params["parameter"]).to_pylist()):
        rows = params.filter(pc.equal(params["parameter"], parameter))
        clocks = [
            c
            for c in Clock
            if rows[f"{c.value}_from"].null_count < rows.num_rows
            or rows[f"{c.value}_to"].null_count < rows.num_rows
        ]
        bounds = [f"{c.value}_{side}" for c in clocks for side in ("from", "to")]
        keep = ["merchant_type", "category_key", "ship_mode", *bounds, *VALUE_COLUMNS]
        flags = [f for f in FLAGS if f"flag_{f}" in rows.column_names]
        used = []
        for flag in flags:
            others = [f"flag_{f}" for f in flags if f != flag]
            if not _flag_free(rows, f"flag_{flag}", [*keep, *others]):
                used.append(flag)
            else:
                rows = rows.filter(pc.invert(rows[f"flag_{flag}"])).drop_columns(f"flag_{flag}")
                flags = [f for f in flags if f != flag]
        table = rows.select([*keep, *(f"flag_{f}" for f in used)])
        out[parameter] = ex.ParamSlice(table, frozenset(clocks), tuple(used))
    return out


def _flag_free(rows: pa.Table, flag: str, columns: list[str]) -> bool:
    """True when the rows with the flag false and true are the same rows otherwise."""
    off = rows.filter(pc.invert(rows[flag])).select(columns)
    on = rows.filter(rows[flag]).select(columns)
    if off.num_rows != on.num_rows:
        return False
    order = [(c, "ascending") for c in columns]
    return bool(off.sort_by(order).equals(on.sort_by(order)))


def _epoch(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    return column.cast(TIME).cast(pa.int64())


Register = Callable[[str, pa.Table], Any]


def _inputs(
    conn: _connect,
    tables: dict[str, pa.Table],
    as_of: datetime,
    horizon: timedelta,
) -> ex.Inputs:
    register = conn.register
    slices = parameter_slices(tables.pop("params"))
    t = {name: register(name, table) for name, table in tables.items()}
    params = {
        name: ex.ParamSlice(register(f"param_{i}", s.table), s.clocks, s.flags)
        for i, (name, s) in enumerate(slices.items())
    }
    return ex.Inputs(
        orders=t["orders"],
        tracking=t["tracking"],
        after_sales=t["after_sales"],
        reports=t["reports"],
        inspections=t["inspections"],
        params=params,
        as_of=epoch_seconds(as_of),
        horizon=int(horizon.total_seconds()),
        materialize=conn.materialize,
    )


class _connect:
    """A backend connection: ``register`` makes an Arrow table an Ibis table, ``stream`` runs
    an expression into record batches."""

    def __init__(self, backend: Backend, spark: Any) -> None:
        self.backend = backend
        self.spark = spark
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._con: Any = None

    def __enter__(self) -> _connect:
        if self.backend == "duckdb":
            self._con = ibis.duckdb.connect()
        else:
            from lvyue.engine.spark import spark_session

            self._con = ibis.pyspark.connect(self.spark or spark_session())
            self._tmp = tempfile.TemporaryDirectory(prefix="lvyue-spark-")
        return self

    def register(self, name: str, table: pa.Table) -> Any:
        if self.backend == "duckdb":
            self._con.con.register(f"lvyue_{name}", table)  # zero-copy Arrow scan
            return self._con.table(f"lvyue_{name}")
        assert self._tmp is not None
        path = Path(self._tmp.name) / f"{name}.parquet"
        pq.write_table(table, path)
        return self._con.read_parquet(str(path), table_name=f"lvyue_{name}")

    def materialize(self, name: str, expr: Any) -> Any:
        if self.backend == "duckdb":
            return self._con.create_table(name, expr, temp=True)
        view = self._con.create_view(name, expr, overwrite=True)
        self._con._session.catalog.cacheTable(name)
        return view

    def stream(self, expr: Any, chunk_size: int) -> Iterator[pa.RecordBatch]:
        if self.backend == "duckdb":  # duckdb 2.0 has no fetch_record_batch for Ibis to use
            sql = str(self._con.compile(expr))
            yield from self._con.con.sql(sql).to_arrow_reader(chunk_size)
        else:
            yield from expr.to_pyarrow_batches(chunk_size=chunk_size)

    def __exit__(self, *exc: object) -> None:
        if self.backend == "duckdb":
            self._con.disconnect()
        if self._tmp is not None:
            self._tmp.cleanup()

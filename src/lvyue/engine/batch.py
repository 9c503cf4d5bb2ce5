"""The batch path: the checks of :mod:`lvyue.engine.expressions` run on DuckDB (default) or a
local PySpark session, over a facts directory loaded by :mod:`lvyue.facts`."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lvyue.engine import expressions as ex
from lvyue.engine.online import DEFAULT_HORIZON
from lvyue.engine.params import parameter_slices
from lvyue.engine.verdict import DETAILS, TIME, VERDICT_SCHEMA, sort_verdicts
from lvyue.facts import Facts
from lvyue.model.time import epoch_seconds
from lvyue.rulebook.context import FLAGS

Backend = Literal["duckdb", "spark"]

# The facts columns the batch path reads (backend_tables): with ``load_facts(columns=...)`` the
# rest (addresses, scan texts, ...) are never read, a third of the time and memory at 1 M.
BATCH_COLUMNS: dict[str, tuple[str, ...]] = {
    "orders": ("order_id", "merchant_id", "merchant_type", "category", "ship_mode", *FLAGS,
               "inspection_code", "carrier", "waybill", "pay_time", "promised_ship_time",
               "ship_time", "confirmed_receipt_time"),
    "tracking": ("carrier", "waybill", "time", "kind"),
    "after_sales": ("aftersale_id", "order_id", "type", "created_at", "merchant_handled_at",
                    "return_shipped_at", "merchant_received_at", "return_signed_at",
                    "refunded_at"),
    "reports": ("merchant_id", "status", "order_ids", "new_deadline"),
    "inspections": ("inspection_code", "merchant_id", "result", "inspected_at"),
}  # fmt: skip


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
    """Verdicts streamed in record batches of VERDICT_SCHEMA, sorted by order, request, check."""
    tables = backend_tables(facts, rulebook)
    slices = parameter_slices(tables.pop("params"))
    tables["settings"] = pa.table(
        {"as_of": [epoch_seconds(as_of)], "horizon": [int(horizon.total_seconds())]}
    )
    with _connect(backend, spark) as conn:
        for batch in conn.run(tables, slices, chunk_size):
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


def _epoch(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    return column.cast(TIME).cast(pa.int64())


def _inputs(conn: _connect, tables: dict[str, pa.Table], slices: Slices) -> ex.Inputs:
    t = {name: conn.register(name, table) for name, table in tables.items()}
    params = {
        name: ex.ParamSlice(conn.register(f"param_{i}", s.table), s.clocks, s.flags)
        for i, (name, s) in enumerate(slices.items())
    }
    settings = t["settings"]
    return ex.Inputs(
        orders=t["orders"],
        tracking=t["tracking"],
        after_sales=t["after_sales"],
        reports=t["reports"],
        inspections=t["inspections"],
        params=params,
        as_of=settings.as_of.as_scalar(),  # read at run time: the SQL does not depend on it
        horizon=settings.horizon.as_scalar(),
        materialize=conn.materialize,
    )


Slices = dict[str, ex.ParamSlice]


@dataclass
class _Plan:
    """The SQL of one run on DuckDB: temp tables to create in order, then the verdicts."""

    steps: list[tuple[str, str]] = field(default_factory=list)
    final: str = ""


# Compiling the Ibis expressions costs seconds; the SQL depends only on the shape of the
# inputs (table schemas and the parameter slices), so it is compiled once per shape.
_PLANS: dict[tuple[object, ...], _Plan] = {}


def _shape(tables: dict[str, pa.Table], slices: Slices) -> tuple[object, ...]:
    schemas = tuple((n, str(t.schema)) for n, t in sorted(tables.items()))
    parts = tuple(
        (n, str(s.table.schema), tuple(sorted(s.clocks)), s.flags) for n, s in slices.items()
    )
    return schemas, parts


class _connect:
    """A backend connection: ``run`` registers the Arrow inputs and streams the verdicts."""

    def __init__(self, backend: Backend, spark: Any) -> None:
        self.backend = backend
        self.spark = spark
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._con: Any = None
        self._plan: _Plan | None = None

    def __enter__(self) -> _connect:
        if self.backend == "duckdb":
            self._con = ibis.duckdb.connect()
        else:
            from lvyue.engine.spark import spark_session

            self._con = ibis.pyspark.connect(self.spark or spark_session())
            self._tmp = tempfile.TemporaryDirectory(prefix="lvyue-spark-")
        return self

    def run(
        self, tables: dict[str, pa.Table], slices: Slices, chunk_size: int
    ) -> Iterator[pa.RecordBatch]:
        if self.backend != "duckdb":
            expr = ex.verdicts(_inputs(self, tables, slices))
            yield from expr.to_pyarrow_batches(chunk_size=chunk_size)
            return
        key = _shape(tables, slices)
        plan = _PLANS.get(key)
        if plan is None:
            self._plan = _Plan()
            expr = ex.verdicts(_inputs(self, tables, slices))
            self._plan.final = str(self._con.compile(expr))
            _PLANS[key] = plan = self._plan
        else:
            raw = self._con.con
            for name, table in tables.items():
                raw.register(f"lvyue_{name}", table)
            for i, part in enumerate(slices.values()):
                raw.register(f"lvyue_param_{i}", part.table)
            for name, sql in plan.steps:
                raw.execute(f'CREATE TEMP TABLE "{name}" AS {sql}')
        # duckdb 2.0 has no fetch_record_batch for Ibis's own streaming: run the SQL directly
        yield from self._con.con.sql(plan.final).to_arrow_reader(chunk_size)

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
            assert self._plan is not None
            sql = str(self._con.compile(expr))
            self._plan.steps.append((name, sql))
            self._con.con.execute(f'CREATE TEMP TABLE "{name}" AS {sql}')
            return self._con.table(name)
        view = self._con.create_view(name, expr, overwrite=True)
        self._con._session.catalog.cacheTable(name)
        return view

    def __exit__(self, *exc: object) -> None:
        if self.backend == "duckdb":
            self._con.disconnect()
        if self._tmp is not None:
            self._tmp.cleanup()

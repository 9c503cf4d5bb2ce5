"""The batch path: the checks of :mod:`lvyue.engine.expressions` run on DuckDB (default) or a
local PySpark session.

``evaluate_file`` reads a facts directory inside DuckDB (:func:`lvyue.facts.scan_facts`) and
streams the sorted verdicts to a file, within a memory limit: the path for millions of
orders. ``evaluate_batch`` takes facts already loaded as Arrow (tests, preview, at-risk).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

import ibis
import ibis.expr.operations as ops
import pyarrow as pa
import pyarrow.parquet as pq

from lvyue.engine import expressions as ex
from lvyue.engine import plan_store
from lvyue.engine.duck import BATCH_COLUMNS, DEFAULT_MEMORY_LIMIT, Session
from lvyue.engine.online import DEFAULT_HORIZON
from lvyue.engine.params import parameter_slices
from lvyue.engine.verdict import VERDICT_SCHEMA
from lvyue.facts import BadRow, Facts, scan_facts
from lvyue.model.time import epoch_seconds

Backend = Literal["duckdb", "spark"]


class Compiles(Protocol):
    """What the batch path needs of a rulebook."""

    def parameter_table(self) -> pa.Table: ...

    def category_key(self, category: str) -> str: ...


@dataclass
class Run:
    """What ``evaluate_file`` did: verdicts written, and the facts read."""

    rows: int
    counts: Counter[tuple[str, str]]  # verdicts per (check, status)
    quarantine: list[BadRow] = field(default_factory=list)
    facts_counts: dict[str, tuple[int, int, int]] = field(default_factory=dict)


def evaluate_file(
    facts_dir: Path,
    as_of: datetime,
    rulebook: Compiles,
    out: Path,
    *,
    backend: Backend = "duckdb",
    horizon: timedelta = DEFAULT_HORIZON,
    skip_bad: bool = False,
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
    progress: Callable[[float], None] | None = None,
    spark: Any = None,
) -> Run:
    """Verdicts of a facts directory to ``out`` (.parquet or .csv), sorted by order, request,
    check. Raises FactsError on bad input unless ``skip_bad`` (then see ``Run.quarantine``)."""
    with Session(memory_limit) as session:
        scan = scan_facts(session.con, facts_dir, skip_bad=skip_bad, columns=BATCH_COLUMNS)
        relations, quarantine, facts_counts = scan.relations, scan.quarantine, scan.counts
        raw = _raw_verdicts(session, relations, as_of, rulebook, horizon, backend, spark)
        rows, counts = session.write(raw, out, progress)
    return Run(rows, counts, quarantine, facts_counts)


def evaluate_relations(
    session: Session,
    relations: Mapping[str, str],
    as_of: datetime,
    rulebook: Compiles,
    out: Path,
    *,
    backend: Backend = "duckdb",
    horizon: timedelta = DEFAULT_HORIZON,
    plans: Path | None = None,
) -> tuple[int, Counter[tuple[str, str]]]:
    """``evaluate_file`` on facts already scanned into ``session`` (incremental runs judge a
    subset there, without a second session); the temp tables it made are dropped after.
    ``plans``: a folder keeping the compiled SQL between processes (engine.plan_store)."""
    before = _temp_tables(session)
    raw = _raw_verdicts(session, relations, as_of, rulebook, horizon, backend, None, plans)
    written = session.write(raw, out)
    for name in _temp_tables(session) - before:
        session.con.execute(f'DROP TABLE IF EXISTS "{name}"')
    return written


def _temp_tables(session: Session) -> set[str]:
    found = session.con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary")
    return {str(name) for (name,) in found.fetchall()}


def at_risk_verdicts(
    facts_dir: Path,
    as_of: datetime,
    rulebook: Compiles,
    *,
    backend: Backend = "duckdb",
    horizon: timedelta = DEFAULT_HORIZON,
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
) -> pa.Table:
    """Pending verdicts due within ``horizon``, soonest first, evaluated out of core."""
    with tempfile.TemporaryDirectory(prefix="lvyue-at-risk-") as tmp:
        out = Path(tmp) / "verdicts.parquet"
        evaluate_file(facts_dir, as_of, rulebook, out, backend=backend, horizon=horizon,
                      memory_limit=memory_limit)  # fmt: skip
        risky = pq.read_table(out, filters=[("status", "==", "at_risk")])
    risky = risky.cast(VERDICT_SCHEMA)
    return risky.sort_by([("deadline", "ascending"), ("order_id", "ascending")])


def evaluate_batch(
    facts: Facts,
    as_of: datetime,
    rulebook: Compiles,
    *,
    backend: Backend = "duckdb",
    horizon: timedelta = DEFAULT_HORIZON,
    spark: Any = None,
) -> pa.Table:
    """All verdicts of loaded facts as one Arrow table (VERDICT_SCHEMA) in canonical order."""
    with Session(None) as session:
        relations = session.register_facts(facts)
        raw = _raw_verdicts(session, relations, as_of, rulebook, horizon, backend, spark)
        return session.fetch(raw)


def _raw_verdicts(
    session: Session,
    relations: Mapping[str, str],
    as_of: datetime,
    rulebook: Compiles,
    horizon: timedelta,
    backend: Backend,
    spark: Any,
    plans: Path | None = None,
) -> str:
    """The SQL (over ``session``) of the unsorted verdicts with epoch-second times."""
    session.create_views(relations, rulebook.category_key)
    slices = parameter_slices(rulebook.parameter_table())
    tables = {f"param_{i}": s.table for i, s in enumerate(slices.values())}
    tables["settings"] = pa.table(
        {"as_of": [epoch_seconds(as_of)], "horizon": [int(horizon.total_seconds())]}
    )
    for name, table in tables.items():
        session.con.register(f"lvyue_{name}", table)
    if backend == "spark":
        return _on_spark(session, tables, slices, spark)
    return _on_duckdb(session, slices, plans)


VIEWS = ("orders", "tracking", "after_sales", "reports", "inspections")


@dataclass
class _Plan:
    """The SQL of one run on DuckDB: temp tables to create in order, then the verdicts."""

    steps: list[tuple[str, str]] = field(default_factory=list)
    final: str = ""


# Compiling the Ibis expressions costs seconds; the SQL depends only on the shape of the
# inputs (view schemas and the parameter slices), so it is compiled once per shape.
_PLANS: dict[tuple[object, ...], _Plan] = {}


def _on_duckdb(
    session: Session, slices: dict[str, ex.ParamSlice], plans: Path | None = None
) -> str:
    """The verdicts' SQL; the plan compiled once per shape (kept in ``plans`` when given)."""
    con = session.con
    key = (
        tuple(str(con.sql(f"SELECT * FROM lvyue_{v} LIMIT 0").types) for v in VIEWS),
        tuple((n, str(s.table.schema), tuple(sorted(s.clocks)), s.flags)
              for n, s in slices.items()),
    )  # fmt: skip
    plan = _PLANS.get(key)
    stored = plan_store.load(plans, key) if plan is None and plans is not None else None
    if stored is not None:
        plan = _PLANS[key] = _Plan(*stored)
    if plan is not None:
        for name, sql in plan.steps:
            con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {sql}')
        return plan.final
    plan = _Plan()
    backend = ibis.duckdb.from_connection(con)

    def materialize(name: str, expr: Any) -> Any:
        sql = str(backend.compile(expr))
        plan.steps.append((name, sql))
        con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {sql}')
        return backend.table(name)

    inputs = _inputs(backend.table, slices, materialize)
    plan.final = str(backend.compile(_unsorted(ex.verdicts(inputs))))
    _PLANS[key] = plan
    if plans is not None:
        plan_store.save(plans, key, plan.steps, plan.final)
    return plan.final


def _on_spark(
    session: Session, tables: dict[str, pa.Table], slices: dict[str, ex.ParamSlice], spark: Any
) -> str:
    """The views and parameters go to Spark as Parquet; Spark writes each check's raw
    verdicts as Parquet, which DuckDB then sorts and finishes like its own. Nothing is
    collected into Python or onto the driver, so its heap does not grow with the orders.

    The prepared orders and requests are written as Parquet and read back, not cached: a
    cached view is re-analysed wherever a check reads it, and analysing the checks' plans
    cost Spark minutes of CPU before any row moved (docs/decisions/engine-spark-scale.md).
    """
    from lvyue.model.spark import spark_errors, spark_session

    tmp = Path(tempfile.mkdtemp(prefix="lvyue-spark-", dir=session.spill_dir))
    for view in VIEWS:
        session.con.execute(
            f"COPY lvyue_{view} TO '{tmp / view}.parquet' (FORMAT parquet)"
        ).fetchall()
    for name, table in tables.items():
        pq.write_table(table, tmp / f"{name}.parquet")
    with spark_errors():
        backend = ibis.pyspark.connect(spark or spark_session())
        names = [*VIEWS, *tables]
        loaded = {n: backend.read_parquet(str(tmp / f"{n}.parquet"), table_name=f"lvyue_{n}")
                  for n in names}  # fmt: skip

        def materialize(name: str, expr: Any) -> Any:
            backend.to_parquet(expr, tmp / name)
            return backend.read_parquet(str(tmp / name), table_name=name)

        inputs = _inputs(lambda n: loaded[n.removeprefix("lvyue_")], slices, materialize)
        written = tmp / "verdicts"
        for i, part in enumerate(ex.verdict_parts(inputs)):
            backend.to_parquet(part, written / f"{i:02d}")
    return f"SELECT * FROM read_parquet('{written}/*/*.parquet')"


def _inputs(
    table: Callable[[str], Any],
    slices: dict[str, ex.ParamSlice],
    materialize: Callable[[str, Any], Any],
) -> ex.Inputs:
    params = {
        name: ex.ParamSlice(table(f"lvyue_param_{i}"), s.clocks, s.flags)
        for i, (name, s) in enumerate(slices.items())
    }
    settings = table("lvyue_settings")
    return ex.Inputs(
        orders=table("lvyue_orders"),
        tracking=table("lvyue_tracking"),
        after_sales=table("lvyue_after_sales"),
        reports=table("lvyue_reports"),
        inspections=table("lvyue_inspections"),
        params=params,
        as_of=settings.as_of.as_scalar(),  # read at run time: the SQL does not depend on it
        horizon=settings.horizon.as_scalar(),
        materialize=materialize,
    )


def _unsorted(expr: Any) -> Any:
    """The session sorts the finished verdicts once: drop the expression's own sort."""
    node = expr.op()
    return node.parent.to_expr() if isinstance(node, ops.Sort) else expr

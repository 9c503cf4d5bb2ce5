"""Incremental evaluation: re-judge only the orders whose verdicts can have changed.

The facts grow by appended parts (``NAME/*.parquet``, docs/formats.md); the state directory
(:mod:`lvyue.engine.incremental_state`) keeps the verdicts partitioned by pay date, a wake
index and the watermark (the instant, the horizon, the files seen). A run re-evaluates, with
the ordinary batch (:func:`lvyue.engine.batch.evaluate_file`) on a facts directory cut down to
them, only:

- the orders the new parts name (a new order, its waybill's scans, its after-sales, a report
  listing it, its inspection code);
- the orders time alone can change: their wake (an open verdict's deadline less the horizon,
  a fact dated after the last instant) is at or before this instant;
- after a rule change, the orders whose verdicts cite a changed clause or which fall in a
  changed row's scope (merchant type, ship mode) and pay-time window;
- with them, the orders sharing their waybills or inspection codes (decided across orders).

It reads the new parts, the orders' key columns and the rows of the chosen orders, and
rewrites only the partitions holding them. A full run (the reference) happens when there is no
state, the instant moved back, the horizon changed, a file seen before changed or vanished, a
table is CSV, or the new rows do not validate on their own (the full run then names the bad
row). ``tests/engine/test_incremental.py`` holds incremental = full after every step.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from lvyue.engine import incremental_state as st
from lvyue.engine.batch import Backend, Compiles, evaluate_file
from lvyue.engine.duck import BATCH_COLUMNS, DEFAULT_MEMORY_LIMIT, Session
from lvyue.engine.online import DEFAULT_HORIZON
from lvyue.facts import TABLES, FactsError, Kind, scan_facts
from lvyue.facts.loader import find_files
from lvyue.model.files import write_atomically
from lvyue.model.time import epoch_seconds

# the time columns the checks read: a fact dated after the instant wakes its order then
_TIMES = {s.name: [c.name for c in s.columns
                   if c.kind == Kind.TIME and c.name in BATCH_COLUMNS[s.name]]
          for s in TABLES if s.name in BATCH_COLUMNS}  # fmt: skip
_FACTS = tuple(BATCH_COLUMNS)
_OPEN = ("pending", "at_risk")  # statuses the clock alone can change ("scheduled" is not:
# a settlement is scheduled once the receipt is seen, a dated fact)
_log = logging.getLogger(__name__)  # DEBUG: each phase's seconds (benchmarks/bench_incremental)
_KEYS = {
    "orders": "order_id",
    "after_sales": "aftersale_id",
    "reports": "report_id",
    "inspections": "inspection_code",
}


@dataclass
class Increment:
    """What a run did: how many orders it re-judged, out of how many, and why."""

    full: bool
    orders: int
    evaluated: int
    reasons: dict[str, int]  # orders selected per reason (they overlap)
    rows: int  # verdicts kept
    counts: Counter[tuple[str, str]]  # verdicts per (check, status)
    partitions: int = 0  # verdict partitions rewritten


class _FullRun(Exception):
    """Something only a full run can settle (e.g. another rulebook version's columns)."""


@dataclass
class _Run:
    facts: Path
    as_of: datetime
    rulebook: Compiles
    state: Path
    backend: Backend
    horizon: timedelta
    memory_limit: str | None

    @property
    def now(self) -> int:
        return epoch_seconds(self.as_of)

    @property
    def span(self) -> int:
        return int(self.horizon.total_seconds())

    def evaluate(self, facts: Path, out: Path) -> None:
        evaluate_file(facts, self.as_of, self.rulebook, out, backend=self.backend,
                      horizon=self.horizon, memory_limit=self.memory_limit)  # fmt: skip


def evaluate_incremental(
    facts_dir: Path,
    as_of: datetime,
    rulebook: Compiles,
    state: Path,
    out: Path | None = None,
    *,
    backend: Backend = "duckdb",
    horizon: timedelta = DEFAULT_HORIZON,
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
) -> Increment:
    """Bring the verdicts in ``state`` up to ``as_of`` and the facts; all of them to ``out``
    when given (a pass over every verdict: the state itself is the incremental output)."""
    run = _Run(facts_dir, as_of, rulebook, state, backend, horizon, memory_limit)
    state.mkdir(parents=True, exist_ok=True)
    mark = st.read_mark(state)
    files = _files(facts_dir)
    st.drop_mark(state)
    increment = None
    if mark is not None and _can_follow(mark, files, run):
        increment = _incremental(run, mark, files)
    if increment is None:
        increment = _full(run, files, out if out is not None and out.suffix != ".csv" else None)
    if out is not None and (not increment.full or out.suffix == ".csv"):
        _write_out(state, out, memory_limit)
    return increment


def _files(facts: Path) -> st.Files:
    found: st.Files = {}
    for name in _FACTS:
        paths = find_files(facts, name) if facts.is_dir() else []
        found[name] = [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in paths]
    return found


def _can_follow(mark: st.Mark, files: st.Files, run: _Run) -> bool:
    """Every file seen before is unchanged (appended parts only), and the clock and horizon
    allow it."""
    if run.now < mark.as_of or run.span != mark.horizon:
        return False
    for name, seen in mark.files.items():
        now = files.get(name, [])
        if now[: len(seen)] != seen:
            return False
    return True


# -- the full run ---------------------------------------------------------------------------


def _full(run: _Run, files: st.Files, out: Path | None) -> Increment:
    """Everything evaluated; the verdicts partitioned by pay date; the wake of every order."""
    shutil.rmtree(run.state / st.VERDICTS, ignore_errors=True)
    with Session(run.memory_limit) as session, _tmp(session) as tmp:
        con = session.con
        with _phase("evaluate"):
            run.evaluate(run.facts, tmp / "verdicts.parquet")
        with _phase("scan facts"):
            relations = scan_facts(con, run.facts, columns=BATCH_COLUMNS).relations
        con.execute(f"CREATE TEMP TABLE lvyue_days AS {_days_sql(relations['orders'])}")
        verdicts = _with_day(tmp / "verdicts.parquet")
        with _phase("partitions"):
            con.execute(
                f"COPY ({verdicts}) TO {st.quote(run.state / st.VERDICTS)} "
                "(FORMAT parquet, PARTITION_BY (day))"
            )
            counts = st.partition_counts(con, verdicts)
        with _phase("wake"):
            _write_wake(con, run, _wake_sql(relations, run, verdicts))
        orders = _count(con, "SELECT count(*) FROM lvyue_days")
        with _phase("params"):
            params = _write_params(con, run, None)
        if out is not None:  # the full run's file is already sorted
            _copy_atomically(tmp / "verdicts.parquet", out)
    st.write_mark(run.state, st.Mark(run.now, run.span, orders, files, params, counts))
    return _increment(True, orders, orders, {"full": orders}, counts, len(counts))


def _days_sql(orders: str) -> str:
    return f"SELECT order_id, {st.DAY_SQL.format(c='to_timestamp(pay_time)')} AS day FROM {orders}"


def _with_day(verdicts: Path) -> str:
    return (
        f"SELECT v.*, d.day FROM read_parquet({st.quote(verdicts)}) v "
        "JOIN lvyue_days d USING (order_id)"
    )


# -- the incremental run --------------------------------------------------------------------


def _incremental(run: _Run, mark: st.Mark, files: st.Files) -> Increment | None:
    """None: the new rows need a full run (a bad or repeated row, an unknown reference)."""
    new = {name: [p for p, _, _ in files[name][len(mark.files.get(name, [])) :]] for name in _FACTS}
    with Session(run.memory_limit) as session, _tmp(session) as tmp:
        con = session.con
        for name in _FACTS:
            _raw_view(con, name, [p for p, _, _ in files[name]], f"lvyue_all_{name}")
            _raw_view(con, name, new[name], f"lvyue_new_{name}")
        with _phase("check new rows"):
            if not _new_rows_are_plain(con, new):
                return None
        with _phase("select"):
            try:
                reasons = _select(con, run, mark)
            except _FullRun:
                return None
        with _phase("expand"):
            evaluated = _expand(con)
        added = _count(con, "SELECT count(*) FROM lvyue_new_orders")
        counts = mark.counts
        touched: set[str] = set()
        if evaluated:
            subset = tmp / "facts"
            with _phase("subset"):
                _write_subset(con, subset, files)
            try:
                with _phase("scan subset"):
                    relations = scan_facts(con, subset, columns=BATCH_COLUMNS).relations
                with _phase("evaluate subset"):
                    run.evaluate(subset, tmp / "verdicts.parquet")
            except FactsError:
                return None  # the full run names the bad row in its own file
            con.execute(f"CREATE TEMP TABLE lvyue_days AS {_days_sql(relations['orders'])}")
            verdicts = _with_day(tmp / "verdicts.parquet")
            with _phase("partitions"):
                touched = _rewrite_partitions(con, run.state, verdicts)
                counts = {d: c for d, c in counts.items() if d not in touched}
                counts |= _counts_of(con, run.state, touched)
            with _phase("wake"):
                _write_wake(con, run, _wake_sql(relations, run, verdicts), keep_old=True)
        with _phase("params"):
            params = _write_params(con, run, mark)
    orders = mark.orders + added
    st.write_mark(run.state, st.Mark(run.now, run.span, orders, files, params, counts))
    return _increment(False, orders, evaluated, reasons, counts, len(touched))


def _raw_view(con: duckdb.DuckDBPyConnection, name: str, paths: list[str], view: str) -> None:
    """The files as written (no validation: they were validated when first seen)."""
    if paths and paths[0].endswith(".csv"):  # text as load_facts reads it: "" is null
        source = (f"read_csv({st.quote(paths[0])}, all_varchar = true, header = true, "
                  "delim = ',', quote = '\"', escape = '\"')")  # fmt: skip
    elif paths:
        listed = ", ".join(st.quote(p) for p in paths)
        source = f"read_parquet([{listed}], union_by_name = true)"
    else:  # no file: no rows, with the key columns the selection reads
        columns = {"orders": "order_id, merchant_id, carrier, waybill, inspection_code",
                   "tracking": "carrier, waybill", "after_sales": "aftersale_id, order_id",
                   "reports": "report_id, merchant_id, order_ids",
                   "inspections": "inspection_code"}[name]  # fmt: skip
        nulls = ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in columns.split(", "))
        source = f"(SELECT {nulls} WHERE false)"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {source}")


def _new_rows_are_plain(con: duckdb.DuckDBPyConnection, new: dict[str, list[str]]) -> bool:
    """New rows that reference known orders and repeat no key: otherwise a full run, which
    reports the bad row where it is (the cut-down facts would misplace it)."""
    checks = [
        "SELECT 1 FROM lvyue_new_tracking t ANTI JOIN lvyue_all_orders o USING (carrier, waybill)",
        "SELECT 1 FROM lvyue_new_after_sales a ANTI JOIN lvyue_all_orders o USING (order_id)",
        *(f"SELECT {k} FROM lvyue_all_{t} WHERE {k} IN (SELECT {k} FROM lvyue_new_{t}) "
          f"GROUP BY 1 HAVING count(*) > 1" for t, k in _KEYS.items() if new[t]),
    ]  # fmt: skip
    return not any(_count(con, f"SELECT count(*) FROM ({c})") for c in checks if c)


def _select(con: duckdb.DuckDBPyConnection, run: _Run, mark: st.Mark) -> dict[str, int]:
    """``lvyue_reasons(order_id, why)``: the chosen orders; returns counts per reason."""
    wake = st.quote(run.state / st.WAKE)
    parts = [
        "SELECT order_id, 'facts' AS why FROM lvyue_new_orders",
        "SELECT order_id, 'facts' FROM lvyue_new_after_sales",
        "SELECT trim(unnest(string_split(order_ids, ';'))), 'facts' FROM lvyue_new_reports",
        "SELECT o.order_id, 'facts' FROM lvyue_all_orders o "
        "SEMI JOIN lvyue_new_tracking t USING (carrier, waybill)",
        "SELECT o.order_id, 'facts' FROM lvyue_all_orders o "
        "SEMI JOIN lvyue_new_inspections i USING (inspection_code)",
        f"SELECT order_id, 'clock' FROM read_parquet({wake}) WHERE wake <= {run.now}",
    ]
    rules = _changed_rules(con, run, mark)
    if rules:
        parts.append(rules)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lvyue_reasons AS "
        + " UNION ALL ".join(f"({p})" for p in parts)
    )
    found = con.execute(
        "SELECT why, count(DISTINCT order_id) FROM lvyue_reasons GROUP BY why"
    ).fetchall()
    return {str(why): int(n) for why, n in found}


def _changed_rules(con: duckdb.DuckDBPyConnection, run: _Run, mark: st.Mark) -> str:
    """The SQL of the orders a rule change touches ('' when the parameters are the same).
    Rare: it reads every kept verdict's clauses and every order's scope columns."""
    if _params_digest(con, run) == mark.params:
        return ""
    old = f"read_parquet({st.quote(run.state / st.PARAMS)})"
    before, now = (con.sql(f"SELECT * FROM {t} LIMIT 0") for t in (old, "lvyue_params_now"))
    if (before.columns, before.types) != (now.columns, now.types):
        raise _FullRun("the parameter table changed shape")
    # rows compared by their hash (the table has a row per category and scope: ~1 M)
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE lvyue_params_hashes AS
    (SELECT hash(x) AS h FROM lvyue_params_now x EXCEPT SELECT hash(x) FROM {old} x)
    UNION (SELECT hash(x) FROM {old} x EXCEPT SELECT hash(x) FROM lvyue_params_now x)
    """)
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE lvyue_params_changed AS
    SELECT * FROM lvyue_params_now x WHERE hash(x) IN (SELECT h FROM lvyue_params_hashes)
    UNION ALL SELECT * FROM {old} x WHERE hash(x) IN (SELECT h FROM lvyue_params_hashes)
    """)
    relations = scan_facts(con, run.facts, columns=BATCH_COLUMNS).relations
    return f"""
    SELECT DISTINCT v.order_id, 'rules' FROM ({st.all_verdicts(run.state)}) v
    WHERE list_has_any(string_split(v.clauses, ';'),
                       (SELECT list(DISTINCT clause_id) FROM lvyue_params_changed))
    UNION ALL
    SELECT o.order_id, 'rules' FROM {relations["orders"]} o JOIN (
        SELECT DISTINCT merchant_type, ship_mode, pay_time_from, pay_time_to
        FROM lvyue_params_changed) c
      ON (c.merchant_type IS NULL OR c.merchant_type = '' OR c.merchant_type = o.merchant_type)
     AND (c.ship_mode IS NULL OR c.ship_mode = '' OR c.ship_mode = o.ship_mode)
     AND (c.pay_time_from IS NULL OR o.pay_time >= c.pay_time_from)
     AND (c.pay_time_to IS NULL OR o.pay_time < c.pay_time_to)
    """


# parameter table -> its digest (the table is built once per rulebook and kept by it)
_DIGESTS: dict[int, tuple[object, int]] = {}


def _params_digest(con: duckdb.DuckDBPyConnection, run: _Run) -> int:
    """A digest of the rulebook's parameter table (registered as ``lvyue_params_now``): the
    sum of its rows' hashes (row order does not matter)."""
    table = run.rulebook.parameter_table()
    con.register("lvyue_params_now", table)
    known = _DIGESTS.get(id(table))
    if known is not None and known[0] is table:
        return known[1]
    digest = _count(con, "SELECT coalesce(sum(hash(x)), 0) % 9007199254740881 "
                         "FROM lvyue_params_now x")  # fmt: skip
    _DIGESTS[id(table)] = (table, digest)
    return digest


def _expand(con: duckdb.DuckDBPyConnection) -> int:
    """``lvyue_selected``: the key columns of the chosen orders and of those sharing their
    waybills or inspection codes (waybill ownership and code reuse are decided across orders);
    two passes over the orders' key columns."""
    keys = "order_id, merchant_id, carrier, waybill, inspection_code"
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE lvyue_chosen AS
    SELECT {keys} FROM lvyue_all_orders SEMI JOIN lvyue_reasons USING (order_id)
    """)
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE lvyue_selected AS
    SELECT {keys} FROM lvyue_all_orders
    WHERE order_id IN (SELECT order_id FROM lvyue_chosen)
       OR (waybill IS NOT NULL AND (carrier, waybill) IN
           (SELECT (carrier, waybill) FROM lvyue_chosen WHERE waybill IS NOT NULL))
       OR inspection_code IN
           (SELECT inspection_code FROM lvyue_chosen WHERE inspection_code IS NOT NULL)
    """)
    return _count(con, "SELECT count(*) FROM lvyue_selected")


def _write_subset(con: duckdb.DuckDBPyConnection, to: Path, files: st.Files) -> None:
    """The facts of the selected orders as a facts directory, rows as written (a CSV table
    as CSV, a Parquet one with its parts as one Parquet file)."""
    to.mkdir()
    sel = "lvyue_selected"
    filters = {
        "orders": f"order_id IN (SELECT order_id FROM {sel})",
        "tracking": f"(carrier, waybill) IN (SELECT (carrier, waybill) FROM {sel})",
        "after_sales": f"order_id IN (SELECT order_id FROM {sel})",
        "reports": f"merchant_id IN (SELECT merchant_id FROM {sel})",
        "inspections": f"inspection_code IN (SELECT inspection_code FROM {sel})",
    }
    for name, where in filters.items():
        if not files[name]:
            continue  # no file: the table stays absent
        csv = files[name][0][0].endswith(".csv")
        target = st.quote(to / f"{name}.{'csv' if csv else 'parquet'}")
        fmt = "(FORMAT csv, HEADER true)" if csv else "(FORMAT parquet)"
        con.execute(f"COPY (SELECT * FROM lvyue_all_{name} WHERE {where}) TO {target} {fmt}")


def _rewrite_partitions(con: duckdb.DuckDBPyConnection, state: Path, verdicts: str) -> set[str]:
    """Each partition holding a selected order: its other verdicts kept, the new ones added."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE lvyue_fresh AS {verdicts}")
    days = [str(d) for (d,) in con.execute(
        "SELECT DISTINCT day FROM lvyue_days ORDER BY 1").fetchall()]  # fmt: skip
    for day in days:
        path = st.partition_file(state, day)
        fresh = f"SELECT * EXCLUDE (day) FROM lvyue_fresh WHERE day = '{day}'"
        sql = fresh
        if path.exists():
            sql = (
                f"SELECT * FROM read_parquet({st.quote(path)}, hive_partitioning = false) "
                f"WHERE order_id NOT IN (SELECT order_id FROM lvyue_selected) UNION ALL {fresh}"
            )
        st.write_partition(con, sql, path)
    return set(days)


def _counts_of(
    con: duckdb.DuckDBPyConnection, state: Path, days: set[str]
) -> dict[str, dict[str, int]]:
    if not days:
        return {}
    listed = ", ".join(st.quote(st.partition_file(state, d)) for d in sorted(days))
    sql = f"SELECT *, regexp_extract(filename, 'day=([0-9-]+)', 1) AS day " \
          f"FROM read_parquet([{listed}], filename = true, hive_partitioning = false)"  # fmt: skip
    return st.partition_counts(con, sql)


def _wake_sql(relations: dict[str, str], run: _Run, verdicts: str) -> str:
    """Per order its wake: the earliest open deadline less the horizon (ALWAYS without one),
    or fact dated after the instant (unseen now, seen once the clock passes it)."""
    now, r = run.now, relations

    def later(table: str, alias: str = "x") -> str:
        picks = [f"CASE WHEN {alias}.{c} > {now} THEN {alias}.{c} END" for c in _TIMES[table]]
        return f"least({', '.join(picks)})" if picks else "NULL"

    return f"""
    WITH o AS (SELECT order_id, carrier, waybill, inspection_code FROM {r["orders"]}),
    w AS (
      SELECT order_id, coalesce(epoch(deadline)::BIGINT - {run.span}, {st.ALWAYS}) AS t
      FROM ({verdicts}) WHERE status IN ({", ".join(repr(s) for s in _OPEN)})
      UNION ALL SELECT order_id, {later("orders")} FROM {r["orders"]} x
      UNION ALL SELECT o.order_id, x.time FROM {r["tracking"]} x JOIN o USING (carrier, waybill)
        WHERE x.time > {now}
      UNION ALL SELECT order_id, {later("after_sales")} FROM {r["after_sales"]} x
      UNION ALL SELECT o.order_id, x.inspected_at FROM {r["inspections"]} x
        JOIN o USING (inspection_code) WHERE x.inspected_at > {now}
      UNION ALL SELECT trim(unnest(string_split(x.order_ids, ';'))), {later("reports")}
        FROM {r["reports"]} x
    )
    SELECT order_id, min(t) AS wake FROM w
    WHERE t IS NOT NULL AND order_id IN (SELECT order_id FROM o) GROUP BY 1
    """


def _write_wake(
    con: duckdb.DuckDBPyConnection, run: _Run, sql: str, *, keep_old: bool = False
) -> None:
    """The wake index, sorted by wake (a run reads the head of it)."""
    if keep_old:
        old = st.quote(run.state / st.WAKE)
        sql = (
            f"SELECT * FROM read_parquet({old}) WHERE order_id NOT IN "
            f"(SELECT order_id FROM lvyue_selected) UNION ALL ({sql})"
        )
    _copy_sql(con, f"{sql} ORDER BY wake", run.state / st.WAKE)


def _write_params(con: duckdb.DuckDBPyConnection, run: _Run, mark: st.Mark | None) -> int:
    """Keep the parameter table the verdicts follow (rewritten only when it changed); returns
    its digest."""
    digest = _params_digest(con, run)
    if mark is None or digest != mark.params:
        _copy_sql(con, "SELECT * FROM lvyue_params_now", run.state / st.PARAMS)
    return digest


def _increment(
    full: bool,
    orders: int,
    evaluated: int,
    reasons: dict[str, int],
    counts: dict[str, dict[str, int]],
    partitions: int,
) -> Increment:
    total: Counter[tuple[str, str]] = Counter()
    for per_day in counts.values():
        for key, n in per_day.items():
            check, status = key.split("|")
            total[(check, status)] += n
    rows = sum(total.values())
    return Increment(full, orders, evaluated, reasons, rows, total, partitions)


def _copy_sql(con: duckdb.DuckDBPyConnection, sql: str, to: Path) -> None:
    def write(tmp: Path) -> None:
        con.execute(f"COPY ({sql}) TO {st.quote(tmp)} (FORMAT parquet)")

    write_atomically(to, write)


def _copy_atomically(source: Path, to: Path) -> None:
    def write(tmp: Path) -> None:
        shutil.copyfile(source, tmp)

    write_atomically(to, write)


@contextmanager
def _phase(name: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    _log.debug("%s %.3f", name, time.perf_counter() - start)


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0])


class _tmp:
    """A temporary directory inside the session's spill directory."""

    def __init__(self, session: Session) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="lvyue-incr-", dir=session.spill_dir)

    def __enter__(self) -> Path:
        return Path(self._dir.name)

    def __exit__(self, *exc: object) -> None:
        self._dir.cleanup()


_CSV_TIME = (
    "strftime(make_timestamp((epoch({c})::BIGINT + 28800) * 1000000), '%Y-%m-%dT%H:%M:%S+08:00')"
)


def _write_out(state: Path, out: Path, memory_limit: str | None) -> None:
    """Every kept verdict to ``out`` as ``evaluate_file`` writes it (sorted by order, request,
    check; Parquet as the state keeps it, or CSV with Beijing times)."""
    with Session(memory_limit) as session:
        con = session.con
        names = con.sql(f"SELECT * FROM ({st.all_verdicts(state)}) LIMIT 0").columns
        csv = out.suffix == ".csv"
        columns = ", ".join(
            f"{_CSV_TIME.format(c=c)} AS {c}" if csv and c in ("deadline", "done_at") else f'"{c}"'
            for c in names
        )
        sql = (
            f"SELECT {columns} FROM ({st.all_verdicts(state)}) "
            'ORDER BY order_id, aftersale_id, "check"'
        )
        fmt = "(FORMAT csv, HEADER true)" if csv else "(FORMAT parquet)"

        def write(tmp: Path) -> None:
            con.execute(f"COPY ({sql}) TO {st.quote(tmp)} {fmt}")

        write_atomically(out, write)


__all__ = ["Increment", "evaluate_incremental"]

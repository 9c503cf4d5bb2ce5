"""Incremental evaluation: re-judge only the orders whose verdicts can have changed.

The facts grow by appended parts (``NAME/*.parquet``, docs/formats.md); the state directory
(:mod:`lvyue.engine.incremental_state`) keeps the verdicts partitioned by pay date, a wake
index, the orders' key columns, the rows of orders, scans and after-sales by pay date, the
parameter slices and the watermark (the instant, the horizon, the files seen). A run
re-evaluates, with the ordinary batch on the rows of the chosen orders, only:

- the orders the new parts name (a new order, its waybill's scans, its after-sales, a report
  listing it, its inspection code);
- the orders time alone can change: their wake (an open verdict's deadline less the horizon,
  a fact dated after the last instant) is at or before this instant;
- after a rule change, the orders whose verdicts cite a changed clause or which fall in a
  changed row's scope (merchant type, ship mode) and pay-time window;
- with them, the orders sharing their waybills or inspection codes (decided across orders).

It reads the new parts, the kept key columns, the kept rows of the chosen orders' days (not
the facts), reports and inspection results (small), and appends the new verdicts as one delta
(:mod:`lvyue.engine.incremental_deltas`: no partition rewritten until the deltas pass a bound);
the batch runs in the same DuckDB session on SQL compiled once and kept in the state. A full
run (the reference) happens when there is no state, the instant moved back, the horizon changed,
a file seen before changed or vanished, a part is typed unlike its table, or
the new rows do not validate on their own (the full run then names the bad row).
``tests/engine/test_incremental.py`` holds incremental = full after every step.
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
import pyarrow as pa
import pyarrow.parquet as pq

from lvyue.engine import incremental_deltas as deltas
from lvyue.engine import incremental_keys as kept_keys
from lvyue.engine import incremental_rules as rules
from lvyue.engine import incremental_state as st
from lvyue.engine.batch import Backend, Compiles, evaluate_relations
from lvyue.engine.duck import BATCH_COLUMNS, DEFAULT_MEMORY_LIMIT, Session
from lvyue.engine.online import DEFAULT_HORIZON
from lvyue.facts import TABLES, FactsError, Kind, scan_facts
from lvyue.facts.loader import columns_to_read, find_files
from lvyue.model.files import write_atomically
from lvyue.model.time import epoch_seconds

# the time columns the checks read: a fact dated after the instant wakes its order then
_TIMES = {s.name: [c.name for c in s.columns
                   if c.kind == Kind.TIME and c.name in BATCH_COLUMNS[s.name]]
          for s in TABLES if s.name in BATCH_COLUMNS}  # fmt: skip
_READ = {s.name: columns_to_read(s, BATCH_COLUMNS) or set() for s in TABLES}  # what a scan reads
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
_KEY_LIST = ", ".join(st.KEY_COLUMNS)


@dataclass
class Increment:
    """What a run did: how many orders it re-judged, out of how many, and why."""

    full: bool
    orders: int
    evaluated: int
    reasons: dict[str, int]  # orders selected per reason (they overlap)
    rows: int  # verdicts kept
    counts: Counter[tuple[str, str]]  # verdicts per (check, status)
    partitions: int = 0  # verdict partitions rewritten (a full run's, or a compaction's)
    deltas: int = 0  # deltas the state keeps after the run (incremental_deltas)


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

    def evaluate(self, session: Session, relations: dict[str, str], out: Path) -> None:
        evaluate_relations(session, relations, self.as_of, self.rulebook, out,
                           backend=self.backend, horizon=self.horizon,
                           plans=self.state / st.PLANS)  # fmt: skip


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
    with st.held(state):
        return _evaluate(run, out)


def _evaluate(run: _Run, out: Path | None) -> Increment:
    facts_dir, state, memory_limit = run.facts, run.state, run.memory_limit
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
    """Every file seen before is unchanged (appended parts only), every new part is typed as
    its table's first file, and the clock and horizon allow it."""
    if run.now < mark.as_of or run.span != mark.horizon:
        return False
    for name, seen in mark.files.items():
        now = files.get(name, [])
        if now[: len(seen)] != seen:
            return False
        if len(now) > len(seen) and not _typed_alike([p for p, _, _ in now], len(seen)):
            return False
    return True


def _typed_alike(paths: list[str], first_new: int) -> bool:
    """Each new part's columns are its table's first file's, with their types (a part may
    leave an optional column out): the kept rows and the facts then read alike."""
    if not paths[0].endswith(".parquet"):
        return False
    base = pq.read_schema(paths[0])
    for path in paths[max(first_new, 1) :]:
        part = pq.read_schema(path)
        for name in part.names:
            if base.get_field_index(name) < 0 or base.field(name).type != part.field(name).type:
                return False
    return True


# -- the full run ---------------------------------------------------------------------------


def _full(run: _Run, files: st.Files, out: Path | None) -> Increment:
    """Everything evaluated; the verdicts and kept rows partitioned by pay date; the keys and
    the wake of every order."""
    for folder in (st.VERDICTS, st.DELTAS, st.FACTS, st.KEYS):
        shutil.rmtree(run.state / folder, ignore_errors=True)
    with Session(run.memory_limit) as session, _tmp(session) as tmp:
        con = session.con
        with _phase("scan facts"):
            relations = scan_facts(con, run.facts, columns=BATCH_COLUMNS).relations
        with _phase("evaluate"):
            run.evaluate(session, relations, tmp / "verdicts.parquet")
        buckets = _buckets(con, relations["orders"], tmp / "verdicts.parquet")
        con.execute(f"CREATE TEMP TABLE inc_days AS {_days_sql(relations['orders'], buckets)}")
        verdicts = _with_day(tmp / "verdicts.parquet")
        with _phase("partitions"):
            con.execute(
                f"COPY ({verdicts}) TO {st.quote(run.state / st.VERDICTS)} "
                "(FORMAT parquet, PARTITION_BY (day, bucket))"
            )
            counts = st.partition_counts(con, verdicts)
        with _phase("wake"):
            _write_wake(con, run, _wake_sql(relations, run, verdicts))
        with _phase("keep facts"):
            for name in _FACTS:
                _raw_view(con, name, [p for p, _, _ in files[name]], f"inc_new_{name}")
            con.execute("CREATE TEMP VIEW inc_orders_read AS SELECT * FROM inc_new_orders")
            _keep_rows(con, run.state, 0, _kept_tables(files), keys=bool(files["orders"]))
            kept_keys.keep_shared(con, run.state, full=True)
        orders = _count(con, "SELECT count(*) FROM inc_days")
        with _phase("params"):
            params = _keep_params(run, None)
        if out is not None:  # the full run's file is already sorted
            _copy_atomically(tmp / "verdicts.parquet", out)
    mark = st.Mark(run.now, run.span, orders, files, params, counts, 0, buckets)
    st.write_mark(run.state, mark)
    return _increment(True, orders, orders, {"full": orders}, counts, len(counts))


def _days_sql(orders: str, buckets: int) -> str:
    """Each order's pay date and bucket (its verdicts' partition)."""
    day = st.DAY_SQL.format(c="to_timestamp(pay_time)")
    return f"SELECT order_id, {day} AS day, {st.bucket_sql(buckets)} AS bucket FROM {orders}"


def _buckets(con: duckdb.DuckDBPyConnection, orders: str, verdicts: Path) -> int:
    """Buckets per day so that a partition holds about st.PART_ROWS verdicts: a run that
    re-judges one order of an old day rewrites that much, not the day's verdicts."""
    rows = _count(con, f"SELECT count(*) FROM read_parquet({st.quote(verdicts)})")
    day = st.DAY_SQL.format(c="to_timestamp(pay_time)")
    days = _count(con, f"SELECT count(DISTINCT {day}) FROM {orders}")
    return max(1, round(rows / max(days, 1) / st.PART_ROWS))


def _with_day(verdicts: Path) -> str:
    return (
        f"SELECT v.*, d.day, d.bucket FROM read_parquet({st.quote(verdicts)}) v "
        "JOIN inc_days d USING (order_id)"
    )


def _keep_rows(
    con: duckdb.DuckDBPyConnection, state: Path, run: int, tables: list[str], *, keys: bool
) -> None:
    """The rows of ``inc_new_*`` (every row in a full run, the new parts' otherwise) of
    ``tables``, kept under their order's day (``inc_days``, ``inc_orders_read``: every order
    they name), and with ``keys`` the key columns of the orders in ``inc_new_orders``."""
    (state / st.KEYS).mkdir(exist_ok=True)
    if keys:
        sql = f"SELECT {_keys_of(con, 'inc_new_orders')}, d.day FROM inc_new_orders " \
              "JOIN inc_days d USING (order_id)"  # fmt: skip
        target = st.quote(state / st.KEYS / f"{st.run_name(run)}.parquet")
        con.execute(f"COPY ({sql}) TO {target} (FORMAT parquet)")
    waybill_days = (
        "SELECT carrier, waybill, min(day) AS day FROM (SELECT o.carrier, o.waybill, d.day "
        "FROM inc_orders_read o JOIN inc_days d USING (order_id)) GROUP BY ALL"
    )
    by_day = {
        "orders": "SELECT {c}, d.day FROM inc_new_orders x JOIN inc_days d USING (order_id)",
        "tracking": f"SELECT {{c}}, w.day FROM inc_new_tracking x JOIN ({waybill_days}) w "
        "USING (carrier, waybill)",
        "after_sales": "SELECT {c}, d.day FROM inc_new_after_sales x JOIN inc_days d "
        "USING (order_id)",
    }
    for name in tables:
        have = con.sql(f"SELECT * FROM inc_new_{name} LIMIT 0").columns
        columns = ", ".join(f'x."{c}"' for c in have if c in _READ[name])
        st.append_by_day(con, by_day[name].format(c=columns), state, name, run)


def _kept_tables(files: st.Files) -> list[str]:
    """The tables whose rows the state keeps: those read from Parquet (a CSV table takes no
    parts; it is read from the facts)."""
    return [n for n in st.KEPT if files[n] and files[n][0][0].endswith(".parquet")]


# -- the incremental run --------------------------------------------------------------------


def _incremental(run: _Run, mark: st.Mark, files: st.Files) -> Increment | None:
    """None: the new rows need a full run (a bad or repeated row, an unknown reference)."""
    new = {name: [p for p, _, _ in files[name][len(mark.files.get(name, [])) :]] for name in _FACTS}
    number = mark.run + 1
    with Session(run.memory_limit) as session, _tmp(session) as tmp:
        con = session.con
        for name in _FACTS:
            _raw_view(con, name, new[name], f"inc_new_{name}")
        con.execute(  # a new order's key row has no day yet (it is judged first)
            f"CREATE TEMP VIEW inc_new_keys AS SELECT {_keys_of(con, 'inc_new_orders')}, "
            "CAST(NULL AS VARCHAR) AS day FROM inc_new_orders"
        )
        con.execute(
            f"CREATE TEMP VIEW inc_keys AS {st.all_keys(run.state)} "
            "UNION ALL SELECT * FROM inc_new_keys"
        )
        with _phase("probe keys"):
            kept_keys.probe(con, run.state, run.now, {n for n, paths in new.items() if paths})
        with _phase("check new rows"):
            if not _new_rows_are_plain(con, new, files):
                return None
        with _phase("select"):
            tables = rules.slices(run.rulebook)
            params = rules.digest(tables)
            reasons = _select(con, run, mark, tables if params != mark.params else None)
        with _phase("expand"):
            evaluated = kept_keys.expand(con)
        added = _count(con, "SELECT count(*) FROM inc_new_orders")
        counts, folded = mark.counts, 0
        if evaluated:
            subset = tmp / "facts"
            with _phase("subset"):
                _write_subset(con, run, subset, files, new)
            try:
                with _phase("scan subset"):
                    relations = scan_facts(con, subset, columns=BATCH_COLUMNS).relations
            except FactsError:
                return None  # the full run names the bad row in its own file
            days = _days_sql(relations["orders"], mark.buckets)
            con.execute(f"CREATE TEMP TABLE inc_days AS {days}")
            if not _every_new_row_has_a_day(con, new):
                return None
            with _phase("evaluate subset"):
                run.evaluate(session, relations, tmp / "verdicts.parquet")
            verdicts = _with_day(tmp / "verdicts.parquet")
            with _phase("delta"):
                counts = deltas.append(con, run.state, number, tmp / "verdicts.parquet",
                                       "SELECT * FROM inc_days", counts)  # fmt: skip
            if deltas.due(run.state, counts):
                with _phase("compact"):
                    folded = deltas.compact(con, run.state)
            with _phase("wake"):
                _write_wake(con, run, _wake_sql(relations, run, verdicts), keep_old=True)
            with _phase("keep facts"):
                kept = [n for n in _kept_tables(files) if new[n]]
                _keep_rows(con, run.state, number, kept, keys=bool(new["orders"]))
                if new["orders"]:
                    kept_keys.keep_shared(con, run.state, full=False)
        with _phase("params"):
            if params != mark.params:
                rules.keep(run.state, tables)
    orders = mark.orders + added
    now = st.Mark(run.now, run.span, orders, files, params, counts, number, mark.buckets)
    st.write_mark(run.state, now)
    held = len(st.delta_files(run.state))
    return _increment(False, orders, evaluated, reasons, counts, folded, held)


def _raw_view(con: duckdb.DuckDBPyConnection, name: str, paths: list[str], view: str) -> None:
    """The files as written (no validation: they were validated when first seen)."""
    if paths and paths[0].endswith(".csv"):  # text as load_facts reads it: "" is null
        source = (f"read_csv({st.quote(paths[0])}, all_varchar = true, header = true, "
                  "delim = ',', quote = '\"', escape = '\"')")  # fmt: skip
    elif paths:
        listed = ", ".join(st.quote(p) for p in paths)
        source = f"read_parquet([{listed}], union_by_name = true)"
    else:  # no file: no rows, with the key columns the selection reads
        columns = {"orders": _KEY_LIST, "tracking": "carrier, waybill",
                   "after_sales": "aftersale_id, order_id",
                   "reports": "report_id, merchant_id, order_ids",
                   "inspections": "inspection_code"}[name]  # fmt: skip
        nulls = ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in columns.split(", "))
        source = f"(SELECT {nulls} WHERE false)"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {source}")


def _keys_of(con: duckdb.DuckDBPyConnection, view: str) -> str:
    """The key columns of an orders relation (null where its file leaves one out)."""
    have = set(con.sql(f"SELECT * FROM {view} LIMIT 0").columns)
    return ", ".join(c if c in have else f"CAST(NULL AS VARCHAR) AS {c}" for c in st.KEY_COLUMNS)


def _new_rows_are_plain(
    con: duckdb.DuckDBPyConnection, new: dict[str, list[str]], files: st.Files
) -> bool:
    """New rows that reference known orders and repeat no key: otherwise a full run, which
    reports the bad row where it is (the cut-down facts would misplace it)."""
    checks = [  # inc_hit holds every kept key row of these waybills and orders
        "SELECT 1 FROM inc_new_tracking t ANTI JOIN inc_hit o USING (carrier, waybill)",
        "SELECT 1 FROM inc_new_after_sales a ANTI JOIN inc_hit o USING (order_id)",
        "SELECT order_id FROM inc_hit WHERE order_id IN (SELECT order_id FROM inc_new_orders) "
        "GROUP BY 1 HAVING count(*) > 1",
    ]
    for table, key in _KEYS.items():
        if table == "orders" or not new[table]:
            continue
        _raw_view(con, table, [p for p, _, _ in files[table]], f"inc_all_{table}")
        repeated = f"{key} IN (SELECT {key} FROM inc_new_{table})"
        checks.append(
            f"SELECT {key} FROM inc_all_{table} WHERE {repeated} GROUP BY 1 HAVING count(*) > 1"
        )
    return not any(_count(con, f"SELECT count(*) FROM ({c})") for c in checks)


def _select(
    con: duckdb.DuckDBPyConnection, run: _Run, mark: st.Mark, tables: dict[str, pa.Table] | None
) -> dict[str, int]:
    """``inc_reasons(order_id, why)``: the chosen orders; returns counts per reason.
    ``tables``: the parameter slices when they changed (their orders' keys join ``inc_hit``)."""
    parts = [
        "SELECT order_id, 'facts' AS why FROM inc_new_orders",
        "SELECT order_id, 'facts' FROM inc_new_after_sales",
        "SELECT trim(unnest(string_split(order_ids, ';'))), 'facts' FROM inc_new_reports",
        "SELECT o.order_id, 'facts' FROM inc_hit o "
        "SEMI JOIN inc_new_tracking t USING (carrier, waybill)",
        "SELECT o.order_id, 'facts' FROM inc_hit o "
        "SEMI JOIN inc_new_inspections i USING (inspection_code)",
        "SELECT order_id, 'clock' FROM inc_woken",
    ]
    if tables is not None:
        relations = scan_facts(con, run.facts, columns=BATCH_COLUMNS).relations
        changed = rules.changed_orders(con, run.state, tables, relations["orders"])
        con.execute(f"CREATE OR REPLACE TEMP TABLE inc_rules AS {changed}")
        parts.append("SELECT * FROM inc_rules")
        missing = "SELECT order_id FROM inc_rules EXCEPT SELECT order_id FROM inc_hit"
        con.execute(f"INSERT INTO inc_hit SELECT * FROM inc_keys WHERE order_id IN ({missing})")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE inc_reasons AS " + " UNION ALL ".join(f"({p})" for p in parts)
    )
    found = con.execute(
        "SELECT why, count(DISTINCT order_id) FROM inc_reasons GROUP BY why"
    ).fetchall()
    return {str(why): int(n) for why, n in found}


def _write_subset(
    con: duckdb.DuckDBPyConnection, run: _Run, to: Path, files: st.Files, new: dict[str, list[str]]
) -> None:
    """The facts of the selected orders as a facts directory, rows as written: orders, scans
    and after-sales from the kept rows of their days and the new parts, reports and
    inspection results from the facts (a CSV table from its file)."""
    to.mkdir()
    sel = "inc_selected"
    days = [str(d) for (d,) in con.execute(
        f"SELECT DISTINCT day FROM {sel} WHERE day IS NOT NULL ORDER BY 1").fetchall()]  # fmt: skip
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
        first = files[name][0][0]
        csv = first.endswith(".csv")
        if csv or name not in st.KEPT:
            paths = [p for p, _, _ in files[name]]
        else:
            paths = [*map(str, st.kept_facts(run.state, name, days)), *new[name]]
        source = f"inc_subset_{name}"
        _raw_view(con, name, paths or [first], source)
        if not paths:  # nothing kept for these days: the table's columns, no rows
            where = "false"
        target = st.quote(to / f"{name}.{'csv' if csv else 'parquet'}")
        fmt = "(FORMAT csv, HEADER true)" if csv else "(FORMAT parquet)"
        con.execute(f"COPY (SELECT * FROM {source} WHERE {where}) TO {target} {fmt}")
    # the orders read (their raw keys place the new scans under a day)
    written = [str(p) for p in to.glob("orders.*")]
    _raw_view(con, "orders", written, "inc_orders_read")


def _every_new_row_has_a_day(con: duckdb.DuckDBPyConnection, new: dict[str, list[str]]) -> bool:
    """The new orders, and the orders of the new scans and after-sales, were judged (so
    their rows are kept under a day); otherwise a full run."""
    checks = [
        "SELECT 1 FROM inc_new_orders ANTI JOIN inc_days USING (order_id)",
        "SELECT 1 FROM inc_new_after_sales ANTI JOIN inc_days USING (order_id)",
        "SELECT 1 FROM inc_new_tracking ANTI JOIN (SELECT carrier, waybill FROM inc_orders_read "
        "SEMI JOIN inc_days USING (order_id)) USING (carrier, waybill)",
    ]
    return not any(_count(con, f"SELECT count(*) FROM ({c})") for c in checks)


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
            f"(SELECT order_id FROM inc_selected) UNION ALL ({sql})"
        )
    _copy_sql(con, f"{sql} ORDER BY wake", run.state / st.WAKE)


def _keep_params(run: _Run, mark: st.Mark | None) -> str:
    """Keep the parameter slices the verdicts follow; returns their digest."""
    tables = rules.slices(run.rulebook)
    digest = rules.digest(tables)
    if mark is None or digest != mark.params:
        rules.keep(run.state, tables)
    return digest


def _increment(
    full: bool,
    orders: int,
    evaluated: int,
    reasons: dict[str, int],
    counts: dict[str, dict[str, int]],
    partitions: int,
    kept: int = 0,
) -> Increment:
    total: Counter[tuple[str, str]] = Counter()
    for per_day in counts.values():
        for key, n in per_day.items():
            check, status = key.split("|")
            total[(check, status)] += n
    rows = sum(total.values())
    return Increment(full, orders, evaluated, reasons, rows, total, partitions, kept)


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

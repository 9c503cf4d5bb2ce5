"""Incremental evaluation: re-judge only the orders whose verdicts can have changed.

A state directory keeps the last verdicts with the watermark they were computed from: the
instant, the horizon, the rulebook's parameter table, and one fingerprint per order of every
fact the checks read about it (its row, its waybill's scans and co-owners, its after-sales,
its merchant's reports, its inspection code and the orders sharing it). A run re-evaluates,
with the ordinary batch (:func:`lvyue.engine.batch.evaluate_file`) on a facts directory cut
down to them:

- orders whose fingerprint is new or changed (new or corrected rows in any table);
- orders that time alone can change: a verdict still pending or at risk whose
  deadline falls before this instant plus the horizon, or a fact dated between the last
  instant and this one (facts after the instant are not yet seen);
- orders a rule change touches: their verdicts cite a changed clause, or they fall in a changed
  row's scope (merchant type, ship mode) and pay-time window (category and the other clocks
  are left out: a superset is safe);
- with them, the orders sharing their waybills or inspection codes (decided across orders).

The other verdicts are kept. A full run (no state, the instant moved back, another horizon)
is the reference; ``tests/engine/test_incremental.py`` holds the two equal.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from lvyue.engine.batch import Backend, Compiles, evaluate_file
from lvyue.engine.duck import BATCH_COLUMNS, DEFAULT_MEMORY_LIMIT, Session
from lvyue.engine.online import DEFAULT_HORIZON
from lvyue.engine.output import write_atomically
from lvyue.engine.verdict import VERDICT_SCHEMA, sort_verdicts
from lvyue.facts import TABLES, Kind, scan_facts
from lvyue.model.time import epoch_seconds

_TIMES = {s.name: [c.name for c in s.columns if c.kind == Kind.TIME] for s in TABLES}
_OPEN = ("pending", "at_risk")  # statuses the clock alone can change ("scheduled" is not:
# a settlement is scheduled once the receipt is seen, a dated fact)
# the verdicts file as evaluate_file writes it: Parquet timestamps in microseconds
_FILE_SCHEMA = pa.schema(
    [f.with_type(pa.timestamp("us", tz="UTC")) if pa.types.is_timestamp(f.type) else f
     for f in VERDICT_SCHEMA]
)  # fmt: skip
_VERDICTS, _PRINTS = "verdicts.parquet", "fingerprints.parquet"
_PARAMS, _MARK = "params.parquet", "state.json"


@dataclass
class Increment:
    """What a run did: how many orders it re-judged, out of how many, and why."""

    full: bool
    orders: int
    evaluated: int
    reasons: dict[str, int]  # orders selected per reason (they overlap)
    rows: int  # verdicts written
    counts: Counter[tuple[str, str]]  # verdicts per (check, status)


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
    """Bring the verdicts in ``state`` up to ``as_of`` and the facts; copy them to ``out``."""
    state.mkdir(parents=True, exist_ok=True)
    mark = _read_mark(state)
    now, span = epoch_seconds(as_of), int(horizon.total_seconds())
    full = mark is None or now < mark["as_of"] or span != mark["horizon"]
    params = rulebook.parameter_table()
    with (
        Session(memory_limit) as session,
        tempfile.TemporaryDirectory(prefix="lvyue-incr-", dir=session.spill_dir) as tmp,
    ):
        con = session.con
        relations = scan_facts(con, facts_dir, columns=BATCH_COLUMNS).relations
        _fingerprints(con, relations)
        orders = _count(con, "SELECT count(*) FROM lvyue_prints")
        if full:
            reasons = {"full": orders}
            evaluate_file(facts_dir, as_of, rulebook, Path(tmp) / _VERDICTS, backend=backend,
                          horizon=horizon, memory_limit=memory_limit)  # fmt: skip
            con.execute(f"CREATE TEMP VIEW lvyue_new AS {_read(Path(tmp) / _VERDICTS)}")
            evaluated = orders
        else:
            assert mark is not None
            reasons = _select(con, state, relations, params, mark["as_of"], now, span)
            evaluated = _expand(con, relations)
            kept = (
                f"SELECT * FROM ({_read(state / _VERDICTS)}) "
                "WHERE order_id IN (SELECT order_id FROM lvyue_prints) "
                "AND order_id NOT IN (SELECT order_id FROM lvyue_selected)"
            )
            if evaluated:  # an empty facts directory is not worth a batch run
                subset = Path(tmp) / "facts"
                _write_subset(con, relations, subset)
                evaluate_file(subset, as_of, rulebook, Path(tmp) / _VERDICTS, backend=backend,
                              horizon=horizon, memory_limit=memory_limit)  # fmt: skip
                kept += f" UNION ALL {_read(Path(tmp) / _VERDICTS)}"
            con.execute(f"CREATE TEMP VIEW lvyue_new AS {kept}")
        verdicts = sort_verdicts(con.sql("SELECT * FROM lvyue_new").to_arrow_table())
        verdicts = verdicts.cast(_FILE_SCHEMA)
        prints = con.sql("SELECT order_id, print FROM lvyue_prints").to_arrow_table()
    _save(state, verdicts, prints, params, now, span)
    if out is not None:
        _write_out(verdicts, out)
    grouped = verdicts.group_by(["check", "status"]).aggregate([("order_id", "count")])
    counts = Counter({(str(c), str(st)): int(k) for c, st, k in zip(*grouped.columns, strict=True)})
    return Increment(full, orders, evaluated, reasons, verdicts.num_rows, counts)


def _read(path: Path) -> str:
    return f"SELECT * FROM read_parquet('{str(path).replace(chr(39), chr(39) * 2)}')"


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0])


def _read_mark(state: Path) -> dict[str, Any] | None:
    if not all((state / name).exists() for name in (_MARK, _VERDICTS, _PRINTS, _PARAMS)):
        return None
    mark: dict[str, Any] = json.loads((state / _MARK).read_text())
    return mark


def _fingerprints(con: duckdb.DuckDBPyConnection, r: dict[str, str]) -> None:
    """``lvyue_prints(order_id, print)``: a hash of every fact the checks read per order
    (lists of row hashes sorted, so row order does not matter and duplicates still count)."""
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE lvyue_prints AS
    WITH o AS (SELECT order_id, merchant_id, carrier, waybill, inspection_code,
                      hash(x) AS h FROM {r["orders"]} x),
    t AS (SELECT carrier, waybill, hash(list_sort(list(hash(x)))) AS h
          FROM {r["tracking"]} x GROUP BY ALL),
    g AS (SELECT carrier, waybill, hash(list_sort(list(h))) AS h
          FROM o WHERE waybill IS NOT NULL GROUP BY ALL),
    c AS (SELECT inspection_code, hash(list_sort(list(h))) AS h
          FROM o WHERE inspection_code IS NOT NULL GROUP BY ALL),
    a AS (SELECT order_id, hash(list_sort(list(hash(x)))) AS h
          FROM {r["after_sales"]} x GROUP BY ALL),
    p AS (SELECT merchant_id, hash(list_sort(list(hash(x)))) AS h
          FROM {r["reports"]} x GROUP BY ALL),
    i AS (SELECT inspection_code, hash(list_sort(list(hash(x)))) AS h
          FROM {r["inspections"]} x GROUP BY ALL)
    SELECT o.order_id, hash(o.h, t.h, g.h, c.h, a.h, p.h, i.h) AS print, o.merchant_id, o.carrier,
           o.waybill, o.inspection_code
    FROM o LEFT JOIN t USING (carrier, waybill) LEFT JOIN g USING (carrier, waybill)
         LEFT JOIN a USING (order_id) LEFT JOIN p USING (merchant_id)
         LEFT JOIN i USING (inspection_code) LEFT JOIN c USING (inspection_code)
    """)


def _select(
    con: duckdb.DuckDBPyConnection,
    state: Path,
    r: dict[str, str],
    params: pa.Table,
    then: int,
    now: int,
    span: int,
) -> dict[str, int]:
    """``lvyue_selected(order_id, why)``: the orders to re-judge; returns counts per reason."""
    con.execute(f"CREATE TEMP VIEW lvyue_old AS {_read(state / _VERDICTS)}")
    con.execute(f"CREATE TEMP VIEW lvyue_old_prints AS {_read(state / _PRINTS)}")
    parts = [
        "SELECT n.order_id, 'facts' AS why FROM lvyue_prints n "
        "LEFT JOIN lvyue_old_prints p USING (order_id) WHERE p.print IS DISTINCT FROM n.print",
        "SELECT DISTINCT order_id, 'clock' FROM lvyue_old WHERE status IN "
        f"({', '.join(repr(s) for s in _OPEN)}) "
        f"AND (deadline IS NULL OR epoch(deadline) <= {now + span})",
        *(f"SELECT order_id, 'clock' FROM ({sql})" for sql in _dated(con, r, then, now)),
    ]
    rules = _changed_rules(con, state, params, r["orders"])
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


def _dated(con: duckdb.DuckDBPyConnection, r: dict[str, str], then: int, now: int) -> list[str]:
    """Orders with a fact dated in (then, now]: unseen at the last run, seen now."""

    def within(table: str) -> str:
        have = set(con.sql(f"SELECT * FROM {r[table]} LIMIT 0").columns)
        times = [c for c in _TIMES[table] if c in have]
        return " OR ".join(f"(x.{c} > {then} AND x.{c} <= {now})" for c in times) or "false"

    return [
        f"SELECT order_id FROM {r['orders']} x WHERE {within('orders')}",
        f"SELECT o.order_id FROM lvyue_prints o JOIN {r['tracking']} x "
        f"USING (carrier, waybill) WHERE {within('tracking')}",
        f"SELECT order_id FROM {r['after_sales']} x WHERE {within('after_sales')}",
        f"SELECT o.order_id FROM lvyue_prints o JOIN {r['reports']} x "
        f"USING (merchant_id) WHERE {within('reports')}",
        f"SELECT o.order_id FROM lvyue_prints o JOIN {r['inspections']} x "
        f"USING (inspection_code) WHERE {within('inspections')}",
    ]


def _changed_rules(
    con: duckdb.DuckDBPyConnection, state: Path, params: pa.Table, orders: str
) -> str:
    """The SQL of the orders a rule change touches ('' when the parameters are the same)."""
    con.register("lvyue_params_new", params)
    con.execute(f"CREATE TEMP VIEW lvyue_params_old AS {_read(state / _PARAMS)}")
    con.execute("""
    CREATE OR REPLACE TEMP TABLE lvyue_params_changed AS
    (SELECT * FROM lvyue_params_new EXCEPT SELECT * FROM lvyue_params_old)
    UNION ALL (SELECT * FROM lvyue_params_old EXCEPT SELECT * FROM lvyue_params_new)
    """)
    if not _count(con, "SELECT count(*) FROM lvyue_params_changed"):
        return ""
    return f"""
    SELECT DISTINCT v.order_id, 'rules' FROM lvyue_old v
    WHERE list_has_any(string_split(v.clauses, ';'),
                       (SELECT list(DISTINCT clause_id) FROM lvyue_params_changed))
    UNION ALL
    SELECT o.order_id, 'rules' FROM {orders} o JOIN (
        SELECT DISTINCT merchant_type, ship_mode, pay_time_from, pay_time_to
        FROM lvyue_params_changed) c
      ON (c.merchant_type IS NULL OR c.merchant_type = '' OR c.merchant_type = o.merchant_type)
     AND (c.ship_mode IS NULL OR c.ship_mode = '' OR c.ship_mode = o.ship_mode)
     AND (c.pay_time_from IS NULL OR o.pay_time >= c.pay_time_from)
     AND (c.pay_time_to IS NULL OR o.pay_time < c.pay_time_to)
    """


def _expand(con: duckdb.DuckDBPyConnection, r: dict[str, str]) -> int:
    """``lvyue_selected``: the chosen orders and those sharing their waybills or inspection
    codes (waybill ownership and code reuse are decided across orders)."""
    con.execute("""
    CREATE OR REPLACE TEMP TABLE lvyue_chosen AS
    SELECT DISTINCT order_id FROM lvyue_reasons
    WHERE order_id IN (SELECT order_id FROM lvyue_prints)
    """)
    con.execute("""
    CREATE OR REPLACE TEMP TABLE lvyue_selected AS
    SELECT order_id FROM lvyue_chosen
    UNION SELECT p.order_id FROM lvyue_prints p JOIN (
        SELECT DISTINCT carrier, waybill FROM lvyue_prints
        WHERE order_id IN (SELECT order_id FROM lvyue_chosen) AND waybill IS NOT NULL) w
      USING (carrier, waybill)
    UNION SELECT p.order_id FROM lvyue_prints p JOIN (
        SELECT DISTINCT inspection_code FROM lvyue_prints
        WHERE order_id IN (SELECT order_id FROM lvyue_chosen) AND inspection_code IS NOT NULL) c
      USING (inspection_code)
    """)
    return _count(con, "SELECT count(*) FROM lvyue_selected")


def _write_subset(con: duckdb.DuckDBPyConnection, r: dict[str, str], to: Path) -> None:
    """The facts of the selected orders as a facts directory (times back as instants)."""
    to.mkdir()
    sel = "SELECT * FROM lvyue_prints WHERE order_id IN (SELECT order_id FROM lvyue_selected)"
    filters = {
        "orders": f"order_id IN (SELECT order_id FROM ({sel}))",
        "tracking": f"(carrier, waybill) IN (SELECT (carrier, waybill) FROM ({sel}))",
        "after_sales": f"order_id IN (SELECT order_id FROM ({sel}))",
        "reports": f"merchant_id IN (SELECT merchant_id FROM ({sel}))",
        "inspections": f"inspection_code IN (SELECT inspection_code FROM ({sel}))",
    }
    for name, where in filters.items():
        columns = con.sql(f"SELECT * FROM {r[name]} LIMIT 0").columns
        select = ", ".join(
            f'to_timestamp("{c}") AS "{c}"' if c in _TIMES[name] else f'"{c}"' for c in columns
        )
        target = str(to / f"{name}.parquet").replace("'", "''")
        con.execute(
            f"COPY (SELECT {select} FROM {r[name]} WHERE {where}) TO '{target}' (FORMAT parquet)"
        )


def _save(
    state: Path, verdicts: pa.Table, prints: pa.Table, params: pa.Table, now: int, span: int
) -> None:
    """The watermark goes first and comes back last: a run that dies midway leaves none, and
    the next run is a full one."""
    (state / _MARK).unlink(missing_ok=True)
    for name, table in ((_VERDICTS, verdicts), (_PRINTS, prints), (_PARAMS, params)):
        _write_parquet(table, state / name)
    mark = json.dumps({"as_of": now, "horizon": span})

    def write_mark(tmp: Path) -> None:
        tmp.write_text(mark)

    write_atomically(state / _MARK, write_mark)


def _write_parquet(table: pa.Table, to: Path) -> None:
    def write(tmp: Path) -> None:
        pq.write_table(table, tmp)

    write_atomically(to, write)


_CSV_TIME = (
    "strftime(make_timestamp((epoch({c})::BIGINT + 28800) * 1000000), '%Y-%m-%dT%H:%M:%S+08:00')"
)


def _write_out(verdicts: pa.Table, out: Path) -> None:
    """``out`` as ``evaluate_file`` writes it: the state's Parquet, or DuckDB's CSV with Beijing
    times (the same bytes as a full run's CSV)."""
    if out.suffix != ".csv":
        _write_parquet(verdicts, out)
        return
    con = duckdb.connect()
    try:
        con.register("verdicts", verdicts)
        columns = ", ".join(
            f"{_CSV_TIME.format(c=c)} AS {c}" if c in ("deadline", "done_at") else f'"{c}"'
            for c in verdicts.column_names
        )
        sql = f"SELECT {columns} FROM verdicts"

        def write(tmp: Path) -> None:
            target = str(tmp).replace("'", "''")
            con.execute(f"COPY ({sql}) TO '{target}' (FORMAT csv, HEADER true)")

        write_atomically(out, write)
    finally:
        con.close()

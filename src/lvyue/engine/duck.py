"""The DuckDB session every batch run uses: facts in as relations, verdicts out, memory bounded.

The facts arrive either read from a directory by :func:`lvyue.facts.scan_facts` (out of core:
DuckDB scans the files itself) or as the Arrow tables of :func:`lvyue.facts.load_facts`
(registered zero-copy). Either way the checks see the same ``lvyue_*`` views, and the raw
verdicts (epoch seconds, reason codes) are finished, sorted and written by DuckDB, so
nothing proportional to the data passes through Python.
"""

from __future__ import annotations

import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from lvyue.engine.expressions import SORT_COLUMNS
from lvyue.engine.verdict import CHECK_LABELS, REASONS, TIME, VERDICT_SCHEMA, detail_text
from lvyue.facts import Facts
from lvyue.rulebook.context import FLAGS

FACT_TABLES = ("orders", "tracking", "after_sales", "reports", "inspections")
DEFAULT_MEMORY_LIMIT = "3GB"  # DuckDB spills sorts, joins and aggregates beyond it

# What each check reads of the facts (the rest is never scanned).
VIEW_COLUMNS: dict[str, tuple[str, ...]] = {
    "tracking": ("carrier", "waybill", "time", "kind"),
    "after_sales": ("aftersale_id", "order_id", "type", "created_at", "merchant_handled_at",
                    "return_shipped_at", "merchant_received_at", "return_signed_at",
                    "refunded_at"),
    "reports": ("merchant_id", "status", "order_ids", "new_deadline"),
    "inspections": ("inspection_code", "merchant_id", "result", "inspected_at"),
}  # fmt: skip
ORDER_COLUMNS = ("order_id", "merchant_id", "merchant_type", "ship_mode", "inspection_code",
                 "carrier", "waybill", "pay_time", "promised_ship_time", "ship_time",
                 "confirmed_receipt_time")  # fmt: skip
SORT = (
    f"ORDER BY {', '.join(SORT_COLUMNS)}"  # integer keys in (order_id, aftersale_id, check) order
)


class Session:
    """One DuckDB connection with a memory limit and a private spill directory."""

    def __init__(self, memory_limit: str | None = DEFAULT_MEMORY_LIMIT) -> None:
        self._spill = tempfile.TemporaryDirectory(prefix="lvyue-spill-")
        self.spill_dir = Path(self._spill.name)
        # A database file in the spill directory, not an in-memory one: the tables the run
        # materialises (prepared orders at 10 M: ~2 GB) can then be evicted to disk too.
        self.con = duckdb.connect(str(self.spill_dir / "run.duckdb"))
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")
        self.con.execute(f"SET temp_directory = '{self._spill.name}'")
        # order only where asked (ORDER BY): buffers for insertion order cost memory
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute("SET enable_progress_bar = true")  # query_progress() needs it
        self.con.execute("SET enable_progress_bar_print = false")

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.con.close()
        self._spill.cleanup()

    def register_facts(self, facts: Facts) -> dict[str, str]:
        """Arrow facts as relations shaped like scan_facts's: times as epoch seconds."""
        names = {}
        for name in FACT_TABLES:
            table: pa.Table = getattr(facts, name)
            columns = {
                c: table[c].cast(pa.int64()) if table.schema.field(c).type == TIME else table[c]
                for c in table.column_names
            }
            self.con.register(f"facts_{name}", pa.table(columns))
            names[name] = f"facts_{name}"
        return names

    def create_views(
        self, relations: Mapping[str, str], category_key: Callable[[str], str]
    ) -> None:
        """The ``lvyue_*`` views the checks read, over the facts relations."""
        orders = relations["orders"]
        categories = [
            r[0] for r in self.con.sql(f"SELECT DISTINCT category FROM {orders}").fetchall()
        ]
        keys = pa.table({"category": pa.array(categories, pa.string()),
                         "category_key": [category_key(c) for c in categories]})  # fmt: skip
        self.con.register("lvyue_category_keys", keys)
        have = set(self.con.sql(f"SELECT * FROM {orders} LIMIT 0").columns)
        flags = [f"{f if f in have else 'false'} AS {f}" for f in FLAGS]
        self.con.execute(
            f"CREATE OR REPLACE VIEW lvyue_orders AS SELECT o.order_id, o.merchant_id, "
            f"o.merchant_type, k.category_key, o.ship_mode, {', '.join(flags)}, "
            f"{', '.join(f'o.{c}' for c in ORDER_COLUMNS[4:])} "
            f"FROM {orders} o JOIN lvyue_category_keys k USING (category)"
        )
        for name, columns in VIEW_COLUMNS.items():
            self.con.execute(
                f"CREATE OR REPLACE VIEW lvyue_{name} AS "
                f"SELECT {', '.join(columns)} FROM {relations[name]}"
            )

    def finished(self, raw: str, *, csv: bool = False) -> str:
        """The SQL of the verdicts as written: timestamps, detail words, canonical order."""
        if csv:  # ISO 8601 with the Beijing offset, e.g. 2023-02-04T23:59:59+08:00
            local = "strftime(make_timestamp(({c} + 28800) * 1000000), '%Y-%m-%dT%H:%M:%S+08:00')"
            times = [f"{local.format(c=c)} AS {c}" for c in ("deadline", "done_at")]
        else:
            times = [f"to_timestamp({c}) AS {c}" for c in ("deadline", "done_at")]
        return (
            f'SELECT order_id, aftersale_id, merchant_id, "check", status, {times[0]}, '
            f"{times[1]}, clauses, reason, {_DETAIL} AS detail FROM ({raw}) {SORT}"
        )

    def write(self, raw: str, out: Path, progress: Callable[[float], None] | None = None) -> None:
        """The finished verdicts to ``out`` (.parquet or .csv) atomically, percent done reported.

        Two statements, not one: the checks' joins run first into a table, then one sort feeds
        the ``COPY``. In a single statement the joins and the sort compete for the memory limit
        and DuckDB runs out at 10 M orders instead of spilling.
        """
        tmp = out.with_name(out.name + ".tmp")
        fmt = "(FORMAT parquet)" if out.suffix == ".parquet" else "(FORMAT csv, HEADER true)"
        finished = self.finished("SELECT * FROM lvyue_verdicts", csv=out.suffix == ".csv")
        try:
            with self._progress(_scaled(progress, 0, 60)):
                self.con.execute(f"CREATE OR REPLACE TABLE lvyue_verdicts AS {raw}").fetchall()
            with self._progress(_scaled(progress, 60, 100)):
                self.con.execute(f"COPY ({finished}) TO '{_quote(tmp)}' {fmt}").fetchall()
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)

    def counts(self, out: Path) -> tuple[int, Counter[tuple[str, str]]]:
        """Rows written, and verdicts per (check, status), read back from the file."""
        reader = "read_parquet" if out.suffix == ".parquet" else "read_csv"
        rows = self.con.sql(
            f"SELECT \"check\", status, count(*) FROM {reader}('{_quote(out)}') GROUP BY ALL"
        ).fetchall()
        counts = Counter({(str(c), str(s)): int(n) for c, s, n in rows})
        return sum(counts.values()), counts

    def fetch(self, raw: str) -> pa.Table:
        """The verdicts as one Arrow table of VERDICT_SCHEMA (tests, small runs)."""
        sql = (f'SELECT order_id, aftersale_id, merchant_id, "check", status, deadline, done_at, '
               f"clauses, reason, {_DETAIL} AS detail FROM ({raw}) {SORT}")  # fmt: skip
        table = self.con.sql(sql).to_arrow_table()
        columns = {n: table[n] for n in VERDICT_SCHEMA.names}
        for name in ("deadline", "done_at"):
            columns[name] = table[name].cast(pa.int64()).cast(TIME)
        return pa.table(columns).cast(VERDICT_SCHEMA)

    @contextmanager
    def _progress(self, report: Callable[[float], None] | None) -> Iterator[None]:
        if report is None:
            yield
            return
        stop = threading.Event()

        def poll() -> None:
            while not stop.wait(0.25):
                done = self.con.query_progress()
                if done >= 0:
                    report(done)

        thread = threading.Thread(target=poll, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def _scaled(
    report: Callable[[float], None] | None, start: float, end: float
) -> Callable[[float], None] | None:
    """A stage's 0–100 % mapped into [start, end] of the whole run."""
    if report is None:
        return None
    return lambda done: report(start + (end - start) * done / 100)


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def _detail_sql() -> str:
    """verdict.detail_text as a CASE over (check, reason)."""
    reasons = {check: " ".join(f"WHEN '{r}' THEN '{_esc(detail_text(check, r))}'" for r in REASONS)
               for check in CHECK_LABELS}  # fmt: skip
    cases = " ".join(f"WHEN '{c}' THEN CASE reason {w} END" for c, w in reasons.items())
    return f'CASE "check" {cases} END'


def _esc(text: str) -> str:
    return text.replace("'", "''")


_DETAIL = _detail_sql()

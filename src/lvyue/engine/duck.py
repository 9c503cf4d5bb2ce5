"""The DuckDB session every batch run uses: facts in as relations, verdicts out, memory bounded.

The facts arrive either read from a directory by :func:`lvyue.facts.scan_facts` (out of core:
DuckDB scans the files itself) or as the Arrow tables of :func:`lvyue.facts.load_facts`
(registered zero-copy). Either way the checks see the same ``lvyue_*`` views; their raw
verdicts (epoch seconds, reason codes) go into a table on the session's spill-backed database
file, and come out finished and sorted a slice of orders at a time, so Python only ever holds
one Arrow batch of verdicts.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from lvyue.engine.expressions import SORT_COLUMNS
from lvyue.engine.order import COLUMNS
from lvyue.engine.output import write_verdicts
from lvyue.engine.verdict import (
    CHECK_DUTY,
    CHECK_LABELS,
    REASONS,
    TIME,
    VERDICT_SCHEMA,
    detail_text,
)
from lvyue.facts import Facts
from lvyue.model.files import write_atomically
from lvyue.rulebook.context import FLAGS

FACT_TABLES = ("orders", "tracking", "after_sales", "reports", "inspections")
DEFAULT_MEMORY_LIMIT = "3GB"  # DuckDB spills sorts, joins and aggregates beyond it

# The facts columns the batch path reads: the engine's (order.COLUMNS, from the row models),
# and every rulebook flag of an order. With ``load_facts(columns=...)`` or
# ``scan_facts(columns=...)`` the rest (addresses, scan texts, ...) are never read.
BATCH_COLUMNS: dict[str, tuple[str, ...]] = {
    **COLUMNS,
    "orders": (*COLUMNS["orders"], *(f for f in FLAGS if f not in COLUMNS["orders"])),
}
# the orders' columns besides the category (read as its key) and the flags (false if absent)
ORDER_COLUMNS = [c for c in BATCH_COLUMNS["orders"]
                 if c not in ("category", "activity") and c not in FLAGS]  # fmt: skip
# flags the engine reads off other facts (clocks.derived_flags), as SQL over the orders
DERIVED_FLAGS = {
    "ship_time_agreed": "o.agreed_ship_time IS NOT NULL",
    "festival_activity": "coalesce(o.activity, '') <> ''",
}
SORT = (
    f"ORDER BY {', '.join(SORT_COLUMNS)}"  # integer keys in (order_id, aftersale_id, check) order
)
ONE_SORT_ROWS = 8_000_000  # up to this many verdicts DuckDB sorts and writes them in one COPY
SLICE_ROWS = 4_000_000  # beyond, verdicts sorted at a time: fits the default memory limit
BATCH_ROWS = 250_000  # rows per Arrow batch handed to the writer
_LIMIT = "SELECT current_setting('memory_limit')"  # e.g. '2.7 GiB'
_BYTES = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50}


class Session:
    """One DuckDB connection with a memory limit and a private spill directory."""

    def __init__(self, memory_limit: str | None = DEFAULT_MEMORY_LIMIT) -> None:
        self._spill = tempfile.TemporaryDirectory(prefix="lvyue-spill-")
        self.spill_dir = Path(self._spill.name)
        self.con = duckdb.connect()  # temp tables spill to temp_directory under the limit
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
        flags = [f"{DERIVED_FLAGS.get(f) or (f if f in have else 'false')} AS {f}" for f in FLAGS]
        selected = ", ".join([*(f"o.{c}" for c in ORDER_COLUMNS), "k.category_key", *flags])
        self.con.execute(
            f"CREATE OR REPLACE VIEW lvyue_orders AS SELECT {selected} "
            f"FROM {orders} o JOIN lvyue_category_keys k USING (category)"
        )
        for name, columns in BATCH_COLUMNS.items():
            if name == "orders":
                continue
            self.con.execute(
                f"CREATE OR REPLACE VIEW lvyue_{name} AS "
                f"SELECT {', '.join(columns)} FROM {relations[name]}"
            )

    def write(
        self, raw: str, out: Path, progress: Callable[[float], None] | None = None
    ) -> tuple[int, Counter[tuple[str, str]]]:
        """The verdicts to ``out`` (.parquet or .csv) in canonical order, atomically; returns
        the rows written and the count per (check, status).

        The checks run first into a temporary table (in one statement with the sort, the joins
        and the sort compete for the memory limit: at 10 M orders DuckDB ran out instead of
        spilling). Up to ONE_SORT_ROWS verdicts are then sorted and written by DuckDB in one
        ``COPY``; beyond, a slice of orders at a time is sorted in memory and streamed to the
        writer (one spilled sort of the 50 M verdicts of 10 M orders took minutes).
        """
        with self._progress(_scaled(progress, 0, 70)):
            self._verdicts_table(raw)
        found = self.con.execute(
            'SELECT "check", status, count(*) FROM lvyue_verdicts GROUP BY ALL'
        ).fetchall()
        counts = Counter({(str(c), str(s)): int(n) for c, s, n in found})
        rows = sum(counts.values())
        if rows <= ONE_SORT_ROWS:
            with self._progress(_scaled(progress, 70, 100)):
                write_atomically(out, lambda tmp: self._copy(tmp, csv=out.suffix == ".csv"))
        elif out.suffix == ".csv":  # CSV parts concatenate: DuckDB writes every slice
            write_atomically(out, lambda tmp: self._csv_slices(tmp, rows, progress))
        else:
            self._make_room_for_the_writer()
            write_verdicts(self._slices(rows, progress), out)
        return rows, counts

    def _make_room_for_the_writer(self) -> None:
        """pyarrow's row groups and Parquet buffers live outside DuckDB's limit: give them
        a third of it (at most 1 GiB), so the process stays near the limit it was given."""
        value, unit = str(self.con.execute(_LIMIT).fetchall()[0][0]).split()
        limit = int(float(value) * _BYTES[unit])
        self.con.execute(f"SET memory_limit = '{limit - min(limit // 3, 2**30)}B'")

    def fetch(self, raw: str) -> pa.Table:
        """The verdicts as one Arrow table of VERDICT_SCHEMA (tests, small runs)."""
        self._verdicts_table(raw)
        table = self.con.sql(_finished("SELECT * FROM lvyue_verdicts")).to_arrow_table()
        return pa.Table.from_batches([_typed(b) for b in table.to_batches()], VERDICT_SCHEMA)

    def _verdicts_table(self, raw: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE lvyue_verdicts AS {raw}").fetchall()

    def _copy(self, to: Path, *, csv: bool, where: str = "true", header: bool = True) -> None:
        sql = _finished(
            f"SELECT * FROM lvyue_verdicts WHERE {where}", "csv" if csv else "timestamp"
        )
        fmt = f"(FORMAT csv, HEADER {str(header).lower()})" if csv else "(FORMAT parquet)"
        self.con.execute(f"COPY ({sql}) TO '{_quote(to)}' {fmt}").fetchall()

    def _csv_slices(self, tmp: Path, rows: int, progress: Callable[[float], None] | None) -> None:
        part = tmp.with_name(tmp.name + ".part")
        filters = self._slice_filters(rows)
        try:
            with tmp.open("wb") as target:
                for i, where in enumerate(filters):
                    self._copy(part, csv=True, where=where, header=i == 0)
                    with part.open("rb") as source:
                        shutil.copyfileobj(source, target)
                    if progress is not None:
                        progress(70 + 30 * (i + 1) / len(filters))
        finally:
            part.unlink(missing_ok=True)

    def _slice_filters(self, rows: int) -> list[str]:
        """``order_rank`` ranges of about SLICE_ROWS verdicts each, in order."""
        low, high = self.con.execute(
            "SELECT min(order_rank), max(order_rank) FROM lvyue_verdicts"
        ).fetchall()[0]
        slices = -(-rows // SLICE_ROWS)
        edges = [low - 1 + (high - low + 1) * i // slices for i in range(slices + 1)]
        return [f"order_rank > {edges[i]} AND order_rank <= {edges[i + 1]}" for i in range(slices)]

    def _slices(
        self, rows: int, progress: Callable[[float], None] | None
    ) -> Iterator[pa.RecordBatch]:
        filters = self._slice_filters(rows)
        for i, where in enumerate(filters):
            sql = _finished(f"SELECT * FROM lvyue_verdicts WHERE {where}")
            for batch in self.con.sql(sql).to_arrow_reader(BATCH_ROWS):
                yield _typed(batch)
            if progress is not None:
                progress(70 + 30 * (i + 1) / len(filters))

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


_TIMES = {
    "epoch": "{c}",  # seconds, made timestamps in Arrow (_typed)
    "timestamp": "to_timestamp({c})",  # an instant: Parquet's UTC-adjusted timestamp
    "csv": "strftime(make_timestamp(({c} + 28800) * 1000000), '%Y-%m-%dT%H:%M:%S+08:00')",
}  # the CSV form is what output.for_csv writes: ISO 8601 with the Beijing offset


def _finished(raw: str, times: str = "epoch") -> str:
    """The verdicts as written: the detail words, canonical order, times as asked."""
    moments = ", ".join(f"{_TIMES[times].format(c=c)} AS {c}" for c in ("deadline", "done_at"))
    return (
        f'SELECT order_id, aftersale_id, merchant_id, "check", {_DUTY} AS duty, status, '
        f"{moments}, clauses, reason, {_DETAIL} AS detail FROM ({raw}) {SORT}"
    )


def _typed(batch: pa.RecordBatch) -> pa.RecordBatch:
    columns = [
        batch[name].cast(pa.int64()).cast(TIME) if name in ("deadline", "done_at")
        else batch[name]
        for name in VERDICT_SCHEMA.names
    ]  # fmt: skip
    return pa.RecordBatch.from_arrays(columns, schema=VERDICT_SCHEMA)


def _detail_sql() -> str:
    """verdict.detail_text as a CASE over (check, reason)."""
    reasons = {check: " ".join(f"WHEN '{r}' THEN '{_esc(detail_text(check, r))}'" for r in REASONS)
               for check in CHECK_LABELS}  # fmt: skip
    cases = " ".join(f"WHEN '{c}' THEN CASE reason {w} END" for c, w in reasons.items())
    return f'CASE "check" {cases} END'


def _esc(text: str) -> str:
    return text.replace("'", "''")


_DETAIL = _detail_sql()
_DUTY = 'CASE "check" ' + " ".join(f"WHEN '{c}' THEN '{d}'" for c, d in CHECK_DUTY.items()) + " END"

"""The kept verdicts of an incremental state: base partitions plus one delta per run.

A run does not rewrite the partitions holding the orders it re-judged (at 10 M orders that was
~400 partitions of ~20 k verdicts, half the run): it appends their verdicts as one delta,
``deltas/rNNNNNN.parquet``, and the orders it supersedes, ``deltas/rNNNNNN.orders.parquet``
(every re-judged order, even one left without verdicts). Reads merge them: per order, the
latest run naming it wins (``incremental_state.all_verdicts``). When the deltas pass a bound
(``MAX_DELTAS`` runs, or ``MAX_DELTA_SHARE`` of the kept verdicts) the run folds them into the
base partitions they touch (compaction) and removes them; a full run starts without any.
docs/decisions/incremental-delta-layout.md has the measurements.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from lvyue.engine import incremental_state as st
from lvyue.model.files import write_atomically

Counts = dict[str, dict[str, int]]  # partition "DAY/BUCKET" -> "check|status" -> verdicts

MAX_DELTAS = 16  # ours: deltas kept before a run folds them (each a file every read opens)
MAX_DELTA_SHARE = 0.1  # ours: delta verdicts, as a share of all, before a run folds them


def append(con: duckdb.DuckDBPyConnection, state: Path, run: int, fresh: Path,
           orders: str, counts: Counts) -> Counts:  # fmt: skip
    """Run ``run``'s delta: the verdicts file ``fresh`` (copied as the batch wrote it: writing
    its ~0.6 M verdicts again cost 0.3 s at 10 M orders) for the orders of ``orders``
    (``order_id, day, bucket``: every order judged). Returns ``counts`` with the superseded
    verdicts taken off and the fresh ones added."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE inc_judged AS SELECT order_id, day, bucket "
                f"FROM ({orders})")  # fmt: skip
    old = _superseded_counts(con, state)
    judged = f"FROM read_parquet({st.quote(fresh)}) v JOIN inc_judged j USING (order_id)"
    new = st.partition_counts(con, f"SELECT v.*, j.day, j.bucket {judged}")
    (state / st.DELTAS).mkdir(exist_ok=True)
    write_atomically(st.delta_file(state, run), lambda tmp: shutil.copyfile(fresh, tmp))
    _copy(con, f"SELECT *, {run} AS run FROM inc_judged", st.delta_file(state, run, orders=True))
    return _merge_counts(counts, old, new)


def _superseded_counts(con: duckdb.DuckDBPyConnection, state: Path) -> Counts:
    """The kept verdicts of the judged orders (the base where no delta names them, else the
    latest delta's), counted per partition: only the judged orders' partitions are read."""
    parts = con.execute("SELECT DISTINCT day || '/' || bucket FROM inc_judged").fetchall()
    files = [p for p in (st.partition_file(state, str(n)) for (n,) in parts) if p.exists()]
    sql = []
    if files:
        base = f"read_parquet([{', '.join(map(st.quote, files))}], hive_partitioning = false)"
        judged = (
            f'SELECT order_id, "check", status FROM {base} SEMI JOIN inc_judged USING (order_id)'
        )
        sql.append(_merged(judged, state, "inc_judged"))
    if st.delta_files(state):
        sql.append(f'SELECT order_id, "check", status FROM ({st.latest_deltas(state)}) '
                   "SEMI JOIN inc_judged USING (order_id)")  # fmt: skip
    if not sql:
        return {}
    rows = " UNION ALL ".join(f"({s})" for s in sql)
    return st.partition_counts(
        con, f"SELECT v.*, j.day, j.bucket FROM ({rows}) v JOIN inc_judged j USING (order_id)"
    )


def _merged(base: str, state: Path, among: str) -> str:
    """``base`` rows less those of orders a delta supersedes (only orders of ``among``)."""
    if not st.delta_files(state):
        return base
    deltas = st.read_deltas(state, orders=True)
    named = f"SELECT order_id FROM {deltas} SEMI JOIN {among} USING (order_id)"
    return f"SELECT * FROM ({base}) WHERE order_id NOT IN ({named})"


def _merge_counts(counts: Counts, old: Counts, new: Counts) -> Counts:
    merged = {part: dict(per) for part, per in counts.items() if part in old or part in new}
    for part, per in old.items():
        for key, n in per.items():
            merged[part][key] -= n
    for part, per in new.items():
        for key, n in per.items():
            merged.setdefault(part, {})[key] = merged.get(part, {}).get(key, 0) + n
    kept = {part: per for part, per in counts.items() if part not in merged}
    for part, per in merged.items():
        left = {key: n for key, n in per.items() if n}
        if left:
            kept[part] = left
    return kept


def due(state: Path, counts: Counts) -> bool:
    """The deltas passed the bound: the next fold is this run's."""
    deltas = st.delta_files(state)
    if len(deltas) > MAX_DELTAS:
        return True
    rows = sum(int(pq.read_metadata(p).num_rows) for p in deltas)
    total = sum(sum(per.values()) for per in counts.values())
    return bool(rows > MAX_DELTA_SHARE * total)


def compact(con: duckdb.DuckDBPyConnection, state: Path) -> int:
    """Fold every delta into the base partitions it touches (each rewritten once: its verdicts
    of orders no delta names, and the latest delta's of the others), then remove the deltas.
    Returns the partitions rewritten."""
    if not st.delta_files(state):
        return 0
    con.execute(f"CREATE OR REPLACE TEMP TABLE inc_folded AS SELECT DISTINCT order_id, day, "
                f"bucket FROM {st.read_deltas(state, orders=True)}")  # fmt: skip
    parts = con.execute("SELECT DISTINCT day || '/' || bucket FROM inc_folded").fetchall()
    names = sorted(str(n) for (n,) in parts)
    latest = (f"SELECT v.* EXCLUDE (run), f.day, f.bucket FROM ({st.latest_deltas(state)}) v "
              "JOIN inc_folded f USING (order_id)")  # fmt: skip
    rewrite(con, state, names, latest, exclude="inc_folded")
    shutil.rmtree(state / st.DELTAS)
    return len(names)


def rewrite(con: duckdb.DuckDBPyConnection, state: Path, names: list[str], fresh: str,
            exclude: str) -> None:  # fmt: skip
    """Partitions ``names`` rewritten: their verdicts of orders not in ``exclude`` kept,
    ``fresh`` (verdicts with ``day``, ``bucket``) added. One partitioned COPY writes them all
    into a staging folder (one statement per partition cost ~65 ms each at 1 M orders on the
    loaded machine), then each file is moved into place."""
    old = [p for p in (st.partition_file(state, n) for n in names) if p.exists()]
    sql = fresh
    if old:
        listed = ", ".join(st.quote(p) for p in old)
        sql = (
            "SELECT * EXCLUDE (filename), regexp_extract(filename, 'day=([0-9-]+)', 1) AS day, "
            "CAST(regexp_extract(filename, 'bucket=([0-9]+)', 1) AS UBIGINT) AS bucket "
            f"FROM read_parquet([{listed}], filename = true, hive_partitioning = false) "
            f"WHERE order_id NOT IN (SELECT order_id FROM {exclude}) UNION ALL BY NAME {fresh}"
        )
    staged = state / "verdicts.staged"
    shutil.rmtree(staged, ignore_errors=True)
    con.execute(f"COPY ({sql}) TO {st.quote(staged)} (FORMAT parquet, PARTITION_BY (day, bucket))")
    for name in names:
        source, target = st.partition_file(staged, name, root=""), st.partition_file(state, name)
        if source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            _move(source, target)
        else:  # no verdicts left in it: an empty file, as a partition's own COPY would write
            empty = f"SELECT * EXCLUDE (day, bucket) FROM ({fresh}) WHERE false"
            st.write_partition(con, empty, target)
    shutil.rmtree(staged, ignore_errors=True)


def _move(source: Path, target: Path) -> None:
    """One partition into place (atomic; a crash between two leaves no watermark, so the next
    run is a full one)."""
    os.replace(source, target)


def _copy(con: duckdb.DuckDBPyConnection, sql: str, to: Path) -> None:
    def write(tmp: Path) -> None:
        con.execute(f"COPY ({sql}) TO {st.quote(tmp)} (FORMAT parquet)")

    write_atomically(to, write)

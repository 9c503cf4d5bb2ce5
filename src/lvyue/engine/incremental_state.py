"""The state directory of incremental evaluation (docs/formats.md, "Incremental state").

```
STATE/state.json                      the watermark, written last (none: the next run is full)
STATE/params/N.parquet                the parameter slices the verdicts follow (N: its position)
STATE/wake.parquet                    order_id, wake: when time alone can change its verdicts
STATE/keys/rNNNNNN.parquet            order_id, merchant_id, carrier, waybill, inspection_code,
                                      day: the orders' key columns, one file per run adding orders
STATE/shared.parquet                  the same, of the orders sharing a waybill or inspection code
                                      with another (incremental_keys)
STATE/facts/TABLE/day=D/rNNNNNN_0.parquet   orders, tracking and after_sales rows as written,
                                      by their order's pay date, one file per run adding rows
STATE/verdicts/day=YYYY-MM-DD/bucket=B/data_0.parquet   the base: the verdicts of the orders
                                      paid that day, cut in buckets by order id (~20 k each)
STATE/deltas/rNNNNNN.verdicts.parquet run N's verdicts of the orders it re-judged, and
STATE/deltas/rNNNNNN.orders.parquet   those orders (order_id, day, bucket, run): they supersede
                                      the base's and earlier deltas' (incremental_deltas)
STATE/plans/*.json                    the checks' compiled SQL (engine.plan_store)
STATE/.lock                           held (flock) by the run using the state: one at a time
```

``day`` is the order's pay date as written in its facts (UTC+8 of the Parquet value), so an
order keeps its partition and the orders whose facts still move (the recent ones) share few
partitions: a run reads the facts of the days it re-judges and appends their verdicts. A
scan is kept under the day of the earliest order on its waybill (every order sharing it is
re-judged with it, so its day is read). ``wake`` is the earliest of: an open verdict's deadline
less the horizon (−1 when it has none), and a fact of the order dated after the instant (not yet
seen). The watermark holds the instant, the horizon, each facts file seen (name, size,
modification time), the orders counted, the verdicts per partition, check and status, and the
number of the last run (the files it added are named by it).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from lvyue.model.files import write_atomically

MARK, PARAMS, WAKE, VERDICTS = "state.json", "params", "wake.parquet", "verdicts"
KEYS, FACTS, PLANS, DELTAS = "keys", "facts", "plans", "deltas"
SHARED = "shared.parquet"
PART_FILE = "data_0.parquet"  # DuckDB's name for a partition's file (COPY ... PARTITION_BY)
PART_ROWS = 20_000  # verdicts per partition aimed at (a day has 12 k verdicts at 1 M orders)
ALWAYS = -1  # the wake of an open verdict without a deadline: re-judged every run
DAY_SQL = "strftime(to_timestamp((epoch({c})::BIGINT + 28800) // 86400 * 86400), '%Y-%m-%d')"
KEY_COLUMNS = ("order_id", "merchant_id", "carrier", "waybill", "inspection_code")
KEPT = ("orders", "tracking", "after_sales")  # tables whose rows the state keeps by day

LOCK = ".lock"


class StateBusy(RuntimeError):
    """Another run holds the state directory; ``str()`` is one line naming it."""


@contextmanager
def held(state: Path) -> Iterator[None]:
    """The state for this run alone. Two runs on one state (an overlapping cron, two
    operators) would each append run N's files over the other's and leave a watermark that
    matches neither; the second is refused instead. An advisory ``flock``: released by the
    kernel when the process dies, so a killed run leaves no stale lock."""
    state.mkdir(parents=True, exist_ok=True)
    fd = os.open(state / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StateBusy(
                f"{state}: another evaluation is using this state; run again when it ends"
            ) from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


Files = dict[str, list[tuple[str, int, int]]]  # table -> (path, size, mtime_ns), in read order


@dataclass
class Mark:
    """The watermark: what the kept verdicts were computed from."""

    as_of: int
    horizon: int
    orders: int
    files: Files
    params: str  # digest of the parameter slices
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # day -> "check|status" -> n
    run: int = 0  # the last run's number: the files it added are named rNNNNNN
    buckets: int = 1  # verdict partitions per day (st.bucket_sql)


def quote(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def read_mark(state: Path) -> Mark | None:
    if not all((state / name).exists() for name in (MARK, PARAMS, WAKE, VERDICTS, KEYS, SHARED)):
        return None
    try:
        data: dict[str, Any] = json.loads((state / MARK).read_text())
        files = {t: [(str(p), int(s), int(m)) for p, s, m in fs]
                 for t, fs in data["files"].items()}  # fmt: skip
        return Mark(int(data["as_of"]), int(data["horizon"]), int(data["orders"]), files,
                    str(data["params"]), data["counts"], int(data["run"]),
                    int(data["buckets"]))  # fmt: skip
    except (ValueError, KeyError, TypeError):  # another version's watermark: start afresh
        return None


def drop_mark(state: Path) -> None:
    """First thing a run does: a run that dies midway leaves no watermark (the next is full)."""
    (state / MARK).unlink(missing_ok=True)


def write_mark(state: Path, mark: Mark) -> None:
    text = json.dumps(vars(mark))  # not asdict: its deep copy of the counts took 0.5 s

    def write(tmp: Path) -> None:
        tmp.write_text(text)

    write_atomically(state / MARK, write)


def all_verdicts(state: Path) -> str:
    """SQL of every kept verdict: the base partitions' (one file each), less the orders a
    delta names, and each such order's verdicts in the latest delta naming it."""
    files = quote(state / VERDICTS / "*" / "*" / PART_FILE)
    base = f"SELECT * FROM read_parquet({files}, hive_partitioning = false)"
    if not delta_files(state):
        return base
    named = f"SELECT order_id FROM {read_deltas(state, orders=True)}"
    return (
        f"SELECT * FROM ({base}) WHERE order_id NOT IN ({named}) "
        f"UNION ALL BY NAME SELECT * EXCLUDE (run) FROM ({latest_deltas(state)})"
    )


def delta_file(state: Path, run: int, *, orders: bool = False) -> Path:
    """Run ``run``'s delta: its verdicts, or (``orders``) the orders it judged."""
    return state / DELTAS / f"{run_name(run)}.{'orders' if orders else 'verdicts'}.parquet"


def delta_glob(state: Path, *, orders: bool = False) -> Path:
    return state / DELTAS / f"r*.{'orders' if orders else 'verdicts'}.parquet"


def delta_files(state: Path) -> list[Path]:
    """The deltas' verdict files, oldest first."""
    return sorted((state / DELTAS).glob(delta_glob(state).name))


def latest_deltas(state: Path) -> str:
    """SQL of the delta verdicts that stand (with ``run``): per order, those of the latest run
    naming it (a later run that left it no verdicts stands too)."""
    verdicts = (
        f"SELECT * EXCLUDE (filename), CAST(regexp_extract(filename, 'r([0-9]+)[.]verdicts', 1) "
        f"AS INTEGER) AS run FROM read_parquet({quote(delta_glob(state))}, filename = true, "
        "hive_partitioning = false)"
    )
    return (
        f"SELECT * FROM ({verdicts}) SEMI JOIN (SELECT order_id, max(run) AS run "
        f"FROM {read_deltas(state, orders=True)} GROUP BY 1) USING (order_id, run)"
    )


def read_deltas(state: Path, *, orders: bool = False) -> str:
    """Every delta's judged orders (``order_id, day, bucket, run``) as one relation."""
    return f"read_parquet({quote(delta_glob(state, orders=orders))}, hive_partitioning = false)"


def all_keys(state: Path) -> str:
    """SQL of every kept order's key columns and day."""
    return f"SELECT * FROM read_parquet({quote(state / KEYS / '*.parquet')})"


def kept_facts(state: Path, table: str, days: list[str]) -> list[Path]:
    """The kept files of ``table`` for these days, in the order they were added."""
    found: list[Path] = []
    for day in days:
        found += sorted((state / FACTS / table / f"day={day}").glob("*.parquet"))
    return found


def run_name(run: int) -> str:
    return f"r{run:06d}"


def partition_file(state: Path, part: str, root: str = VERDICTS) -> Path:
    """The file of partition ``DAY/BUCKET`` (under ``state/root``)."""
    day, bucket = part.split("/")
    return state / root / f"day={day}" / f"bucket={bucket}" / PART_FILE


def bucket_sql(buckets: int) -> str:
    """An order's bucket among ``buckets``: from the MD5 of its id, the same in every version."""
    return f"CAST('0x' || substr(md5(order_id), 1, 8) AS UBIGINT) % {buckets}"


def partition_counts(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, dict[str, int]]:
    """``sql`` (verdicts with ``day`` and ``bucket`` columns) counted per partition
    (``DAY/BUCKET``), check and status."""
    found = con.execute(
        f"SELECT day || '/' || bucket, \"check\" || '|' || status, count(*) FROM ({sql}) "
        "GROUP BY ALL"
    ).fetchall()
    counts: dict[str, dict[str, int]] = {}
    for day, key, n in found:
        counts.setdefault(str(day), {})[str(key)] = int(n)
    return counts


def write_partition(con: duckdb.DuckDBPyConnection, sql: str, to: Path) -> None:
    """One partition's verdicts, replaced atomically (an empty one is removed)."""
    to.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        con.execute(f"COPY ({sql}) TO {quote(tmp)} (FORMAT parquet)")

    write_atomically(to, write)


def append_by_day(
    con: duckdb.DuckDBPyConnection, sql: str, state: Path, table: str, run: int
) -> None:
    """Rows of ``sql`` (with a ``day`` column, dropped from the files) added under their day."""
    (state / FACTS).mkdir(exist_ok=True)
    con.execute(
        f"COPY ({sql}) TO {quote(state / FACTS / table)} (FORMAT parquet, PARTITION_BY (day), "
        f"FILENAME_PATTERN '{run_name(run)}_{{i}}', OVERWRITE_OR_IGNORE true)"
    )

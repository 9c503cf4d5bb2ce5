"""The state directory of incremental evaluation (docs/engine.md, "Incremental state").

```
STATE/state.json                      the watermark, written last (none: the next run is full)
STATE/params.parquet                  the rulebook's parameter table the verdicts follow
STATE/wake.parquet                    order_id, wake: when time alone can change its verdicts
STATE/verdicts/day=YYYY-MM-DD/data_0.parquet   the verdicts of the orders paid that day
```

``day`` is the order's pay date as written in its facts (UTC+8 of the Parquet value), so an
order keeps its partition and the orders whose facts still move (the recent ones) share few
partitions: a run rewrites only the partitions of the orders it re-judged. ``wake`` is the
earliest of: an open verdict's deadline less the horizon (−1 when it has none), and a fact of
the order dated after the instant (not yet seen). The watermark holds the instant, the horizon,
each facts file seen (name, size, modification time), the orders counted and the verdicts per
partition, check and status.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from lvyue.model.files import write_atomically

MARK, PARAMS, WAKE, VERDICTS = "state.json", "params.parquet", "wake.parquet", "verdicts"
PART_FILE = "data_0.parquet"  # DuckDB's name for a partition's file (COPY ... PARTITION_BY)
ALWAYS = -1  # the wake of an open verdict without a deadline: re-judged every run
DAY_SQL = "strftime(to_timestamp((epoch({c})::BIGINT + 28800) // 86400 * 86400), '%Y-%m-%d')"

Files = dict[str, list[tuple[str, int, int]]]  # table -> (path, size, mtime_ns), in read order


@dataclass
class Mark:
    """The watermark: what the kept verdicts were computed from."""

    as_of: int
    horizon: int
    orders: int
    files: Files
    params: int  # digest of the parameter table
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # day -> "check|status" -> n


def quote(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def read_mark(state: Path) -> Mark | None:
    if not all((state / name).exists() for name in (MARK, PARAMS, WAKE, VERDICTS)):
        return None
    try:
        data: dict[str, Any] = json.loads((state / MARK).read_text())
        files = {t: [(str(p), int(s), int(m)) for p, s, m in fs]
                 for t, fs in data["files"].items()}  # fmt: skip
        return Mark(data["as_of"], data["horizon"], data["orders"], files, data["params"],
                    data["counts"])  # fmt: skip
    except (ValueError, KeyError, TypeError):  # another version's watermark: start afresh
        return None


def drop_mark(state: Path) -> None:
    """First thing a run does: a run that dies midway leaves no watermark (the next is full)."""
    (state / MARK).unlink(missing_ok=True)


def write_mark(state: Path, mark: Mark) -> None:
    text = json.dumps(asdict(mark))

    def write(tmp: Path) -> None:
        tmp.write_text(text)

    write_atomically(state / MARK, write)


def all_verdicts(state: Path) -> str:
    """SQL of every kept verdict (one file per partition)."""
    files = quote(state / VERDICTS / "*" / PART_FILE)
    return f"SELECT * FROM read_parquet({files}, hive_partitioning = false)"


def partition_file(state: Path, day: str) -> Path:
    return state / VERDICTS / f"day={day}" / PART_FILE


def partition_counts(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, dict[str, int]]:
    """``sql`` (verdicts with a ``day`` column) counted per day, check and status."""
    found = con.execute(
        f"SELECT day, \"check\" || '|' || status, count(*) FROM ({sql}) GROUP BY ALL"
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

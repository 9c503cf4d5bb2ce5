"""Writing verdicts (CSV with ISO 8601 Beijing times, or Parquet) and counting them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lvyue.engine.verdict import VERDICT_SCHEMA
from lvyue.model.files import write_atomically
from lvyue.model.table_files import for_csv

ROW_GROUP = 1_000_000  # verdict rows per Parquet row group (~100 MB in memory)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_horizon(text: str) -> timedelta:
    """``12h``, ``30m``, ``2d``, ``90s`` (or a plain number of hours)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (try 12h, 30m, 2d)")
    return timedelta(seconds=float(match[1]) * _UNITS[match[2] or "h"])


def write_verdicts(batches: Iterable[pa.RecordBatch], out: Path) -> None:
    """Stream verdicts to ``out`` (.csv or .parquet) atomically, in big row groups."""

    def write(tmp: Path) -> None:
        writer: pq.ParquetWriter | pacsv.CSVWriter
        if out.suffix == ".parquet":
            writer = pq.ParquetWriter(tmp, VERDICT_SCHEMA)
        else:
            writer = pacsv.CSVWriter(tmp, for_csv(VERDICT_SCHEMA.empty_table()).schema)
        with writer:
            for group in _groups(batches):
                table = pa.Table.from_batches(group, VERDICT_SCHEMA)
                writer.write_table(table if out.suffix == ".parquet" else for_csv(table))

    write_atomically(out, write)


def _groups(
    batches: Iterable[pa.RecordBatch], rows: int = ROW_GROUP
) -> Iterator[list[pa.RecordBatch]]:
    """Batches gathered to about ``rows`` rows: Parquet writes big row groups much faster."""
    group: list[pa.RecordBatch] = []
    size = 0
    for batch in batches:
        group.append(batch)
        size += batch.num_rows
        if size >= rows:
            yield group
            group, size = [], 0
    if group:
        yield group

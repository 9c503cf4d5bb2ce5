"""Writing verdicts (CSV with ISO 8601 Beijing times, or Parquet) and counting them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lvyue.engine.verdict import VERDICT_SCHEMA
from lvyue.model.cells import UNSAFE_TEXT, spreadsheet_cell
from lvyue.model.labels import cell_zh, column_zh

TABLE_SUFFIXES = (".csv", ".parquet", ".xlsx")
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row
ROW_GROUP = 1_000_000  # verdict rows per Parquet row group (~100 MB in memory)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_horizon(text: str) -> timedelta:
    """``12h``, ``30m``, ``2d``, ``90s`` (or a plain number of hours)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (try 12h, 30m, 2d)")
    return timedelta(seconds=float(match[1]) * _UNITS[match[2] or "h"])


def for_csv(batch: pa.RecordBatch | pa.Table) -> pa.Table:
    """Times as ISO 8601 with the Beijing offset, e.g. 2023-02-04T23:59:59+08:00."""
    table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
    for name in [f.name for f in table.schema if pa.types.is_timestamp(f.type)]:
        local = table[name].cast(pa.timestamp("s", tz="Asia/Shanghai"))
        text = pc.strftime(local, format="%Y-%m-%dT%H:%M:%S+08:00")
        table = table.set_column(table.schema.get_field_index(name), name, text)
    return table


def write_atomically(out: Path, write: Callable[[Path], None]) -> None:
    """``write`` a temporary file next to ``out``, renamed into place only when complete."""
    tmp = out.with_name(out.name + ".tmp")
    try:
        write(tmp)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


def check_out(out: Path, suffixes: tuple[str, ...] = TABLE_SUFFIXES) -> None:
    """Refuse a file name whose suffix we would not honour (before any work is done)."""
    if out.suffix.lower() not in suffixes:
        raise ValueError(f"{out} must end in {', '.join(suffixes[:-1])} or {suffixes[-1]}")


def write_table(table: pa.Table, out: Path) -> None:
    """Any result table as .parquet, .csv with ISO 8601 Beijing times, or a real .xlsx
    workbook (Chinese headers and labels beside the codes), atomically."""
    check_out(out)
    suffix = out.suffix.lower()
    if suffix == ".parquet":
        write_atomically(out, lambda tmp: pq.write_table(table, tmp))
    elif suffix == ".xlsx":
        write_atomically(out, lambda tmp: _write_xlsx(for_csv(table), tmp))
    else:
        write_atomically(out, lambda tmp: pacsv.write_csv(_safe_text(for_csv(table)), tmp))


def _safe_text(table: pa.Table) -> pa.Table:
    """Text columns as a spreadsheet shows them, never a formula (model.cells); a column is
    rewritten cell by cell only when some cell needs it."""
    for index, field in enumerate(table.schema):
        column = table.column(index)
        if (
            not pa.types.is_string(field.type)
            or not pc.any(pc.match_substring_regex(column, UNSAFE_TEXT)).as_py()
        ):
            continue
        safe = pa.array([spreadsheet_cell(v) for v in column.to_pylist()], pa.string())
        table = table.set_column(index, field, safe)
    return table


def _write_xlsx(table: pa.Table, tmp: Path) -> None:
    from openpyxl import Workbook

    if table.num_rows > XLSX_MAX_ROWS:
        raise ValueError(f"{table.num_rows:,} rows exceed an Excel sheet; use .csv or .parquet")
    book = Workbook(write_only=True)
    sheet = book.create_sheet("lvyue")
    columns = table.column_names
    sheet.append([column_zh(c) for c in columns])
    for row in table.to_pylist():
        sheet.append([spreadsheet_cell(cell_zh(c, row[c])) for c in columns])
    book.save(tmp)


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

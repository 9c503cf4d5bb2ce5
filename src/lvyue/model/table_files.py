"""Result tables out as files, written once for every caller (the CLI's at-risk, preview,
penalties and rules tables, the diagnosis's warnings and unreachable rules): Parquet, CSV
with ISO 8601 Beijing times, or a real XLSX workbook (Chinese headers and labels beside the
codes); merchant text never as a formula (model.cells); atomically (model.files)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lvyue.model.cells import UNSAFE_TEXT, spreadsheet_cell
from lvyue.model.files import write_atomically
from lvyue.model.labels import cell_zh, column_zh

TABLE_SUFFIXES = (".csv", ".parquet", ".xlsx")
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row


def for_csv(batch: pa.RecordBatch | pa.Table) -> pa.Table:
    """Times as ISO 8601 with the Beijing offset, e.g. 2023-02-04T23:59:59+08:00."""
    table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
    for name in [f.name for f in table.schema if pa.types.is_timestamp(f.type)]:
        local = table[name].cast(pa.timestamp("s", tz="Asia/Shanghai"))
        text = pc.strftime(local, format="%Y-%m-%dT%H:%M:%S+08:00")
        table = table.set_column(table.schema.get_field_index(name), name, text)
    return table


def check_out(out: Path, suffixes: tuple[str, ...] = TABLE_SUFFIXES) -> None:
    """Refuse a file name whose suffix we would not honour (before any work is done)."""
    if out.suffix.lower() not in suffixes:
        raise ValueError(f"{out} must end in {', '.join(suffixes[:-1])} or {suffixes[-1]}")


def write_table(
    table: pa.Table, out: Path, *, sheet: str = "lvyue", excel_bom: bool = False
) -> None:
    """Any result table as .parquet, .csv with ISO 8601 Beijing times, or a real .xlsx
    workbook (Chinese headers and labels beside the codes), atomically. ``excel_bom`` starts
    a CSV with the UTF-8 byte-order mark, without which Excel reads Chinese as GBK."""
    check_out(out)
    suffix = out.suffix.lower()
    if suffix == ".parquet":
        write_atomically(out, lambda tmp: pq.write_table(table, tmp))
    elif suffix == ".xlsx":
        write_atomically(out, lambda tmp: _write_xlsx(for_csv(table), tmp, sheet))
    else:
        safe = _safe_text(for_csv(table))
        write_atomically(out, lambda tmp: _write_csv(safe, tmp, excel_bom))


def _write_csv(table: pa.Table, tmp: Path, excel_bom: bool) -> None:
    with tmp.open("wb") as handle:
        if excel_bom:
            handle.write("\ufeff".encode())
        pacsv.write_csv(table, handle)


def rows_table(rows: Sequence[Mapping[str, object]], columns: Sequence[str]) -> pa.Table:
    """``rows`` (dicts; a missing key is empty) as a table of ``columns``, in that order."""
    return pa.table({c: pa.array([row.get(c) for row in rows]) for c in columns})


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


def _write_xlsx(table: pa.Table, tmp: Path, sheet_name: str) -> None:
    from openpyxl import Workbook

    if table.num_rows > XLSX_MAX_ROWS:
        raise ValueError(f"{table.num_rows:,} rows exceed an Excel sheet; use .csv or .parquet")
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name)
    columns = table.column_names
    sheet.append([column_zh(c) for c in columns])
    for row in table.to_pylist():
        sheet.append([spreadsheet_cell(cell_zh(c, row[c])) for c in columns])
    book.save(tmp)

"""Tables out as CSV (UTF-8 with BOM, so Excel reads the Chinese) or XLSX, written atomically."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

from lvyue.diagnosis.errors import DiagnosisError
from lvyue.diagnosis.state import atomic_write_bytes
from lvyue.model.cells import spreadsheet_cell
from lvyue.model.labels import cell_zh, column_zh


def write_table(
    rows: Sequence[Mapping[str, object]], columns: Sequence[str], path: Path, sheet: str
) -> None:
    """Write ``rows`` (dicts keyed by ``columns``) by the file's suffix: .csv or .xlsx."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows({c: spreadsheet_cell(row.get(c)) for c in columns} for row in rows)
        atomic_write_bytes(path, buffer.getvalue().encode("utf-8-sig"))
    elif suffix == ".xlsx":
        atomic_write_bytes(path, _xlsx(rows, columns, sheet))
    else:
        raise DiagnosisError(f"{path}: export as .csv or .xlsx")


def _xlsx(rows: Sequence[Mapping[str, object]], columns: Sequence[str], title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append([column_zh(c) for c in columns])  # 中文 header beside the code
    for row in rows:
        sheet.append([spreadsheet_cell(cell_zh(c, row.get(c))) for c in columns])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()

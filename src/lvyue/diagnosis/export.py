"""Diagnosis tables out as .csv or .xlsx, through the one table writer (model.table_files)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from lvyue.diagnosis.errors import DiagnosisError
from lvyue.model.table_files import rows_table, write_table


def export_rows(
    rows: Sequence[Mapping[str, object]], columns: Sequence[str], path: Path, sheet: str
) -> None:
    """Write ``rows`` (dicts keyed by ``columns``) by the file's suffix: .csv (with the BOM
    Excel needs for Chinese: these tables are opened by merchants) or .xlsx."""
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise DiagnosisError(f"{path}: export as .csv or .xlsx")
    write_table(rows_table(rows, columns), path, sheet=sheet, excel_bom=True)

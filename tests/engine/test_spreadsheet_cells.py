"""Every export writer outside the console (the CLI's tables, the diagnosis tables) writes
merchant text as text: no formula, no control character that XLSX cannot hold."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pytest
from openpyxl import load_workbook

from lvyue.diagnosis.export import export_rows as write_diagnosis
from lvyue.model.cells import spreadsheet_cell, spreadsheet_text
from lvyue.model.table_files import write_table

FORMULA = '=HYPERLINK("http://evil.example","click")'


@pytest.mark.parametrize(
    ("text", "shown"),
    [(FORMULA, "'" + FORMULA), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"),
     ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("a=1", "a=1"), ("女装", "女装"), ("", ""),
     ("a\x01b", "a\\x01b"), ("\x00=1", "\\x00=1"), ("x\x7f", "x\\x7f"), ("a\nb", "a\nb")],
)  # fmt: skip
def test_text_is_shown_as_written_and_never_run(text: str, shown: str) -> None:
    assert spreadsheet_text(text) == shown


def test_numbers_stay_numbers() -> None:
    assert spreadsheet_cell(-5) == -5 and spreadsheet_cell(1.5) == 1.5
    assert spreadsheet_cell(None) is None and spreadsheet_cell(True) is True


def test_the_cli_xlsx_writer_holds_text(tmp_path: Path) -> None:
    out = tmp_path / "penalties.xlsx"
    write_table(pa.table({"order_id": ["o1", "o2"], "category": [FORMULA, "坏\x01"]}), out)
    rows = list(load_workbook(out).active.iter_rows(min_row=2))
    assert [c.data_type for c in rows[0]] == ["s", "s"]
    assert rows[0][1].value == "'" + FORMULA and rows[1][1].value == "坏\\x01"


def test_the_cli_csv_writer_holds_text(tmp_path: Path) -> None:
    out = tmp_path / "at_risk.csv"
    table = pa.table({"order_id": ["o1", "o2", "o3"], "category": [FORMULA, "坏\x01", "女装"],
                      "points": [-2, 0, 1]})  # fmt: skip
    write_table(table, out)
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["category"] for r in rows] == ["'" + FORMULA, "坏\\x01", "女装"]
    assert [r["points"] for r in rows] == ["-2", "0", "1"]  # numbers stay numbers
    clean = tmp_path / "clean.csv"
    write_table(pa.table({"order_id": ["o1"], "category": ["女装"]}), clean)
    assert clean.read_text(encoding="utf-8").splitlines()[1] == '"o1","女装"'


def test_the_diagnosis_writers_hold_text(tmp_path: Path) -> None:
    rows = [{"waybill": "w1", "note": FORMULA}, {"waybill": "w2", "note": "坏\x01"}]
    write_diagnosis(rows, ["waybill", "note"], tmp_path / "d.xlsx", "d")
    cells = list(load_workbook(tmp_path / "d.xlsx").active.iter_rows(min_row=2))
    assert cells[0][1].data_type == "s" and cells[0][1].value == "'" + FORMULA
    assert cells[1][1].value == "坏\\x01"
    write_diagnosis(rows, ["waybill", "note"], tmp_path / "d.csv", "d")
    assert (tmp_path / "d.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads 中文
    with (tmp_path / "d.csv").open(encoding="utf-8-sig") as handle:
        notes = [row["note"] for row in csv.DictReader(handle)]
    assert notes == ["'" + FORMULA, "坏\\x01"]

"""``lvyue indicators``: the table, the file, the labels' precision and recall, bad input."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pcsv
from helpers import Market
from typer.testing import CliRunner

from lvyue.cli.main import app

runner = CliRunner()


def _facts(tmp_path: Path) -> Path:
    tmp_path.mkdir()
    m = Market()
    for merchant, defects in (("M1", 12), ("M2", 1), ("M3", 1), ("M4", 0)):
        ids = m.add_orders(merchant, 100)
        for oid in ids[:defects]:
            m.after_sale(oid, "defect")
    for name, table in m.tables().items():
        if table is not None:
            pcsv.write_csv(table, tmp_path / f"{name}.csv")
    (tmp_path / "abnormal_merchants.csv").write_text("merchant_id,kind\nM1,quality\n", "utf-8")
    return tmp_path


def test_the_abnormal_merchant_is_shown_written_and_scored(tmp_path: Path) -> None:
    facts = _facts(tmp_path / "facts")
    out = tmp_path / "ind.csv"
    args = ["indicators", str(facts), "--since", "2024-02-01 00:00:00",
            "--until", "2024-02-15 00:00:00", "--out", str(out)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "M1" in result.output and "残次率" in result.output
    assert "precision 1.00, recall 1.00" in result.output
    rows = pcsv.read_csv(out).to_pylist()
    m1 = next(r for r in rows if r["merchant_id"] == "M1" and r["indicator"] == "defect_rate")
    assert m1["level"] == "severe" and m1["clauses"].startswith("IND-7")
    assert len(rows) == 4 * 6  # every merchant, every indicator


def test_by_product_a_merchant_is_flagged_by_its_abnormal_product(tmp_path: Path) -> None:
    """The labels are merchants: judged by product, M1's product P1 flags M1 (it scored
    flagged 0, recall 0.00 whatever the products showed)."""
    facts = _facts(tmp_path / "facts")
    args = ["indicators", str(facts), "--since", "2024-02-01 00:00:00",
            "--until", "2024-02-15 00:00:00", "--by", "product"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "M1/P1" in result.output
    assert "flagged 1, found 1: precision 1.00, recall 1.00" in result.output


def test_bad_input_is_one_line_and_exit_two(tmp_path: Path) -> None:
    facts = _facts(tmp_path / "facts")
    for args, needle in (
        (["--engine", "flink"], "--engine"),
        (["--since", "2024-02-01"], "--since and --until go together"),
        (["--as-of", "yesterday"], "--as-of"),
        (["--festival", "VF-99"], "unknown clause"),
        (["--by", "shop"], "--by"),
        (["--out", str(tmp_path / "x.txt")], "--out"),
    ):
        result = runner.invoke(app, ["indicators", str(facts), *args])
        assert result.exit_code == 2, (args, result.output)
        assert needle in result.output and "Traceback" not in result.output

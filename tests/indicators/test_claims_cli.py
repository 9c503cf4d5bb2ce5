"""``lvyue creators``: false claims shown, written and scored; measures; bad input."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow.csv as pcsv
from claims_market import PAY, ClaimMarket
from typer.testing import CliRunner

from lvyue.cli.main import app

runner = CliRunner()


def _facts(path: Path) -> Path:
    path.mkdir()
    m = ClaimMarket()
    false, true = (
        m.promote("次日达，顺丰包邮", creator="C7"),
        m.promote("72小时内发货", creator="C8"),
    )
    m.orders_of(false, 12, signed=PAY + timedelta(days=4))
    m.orders_of(true, 12, signed=PAY + timedelta(days=4))
    for name, table in m.tables().items():
        if table is not None:
            pcsv.write_csv(table, path / f"{name}.csv")
    (path / "false_claims.csv").write_text("promotion_id,party,party_id\nPR1,creator,C7\n", "utf-8")
    return path


def test_false_claims_are_shown_written_and_scored(tmp_path: Path) -> None:
    facts, out = _facts(tmp_path / "facts"), tmp_path / "claims.csv"
    args = ["creators", "claims", str(facts), "--as-of", "2024-03-01 00:00:00", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "C7" in result.output and "次日达" in result.output and "C8" not in result.output
    assert "labels (creators): 1 false, 1 measured, 1 found" in result.output
    rows = {r["promotion_id"]: r for r in pcsv.read_csv(out).to_pylist()}
    assert rows["PR1"]["level"] == "severe" and rows["PR1"]["clauses"].startswith("VF-9;CC-3")
    assert rows["PR2"]["level"] == "normal" and rows["PR2"]["broken"] == 0


def test_measures_cite_the_clause(tmp_path: Path) -> None:
    facts, out = _facts(tmp_path / "facts"), tmp_path / "measures.csv"
    args = ["creators", "measures", str(facts), "--as-of", "2024-03-01 00:00:00", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    (row,) = pcsv.read_csv(out).to_pylist()
    assert (row["party_id"], row["kind"]) == ("C7", "withdraw_sharing")
    assert row["clauses"].startswith("VF-9;CC-5")


def test_bad_input_is_one_line_and_exit_two(tmp_path: Path) -> None:
    facts = _facts(tmp_path / "facts")
    for args, needle in (
        (["--engine", "flink"], "--engine"),
        (["--as-of", "yesterday"], "--as-of"),
        (["--as-of", "2024-01-01 00:00:00"], "pay window is empty"),
        (["--out", str(tmp_path / "x.doc")], "--out"),
    ):
        result = runner.invoke(app, ["creators", "claims", str(facts), *args])
        assert result.exit_code == 2, result.output
        assert needle in result.output

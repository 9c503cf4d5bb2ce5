"""``lvyue simulate``: writes a facts directory; bad arguments fail with one line, no traceback."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from lvyue.cli.main import app

runner = CliRunner()


def test_simulate_writes_csv_facts(tmp_path: Path) -> None:
    out = tmp_path / "facts"
    result = runner.invoke(
        app, ["simulate", "--orders", "800", "--seed", "2", "--out", str(out), "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    assert (out / "orders.csv").read_text(encoding="utf-8").count("\n") == 801
    assert {"tracking.csv", "labels.csv", "merchants.csv", "ground_truth.csv"} <= {
        p.name for p in out.iterdir()
    }
    assert "orders" in result.output and "800" in result.output


def test_simulate_rejects_bad_arguments(tmp_path: Path) -> None:
    for args in (["--orders", "0"], ["--format", "xml"]):
        result = runner.invoke(app, ["simulate", "--out", str(tmp_path), *args])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_simulate_reports_an_unwritable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    result = runner.invoke(app, ["simulate", "--orders", "50", "--out", str(blocker / "x"), "-q"])
    assert result.exit_code == 2  # a bad --out is bad input
    assert "error:" in result.output and "Traceback" not in result.output

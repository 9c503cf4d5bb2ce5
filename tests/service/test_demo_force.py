"""`lvyue demo` never deletes an existing database silently (issue 15)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from lvyue.cli.main import app

runner = CliRunner()
ENV = {"COLUMNS": "200", "NO_COLOR": "1"}


def test_existing_database_is_kept_without_force(tmp_path: Path) -> None:
    database = tmp_path / "lvyue.db"
    database.write_bytes(b"somebody's data")
    out = runner.invoke(app, ["demo", "--no-serve", "--dir", str(tmp_path)], env=ENV)
    assert out.exit_code == 2 and "--force" in out.output
    assert database.read_bytes() == b"somebody's data"
    refused = runner.invoke(
        app, ["demo", "--no-serve", "--dir", str(tmp_path)], input="n\n", env=ENV
    )
    assert refused.exit_code == 2 and database.read_bytes() == b"somebody's data"


def test_force_replaces_it(tmp_path: Path) -> None:
    database = tmp_path / "lvyue.db"
    database.write_bytes(b"old")
    args = ["demo", "--no-serve", "--dir", str(tmp_path), "--orders", "60", "--force"]
    out = runner.invoke(app, args, env=ENV)
    assert out.exit_code == 0, out.output
    assert database.read_bytes()[:15] == b"SQLite format 3"

"""`lvyue evaluate` shows progress with an ETA on long runs, as `simulate` does (issue 15):
the engine reports its percent done (DuckDB's query progress, then the writer's slices) and
the CLI draws a bar with the percentage, the time elapsed and the time remaining on stderr.

A long run is stood in for by pacing the engine's first reports (a real one takes minutes);
the verdicts are then computed for real."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.engine.conftest import order, write_dir
from typer.testing import CliRunner

import lvyue.cli.engine as engine_cli
from lvyue.cli import Terminal
from lvyue.cli.main import app

runner = CliRunner()


def _paced(real: Callable[..., Any]) -> Callable[..., Any]:
    def evaluate_file(*args: Any, progress: Callable[[float], None], **kw: Any) -> Any:
        for done in (5.0, 20.0, 35.0, 50.0):
            progress(done)
            time.sleep(0.3)  # pacing only: nothing here is timed or asserted on time
        return real(*args, progress=progress, **kw)

    return evaluate_file


def test_evaluate_draws_progress_with_eta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    facts = write_dir(tmp_path / "facts", orders=[order("o1", "2024-03-01 10:00:00")])
    screen = io.StringIO()
    monkeypatch.setattr(engine_cli, "err", Terminal(file=screen, force_terminal=True, width=80))
    monkeypatch.setattr(engine_cli, "evaluate_file", _paced(engine_cli.evaluate_file))
    out = runner.invoke(app, ["evaluate", str(facts), "--as-of", "2024-04-01",
                              "--out", str(tmp_path / "v.parquet")])  # fmt: skip
    assert out.exit_code == 0, out.output
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())  # without the escapes
    assert "evaluating on duckdb" in drawn
    assert re.search(r"\b(20|35|50)%", drawn)  # the percentage
    assert re.search(r"\d+:\d\d:\d\d +\d+:\d\d:\d\d", drawn)  # elapsed, then remaining (ETA)
    assert (tmp_path / "v.parquet").exists()


def test_the_bar_is_not_drawn_into_a_pipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    facts = write_dir(tmp_path / "facts", orders=[order("o1", "2024-03-01 10:00:00")])
    screen = io.StringIO()
    monkeypatch.setattr(engine_cli, "err", Terminal(file=screen, force_terminal=False, width=80))
    monkeypatch.setattr(engine_cli, "evaluate_file", _paced(engine_cli.evaluate_file))
    out = runner.invoke(app, ["evaluate", str(facts), "--as-of", "2024-04-01",
                              "--out", str(tmp_path / "v.csv")])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "%" not in screen.getvalue()  # a log file gets no bar frames

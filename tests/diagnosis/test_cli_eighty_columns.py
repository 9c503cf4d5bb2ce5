"""`lvyue diagnose` at 80 columns (issue 15): no line wider, every table row on one line
(a carrier with its three durations, a peer standing with its grade), bullets folded under
themselves."""

from __future__ import annotations

import re
from pathlib import Path

import synth
from rich.cells import cell_len
from test_diagnose import _merchant
from typer.testing import CliRunner

from lvyue.cli.main import app

runner = CliRunner()


def test_diagnose_fits_80_columns(market: synth.Synth, facts_dir: Path) -> None:
    merchant = _merchant(market, True)
    out = runner.invoke(app, ["diagnose", merchant, "--facts", str(facts_dir)],
                        env={"COLUMNS": "80", "NO_COLOR": "1"})  # fmt: skip
    assert out.exit_code == 0, out.output
    wide = [line for line in out.stdout.splitlines() if cell_len(line.rstrip()) > 80]
    assert not wide, "\n".join(wide)
    triple = r"\d+\.\d/\d+\.\d/\d+\.\d"
    assert re.search(rf"^ \S+ +\d+ +{triple} +{triple} +\d+\.\d% +\d+\.\d% *$", out.stdout, re.M)
    assert re.search(r"(落后 lagging|一般 normal|优秀 excellent)", out.stdout)
    assert "专题分析 Topic analysis" in out.stdout and "→" in out.stdout  # lanes

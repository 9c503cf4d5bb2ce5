"""The terminal output is designed for 80 columns (issue 15): at COLUMNS=80 no line of
`rules resolve` or `explain` is wider, and each row reads on one line (a parameter with its
value, deadline and clause; a clause with its value and why) — `--wide`/`--json` for the rest.
`diagnose` is walked the same way in tests/diagnosis/test_cli_eighty_columns.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from lvyue.cli.main import app

runner = CliRunner()
NARROW = {"COLUMNS": "80", "NO_COLOR": "1"}
FLOWER = "鲜花速递/花卉仿真/绿植园艺>生活鲜花"
ORDER = "6919283746500061387"  # the README's order (simulate --orders 300 --seed 7)


def lines_of(output: str) -> list[str]:
    return [line.rstrip() for line in output.splitlines()]


def assert_fits(output: str) -> None:
    wide = [line for line in lines_of(output) if cell_len(line) > 80]
    assert not wide, "\n".join(wide)


def resolve(*more: str) -> str:
    args = ["rules", "resolve", "--merchant-type", "domestic", "--ship-mode", "spot",
            "--category", FLOWER, "--pay-time", "2024-02-14 23:59:59", *more]  # fmt: skip
    out = runner.invoke(app, args, env=NARROW)
    assert out.exit_code == 0, out.output
    return "\n".join(lines_of(out.stdout))


def test_rules_resolve_fits_80_columns_one_parameter_a_line() -> None:
    output = resolve()
    assert_fits(output)
    assert re.search(r"^  deadline +pay_time \+48 h +02-16 23:59:59 +VF-2;DR-1a$", output, re.M)
    assert re.search(r"^  points_per_order +0\.1 +DR-6a$", output, re.M)  # under its family
    assert re.search(r"^penalty\.late_ship$", output, re.M)
    assert "ship.deadline: VF-2;DR-1a overrides NY-1" in output
    assert re.search(r"^no clause applies: .*first_hub\.limit", output, re.M)


def test_rules_resolve_wide_keeps_the_full_table() -> None:
    output = resolve("--wide")
    assert "overrides" in output.splitlines()[2] and "ship.deadline" in output  # a header
    assert any(cell_len(line) == 80 for line in lines_of(output))  # as wide as allowed


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lvyue.sim import write_facts

    directory = tmp_path_factory.mktemp("facts")
    write_facts(directory, 300, 7, progress=False)
    return directory


def test_explain_fits_80_columns_and_speaks_chinese(facts: Path) -> None:
    args = ["explain", ORDER, "--facts", str(facts), "--as-of", "2024-04-01 00:00:00"]
    out = runner.invoke(app, args, env=NARROW)
    assert out.exit_code == 0, out.output
    assert_fits(out.stdout)
    text = "\n".join(lines_of(out.stdout))
    timeline = text.split("timeline", 1)[1].split("verdicts", 1)[0]
    assert re.search(r"^2023-06-25 07:00:56  揽收 pickup$", timeline, re.M)
    assert re.search(r"^2023-07-02 05:35:23  申请售后 · 售后 AS\d+ 退货退款$", timeline, re.M)
    considered = text.split("clauses considered", 1)[1]
    assert re.search(r"^发货时效 ship\.deadline$", considered, re.M)
    assert re.search(r"^✔  DR-1a +pay_time \+48 h +applies$", considered, re.M)
    assert re.search(r"^✘  SF-6 +ship_time \+48 h +out of window on clock ship_time$",
                     considered, re.M)  # fmt: skip
    said = text.split("what the clauses say", 1)[1]
    assert re.search(r"^DR-1a +现货发货模式", said, re.M)


def test_preview_groups_speak_chinese_at_80_columns(facts: Path) -> None:
    args = ["preview", "--draft", "docs/examples/draft", "--facts", str(facts),
            "--as-of", "2024-04-01 00:00:00"]  # fmt: skip
    out = runner.invoke(app, args, env=NARROW)
    assert out.exit_code == 0, out.output
    assert_fits(out.stdout)
    text = "\n".join(lines_of(out.stdout))
    assert re.search(r"^  X-1 +揽收 +正常 → 正常 +\d+$", text, re.M)  # check and statuses
    assert "pickup" not in text.split("by clause", 1)[1]  # codes stay in the --out file


def test_the_cli_reads_the_terminal_width_when_it_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich fixes COLUMNS when a Console is built; the CLI's consoles are built when used, so a
    command run under COLUMNS=80 leaves no 80-column console for the next (as under xdist)."""
    from lvyue.cli import Terminal

    terminal = Terminal()
    monkeypatch.setenv("COLUMNS", "80")
    assert terminal.width == 80
    monkeypatch.setenv("COLUMNS", "200")
    assert terminal.width == 200 and terminal.make().width == 200

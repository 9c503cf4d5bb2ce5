"""Files the engine commands write open where people open them (issue 15): real .xlsx with
Chinese headers beside the codes, anything else refused before any work; terminal labels."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from tests.engine.conftest import order, scan, write_dir
from tests.rulebook.drafts import EXTENDING, write_draft
from typer.testing import CliRunner

from lvyue.cli.main import app

runner = CliRunner()
ENV = {"COLUMNS": "80", "NO_COLOR": "1"}
AS_OF = ["--as-of", "2023-03-20 00:00:00"]


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("facts")
    return write_dir(
        root,
        orders=[
            order("late", "2023-03-01 10:00:00", ship_time="2023-03-05 10:00:00"),
            order("fake", "2023-03-01 10:00:00", ship_time="2023-03-01 12:00:00"),
            order("soon", "2023-03-19 10:00:00"),
        ],
        tracking=[scan("late", "2023-03-05 18:00:00")],
    )


def _sheet(path: Path) -> list[tuple[object, ...]]:
    return list(load_workbook(path).active.values)


@pytest.mark.parametrize(
    "args",
    [
        ["penalties", "--facts", "{facts}", *AS_OF],
        ["at-risk", "--facts", "{facts}", *AS_OF, "--within", "48h"],
        ["preview", "--facts", "{facts}", *AS_OF, "--draft", "{draft}"],
    ],
    ids=["penalties", "at-risk", "preview"],
)
def test_xlsx_is_a_real_workbook_and_other_suffixes_are_refused(
    facts: Path, tmp_path: Path, args: list[str]
) -> None:
    draft = write_draft(tmp_path / "draft", EXTENDING)
    argv = [a.replace("{facts}", str(facts)).replace("{draft}", str(draft)) for a in args]
    out = runner.invoke(app, [*argv, "--out", str(tmp_path / "x.xlsx")], env=ENV)
    assert out.exit_code == 0, out.output
    rows = _sheet(tmp_path / "x.xlsx")
    assert rows and "订单号 order_id" in rows[0]
    refused = runner.invoke(app, [*argv, "--out", str(tmp_path / "x.txt")], env=ENV)
    assert refused.exit_code == 2 and ".xlsx" in refused.output
    assert not (tmp_path / "x.txt").exists()


def test_penalty_sheet_has_the_late_order(facts: Path, tmp_path: Path) -> None:
    argv = ["penalties", "--facts", str(facts), *AS_OF, "--out", str(tmp_path / "p.xlsx")]
    assert runner.invoke(app, argv, env=ENV).exit_code == 0
    rows = _sheet(tmp_path / "p.xlsx")
    assert [r[0] for r in rows[1:]] == ["late"] and "扣分 points" in rows[0]


def test_at_risk_sheet_labels_check_and_status(facts: Path, tmp_path: Path) -> None:
    argv = ["at-risk", "--facts", str(facts), *AS_OF, "--within", "48h"]
    out = runner.invoke(app, [*argv, "--out", str(tmp_path / "a.xlsx")], env=ENV)
    assert "发货时效" in out.output and max(len(x) for x in out.output.splitlines()) <= 80
    header, *rows = _sheet(tmp_path / "a.xlsx")
    cells = dict(zip(header, rows[0], strict=True))
    assert cells["检查项 check"] == "发货时效 (ship_deadline)"
    assert cells["状态 status"] == "即将超时 (at_risk)"


def test_evaluate_refuses_xlsx_and_explain_names_violations(facts: Path, tmp_path: Path) -> None:
    out = runner.invoke(app, ["evaluate", str(facts), *AS_OF, "--out", str(tmp_path / "v.xlsx")])
    assert out.exit_code == 2 and not (tmp_path / "v.xlsx").exists()
    out = runner.invoke(
        app, ["evaluate", str(facts), *AS_OF, "--out", str(tmp_path / "v.csv")], env=ENV
    )
    assert out.exit_code == 0 and "发货时效" in out.output and "违规" in out.output
    late = runner.invoke(app, ["explain", "late", "--facts", str(facts), *AS_OF], env=ENV)
    assert "发货超时" in late.output
    fake = runner.invoke(app, ["explain", "fake", "--facts", str(facts), *AS_OF], env=ENV)
    assert "虚假发货" in fake.output


def test_explain_says_what_the_deciding_clauses_say(facts: Path) -> None:
    out = runner.invoke(app, ["explain", "late", "--facts", str(facts), *AS_OF], env=ENV)
    assert out.exit_code == 0 and "条款原文" in out.output
    assert re.search(r"^DR-1a \S", out.output, re.M)


RELIEF = """
announcement: draft-relief
title: 草稿：三月发货时限放宽至7天
source: {kind: operator default, ref: test}
clauses:
  - id: Y-1
    parameter: ship.deadline
    value: {days: 7, after: pay_time}
    window: [2023-03-01 00:00:00, 2023-03-31 23:59:59]
    scope: {ship_mode: [spot]}
    exception_to: [DR-1a]
    source: 测试：三月现货7天内发货
"""


def test_preview_counts_status_changes_and_their_penalties(facts: Path, tmp_path: Path) -> None:
    draft = write_draft(tmp_path / "relief", RELIEF)
    argv = ["preview", "--facts", str(facts), *AS_OF, "--draft", str(draft)]
    out = runner.invoke(app, argv, env={"COLUMNS": "120", "NO_COLOR": "1"})
    assert out.exit_code == 0, out.output
    assert re.search(r"; 1 change status", out.output)  # "late" ships within 7 days
    late = re.search(r"late orders 发货超时\s+(\S+)\s+(\S+)\s+(\S+)", out.output)
    points = re.search(r"points 扣分\s+(\S+)\s+(\S+)\s+(\S+)", out.output)
    assert late is not None and late.groups() == ("1.0", "0.0", "-1.0")
    assert points is not None and points.groups() == ("0.1", "0.0", "-0.1")


def test_preview_and_penalty_sheets_speak_chinese(facts: Path, tmp_path: Path) -> None:
    """Every export header and status cell carries its Chinese label (issue 15), the
    preview's before/after pairs and the penalty columns included; the codes stay beside."""
    draft = write_draft(tmp_path / "relief", RELIEF)
    argv = ["preview", "--facts", str(facts), *AS_OF, "--draft", str(draft)]
    out = runner.invoke(app, [*argv, "--out", str(tmp_path / "v.xlsx")], env=ENV)
    assert out.exit_code == 0, out.output
    header, *rows = _sheet(tmp_path / "v.xlsx")
    assert {"原状态 status_before", "新状态 status_after", "新截止时间 deadline_after"} <= set(
        header
    )
    changed = [dict(zip(header, r, strict=True)) for r in rows]
    assert {r["原状态 status_before"] for r in changed} & {"违规 (violated)"}
    penalties = ["penalties", "--facts", str(facts), *AS_OF, "--out", str(tmp_path / "p.xlsx")]
    assert runner.invoke(app, penalties, env=ENV).exit_code == 0
    assert {"商品 product_id", "日期 day", "封顶 capped"} <= set(_sheet(tmp_path / "p.xlsx")[0])

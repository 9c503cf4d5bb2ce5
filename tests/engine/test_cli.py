"""The engine's commands end to end: evaluate, bad input, explain, at-risk, preview, penalties."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from rich.console import Console
from tests.engine.conftest import order, scan, write_dir
from typer.testing import CliRunner

from lvyue.cli.main import app

runner = CliRunner()


@pytest.fixture
def facts(tmp_path: Path) -> Path:
    return write_dir(
        tmp_path / "facts",
        orders=[
            order("in", "2023-02-02 23:59:59", delayed_shipping="true",
                  ship_time="2023-02-04 23:59:59", product_id="P1"),
            order("late1", "2023-03-01 10:00:00", ship_time="2023-03-04 10:00:00",
                  product_id="P1"),
            order("late2", "2023-03-01 11:00:00", product_id="P1"),
            order("late3", "2023-03-01 12:00:00", ship_time="2023-03-03 12:00:01",
                  product_id="P1"),
            order("soon", "2023-03-08 10:00:00"),
        ],
        tracking=[scan("in", "2023-02-06 23:59:59")],
    )  # fmt: skip


def _csv(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return {(r["order_id"], r["check"]): r for r in csv.DictReader(handle)}


def test_evaluate_writes_iso_times_and_a_summary(facts: Path, tmp_path: Path) -> None:
    out = tmp_path / "verdicts.csv"
    result = runner.invoke(app, ["evaluate", str(facts), "--as-of", "2023-03-10 00:00:00",
                                 "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "发货时效" in result.output and "违规" in result.output  # Chinese labels (issue 15)
    rows = _csv(out)
    assert rows["in", "ship_deadline"]["deadline"] == "2023-02-04T23:59:59+08:00"
    assert rows["in", "ship_deadline"]["clauses"] == "SF-4"
    assert rows["in", "pickup"]["status"] == "ok"
    assert rows["late2", "ship_deadline"]["status"] == "violated"
    assert rows["late2", "ship_deadline"]["done_at"] == ""
    assert rows["soon", "ship_deadline"]["status"] == "at_risk"  # 10 h left, horizon 12 h
    assert rows["in", "ship_deadline"]["detail"].startswith("shipping")


def test_bad_input_stops_with_file_row_column_or_quarantines(facts: Path, tmp_path: Path) -> None:
    width = len((facts / "orders.csv").read_text("utf-8").splitlines()[0].split(","))
    fields = ["bad", "m1", "domestic", "x", "spot", "yesterday", "", "false"]
    with (facts / "orders.csv").open("a", encoding="utf-8") as handle:
        handle.write(",".join(fields + [""] * (width - len(fields))) + "\n")
    out = tmp_path / "v.parquet"
    args = ["evaluate", str(facts), "--as-of", "2023-03-10", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "orders.csv row 6, column pay_time" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()  # nothing half-written
    quarantine = tmp_path / "q.csv"
    result = runner.invoke(app, [*args, "--skip-bad", "--quarantine", str(quarantine)])
    assert result.exit_code == 0, result.output
    assert out.exists()
    assert "yesterday" in quarantine.read_text(encoding="utf-8")


def test_explain_names_clauses_and_why_others_did_not_apply(
    facts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("lvyue.cli.engine.console", Console(width=250))
    result = runner.invoke(app, ["explain", "in", "--facts", str(facts), "--as-of", "2023-03-10"])
    assert result.exit_code == 0, result.output
    for text in ("SF-4", "DR-1a", "overridden by SF-4", "SF-6", "timeline"):
        assert text in result.output
    assert "data quality" not in result.output  # the tool was open for "in"
    missing = runner.invoke(app, ["explain", "nope", "--facts", str(facts)])
    assert missing.exit_code == 2


def test_explain_notes_a_delayed_flag_no_window_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("lvyue.cli.engine.console", Console(width=400))
    facts = write_dir(
        tmp_path / "dirty",
        orders=[order("dirty", "2023-02-03 00:00:00", delayed_shipping="true",
                      ship_time="2023-02-05 00:00:00")],
        tracking=[scan("dirty", "2023-02-05 01:00:00"),
                  scan("dirty", "2023-02-05 05:00:00", "hub_arrival")],
    )  # fmt: skip
    args = ["explain", "dirty", "--facts", str(facts), "--as-of", "2023-03-10"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "data quality: delayed_shipping is set" in result.output
    assert "violated" not in result.output  # the original 48 h was met, the flag judged nothing


def test_at_risk_lists_only_what_breaches_within_the_horizon(facts: Path) -> None:
    args = ["at-risk", "--facts", str(facts), "--as-of", "2023-03-09 12:00:00"]
    result = runner.invoke(app, [*args, "--within", "12h"])
    assert result.exit_code == 0, result.output
    assert "soon" not in result.output  # deadline 03-10 10:00: 22 h away
    result = runner.invoke(app, [*args, "--within", "1d"])
    assert "soon" in result.output and "1 at risk" in result.output


def test_preview_reports_verdicts_a_draft_would_change(facts: Path, tmp_path: Path) -> None:
    draft = tmp_path / "draft"
    draft.mkdir()
    (draft / "march.yaml").write_text(
        """announcement: march-relief
title: 三月发货时效放宽（草案）
source: {kind: operator default, ref: test}
clauses:
  - id: MR-1
    parameter: ship.deadline
    value: {hours: 96, after: pay_time}
    window: [2023-03-01 00:00:00, 2023-03-01 23:59:59]
    scope: {merchant_type: [domestic], ship_mode: [spot], flags: {delayed_shipping: false}}
    exception_to: [DR-1a]
    source: 草案：三月一日付款的订单发货时效放宽至96小时
""",
        encoding="utf-8",
    )
    out = tmp_path / "changes.csv"
    result = runner.invoke(app, ["preview", "--draft", str(draft), "--facts", str(facts),
                                 "--as-of", "2023-03-10", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "MR-1" in result.output
    changed = {r["order_id"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert changed["late1"]["status_before"] == "violated"
    assert changed["late1"]["status_after"] == "ok"
    assert "soon" not in changed and "in" not in changed


def test_penalties_points_deductions_and_ban(facts: Path, tmp_path: Path) -> None:
    out = tmp_path / "penalties.csv"
    result = runner.invoke(app, ["penalties", "--facts", str(facts), "--as-of", "2023-03-10",
                                 "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {r["order_id"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert set(rows) == {"late1", "late2", "late3"}
    assert float(rows["late1"]["points"]) == pytest.approx(0.1)
    # late1 shipped 1 day late: one deduction; late2 never shipped (7 days): capped at 2
    assert float(rows["late1"]["deduction_yuan"]) == 10
    assert float(rows["late2"]["deduction_yuan"]) == 20
    assert float(rows["late3"]["deduction_yuan"]) == 10  # 1 s late still starts a day
    # DR-6g "同一订单延迟发货超过2次": late2 is late 7 started days (more than twice): P1 banned;
    # late1 (exactly 24 h: once) and late3 (1 s: once) are not, whatever P1's count
    assert rows["late2"]["product_banned"] == "true"
    assert rows["late1"]["product_banned"] == rows["late3"]["product_banned"] == "false"

"""`lvyue rules …` through the real Typer app: output, JSON, exit codes, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.rulebook.drafts import CONFLICTING, write_draft
from tests.rulebook.helpers import FLOWER
from typer.testing import CliRunner

from lvyue.cli.main import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["rules", *args])
    return result.exit_code, result.stdout, result.stderr


def test_check_passes_on_the_shipped_rulebook() -> None:
    code, out, _ = run("check")
    assert code == 0 and "no conflict" in out
    code, out, _ = run("check", "--json")
    checked = json.loads(out)
    assert code == 0 and checked["conflicts"] == []
    # NY-2 and SF-9b agree (28 d) where both could apply: a warning, not a failure.
    assert [sorted(t["clauses"]) for t in checked["ties"]] == [["NY-2", "SF-9b"]]


def test_check_names_both_clauses_of_a_conflicting_draft(tmp_path: Path) -> None:
    draft = write_draft(tmp_path / "draft", CONFLICTING)
    code, out, _ = run("check", "--rulebook", str(draft), "--json")
    assert code == 1
    [conflict] = json.loads(out)["conflicts"]
    assert conflict["parameter"] == "pickup.limit"
    assert set(conflict["clauses"]) == {"SF-6", "X-1"}
    code, out, _ = run("check", "--rulebook", str(draft))
    assert code == 1 and "SF-6" in out and "X-1" in out


def test_list_and_show() -> None:
    code, out, _ = run("list", "--json")
    ids = {c["id"] for c in json.loads(out)}
    assert code == 0 and {"DR-1a", "SF-4", "NY-1", "VF-2", "BT-1", "SF-10", "VF-7"} <= ids
    code, out, _ = run("list", "--parameter", "pickup.limit")
    assert code == 0 and "SF-6" in out and "VF-2" not in out
    code, out, _ = run("show", "SF-6", "--json")
    shown = json.loads(out)
    assert code == 0
    assert shown["clause"]["window"]["as_written"] == "2023-01-14 00:00:00 – 2023-02-04 23:59:59"
    assert shown["clause"]["window"]["to_exclusive"] == "2023-02-05T00:00:00+08:00"
    assert "揽收时效由24小时调整为48小时" in shown["clause"]["source"]
    assert shown["announcement"]["source_kind"] == "seed"
    code, out, _ = run("show", "DR-1a", "--json")
    assert json.loads(out)["announcement"]["source_kind"] == "third_party summary"
    # VF-2 cancels NY-1 instead of overriding DR-1a; SF-1 (agreed time), SF-2a (activity)
    assert json.loads(out)["exceptions_to_it"] == ["NY-1", "SF-1", "SF-2a", "SF-4"]
    code, out, _ = run("show", "NY-1")
    assert code == 0 and "partial" in out
    code, out, _ = run("show", "ship.deadline", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["kinds"] == ["duration", "instant"]
    assert [c["id"] for c in shown["clauses"]] == [
        "DR-1a", "DR-1b", "NY-1", "SF-1", "SF-2a", "SF-4", "SF-5", "VF-2"]  # fmt: skip
    code, out, _ = run("show", "pickup.limit")
    assert code == 0 and "SF-6" in out and "ship_time" in out
    code, _, err = run("show", "ZZ-9")
    assert code == 2 and "ZZ-9" in err  # an unknown id is bad input (issue 15)


def test_resolve_with_flags_prints_every_parameter() -> None:
    code, out, _ = run(
        "resolve", "--category", FLOWER, "--pay-time", "2024-02-10 10:00:00", "--json"
    )
    rows = {r["parameter"]: r for r in json.loads(out)}
    assert code == 0
    assert rows["ship.deadline"]["clause"] == "DR-1a"
    assert rows["ship.deadline"]["cites"] == "VF-2;DR-1a"
    assert rows["ship.deadline"]["overridden"] == ["NY-1"]
    assert rows["ship.deadline"]["deadline"] == "2024-02-12T10:00:00+08:00"
    # not shipped yet: SF-6 (pickup) and VF-5 (modes, read on ship_time) cannot be decided
    assert "clause" not in rows["pickup.limit"] and "clause" not in rows["ship.modes_allowed"]
    code, out, _ = run("resolve", "--category", FLOWER, "--pay-time", "2024-02-10 10:00:00",
                       "--ship-time", "2024-02-11 10:00:00", "--json")  # fmt: skip
    rows = {r["parameter"]: r for r in json.loads(out)}
    assert rows["ship.modes_allowed"]["value"] == ["spot"]
    code, out, _ = run("resolve", "--category", FLOWER, "--pay-time", "2024-02-10 10:00:00")
    assert code == 0 and "VF-2" in out and "resolved parameters" in out


def test_resolve_takes_an_order_as_json_or_file(tmp_path: Path) -> None:
    facts = {"merchant_type": "domestic", "ship_mode": "spot", "delayed_shipping": True,
             "pay_time": "2023-01-20 10:00:00"}  # fmt: skip
    file = tmp_path / "order.json"
    file.write_text(json.dumps(facts), encoding="utf-8")
    for spec in (json.dumps(facts), f"@{file}"):
        code, out, _ = run("resolve", "--order", spec, "--parameter", "ship.deadline", "--json")
        [row] = json.loads(out)
        assert code == 0 and row["clause"] == "SF-4"
        assert row["deadline"] == "2023-02-04T23:59:59+08:00"
    code, out, _ = run("resolve", "--clock", "return_shipped=2023-01-20 00:00",
                       "--flag", "shipped_before_aftersale",
                       "--parameter", "aftersale.refund.limit", "--explain", "--json")  # fmt: skip
    [row] = json.loads(out)
    assert code == 0 and row["clause"] == "SF-9d" and row["trace"][0]["clause"] == "DR-3d"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--order", "{not json"), "--order: not JSON"),
        (("--order", "@/nonexistent/order.json"), "--order @/nonexistent/order.json"),
        (("--merchant-type", "martian"), "martian"),
        (("--pay-time", "soon"), "pay_time"),
        (("--flag", "vip"), "vip"),
        (("--clock", "pay_time"), "NAME=TIME"),
        (("--parameter", "ship.nonsense"), "ship.nonsense"),
    ],
)
def test_resolve_bad_order_is_one_line_exit_2(args: tuple[str, ...], message: str) -> None:
    code, _, err = run("resolve", *args)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_resolve_reports_a_conflict_and_exits_1(tmp_path: Path) -> None:
    draft = write_draft(tmp_path, CONFLICTING)
    code, out, _ = run("resolve", "--rulebook", str(draft), "--ship-time", "2023-02-02",
                       "--parameter", "pickup.limit", "--json")  # fmt: skip
    assert code == 1 and "SF-6" in out and "X-1" in out


_CLAUSE = """
announcement: bad
title: bad
source: {kind: operator default, ref: test}
clauses:
  - id: B-1
    parameter: pickup.limit
    value: {hours: 24}
    clock: ship_time
    window: [2030-01-01 00:00:00, 2030-01-31 23:59:59]
    exception_to: [DR-2a]
    source: 测试
"""
_CYCLE = """
announcement: cyc
title: cyc
source: {kind: operator default, ref: test}
clauses:
  - {id: C-1, parameter: pickup.limit, value: {hours: 1}, exception_to: [C-2], source: a}
  - {id: C-2, parameter: pickup.limit, value: {hours: 2}, exception_to: [C-1], source: b}
"""


def _with(text: str, line: str) -> str:
    """The clause with one more field."""
    return text.replace("    source:", f"    {line}\n    source:")


MALFORMED = [
    ("unknown parameter", _CLAUSE.replace("parameter: pickup.limit", "parameter: pickup.lmit"),
     "B-1", "parameter", "unknown parameter 'pickup.lmit'"),
    ("bad window", _CLAUSE.replace("2030-01-31 23:59:59", "2029-01-31 23:59:59"),
     "B-1", "window", "ends before it starts"),
    ("unreadable window", _CLAUSE.replace("2030-01-31 23:59:59", "next week"),
     "B-1", "window", "not an instant"),
    ("unknown category level", _with(_CLAUSE, "scope: {category: [二手商品>二手汽车]}"),
     "B-1", "scope.category", "unknown category level"),
    ("exception to a missing clause", _CLAUSE.replace("[DR-2a]", "[DR-99]"),
     "B-1", "exception_to", "no clause DR-99"),
    ("exception to another parameter", _CLAUSE.replace("[DR-2a]", "[DR-2b]"),
     "B-1", "exception_to", "DR-2b sets first_hub.limit, not pickup.limit"),
    ("cycle of exceptions", _CYCLE, "C-2", "exception_to", "cycle C-1 -> C-2 -> C-1"),
    ("value of the wrong type", _CLAUSE.replace("value: {hours: 24}", "value: true"),
     "B-1", "value", "pickup.limit takes duration"),
    ("unknown clock", _CLAUSE.replace("clock: ship_time", "clock: lunch_time"),
     "B-1", "clock", "'lunch_time' is not one of"),
    ("unknown flag", _with(_CLAUSE, "scope: {flags: {vip: true}}"),
     "B-1", "scope.flags", "unknown flag"),
    ("unknown field", _with(_CLAUSE, "colour: red"),
     "B-1", "colour", "unknown field"),
    ("duplicate id", _CLAUSE.replace("id: B-1", "id: SF-6"), "SF-6", "id", "also used by"),
    ("duplicate id in one file", _CLAUSE + _CLAUSE[_CLAUSE.index("  - id"):],
     "B-1", "id", "duplicate clause id"),
    ("unknown revision field", _CLAUSE + "revisions:\n  - {at: 2030-01-15 00:00:00, when: x}\n",
     None, "revisions[0].when", "unknown field"),
    ("duplicate announcement", _CLAUSE.replace("announcement: bad", "announcement: daily-rules"),
     None, "announcement", "is also used by"),
    ("missing source", _CLAUSE.replace("    source: 测试\n", ""), "B-1", "source", "cites"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "text", "clause", "field", "problem"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_malformed_announcement_is_one_line_exit_2(
    tmp_path: Path, case: str, text: str, clause: str | None, field: str, problem: str
) -> None:
    draft = write_draft(tmp_path, text, name="broken.yaml")
    commands = ("check", "list", "resolve") if case == "unknown parameter" else ("check",)
    for command in commands:
        code, out, err = run(command, "--rulebook", str(draft))
        assert code == 2, (case, command, out)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        line = " ".join(err.split())
        assert "broken.yaml" in line and (clause is None or f"clause {clause}" in line)
        assert f"field {field}" in line and problem in line


def test_not_yaml_and_missing_dir_are_one_line_errors(tmp_path: Path) -> None:
    draft = write_draft(tmp_path / "d", "announcement: [unclosed\n", name="broken.yaml")
    code, _, err = run("check", "--rulebook", str(draft))
    assert code == 2 and "broken.yaml" in err and "not valid YAML" in err
    cats = write_draft(tmp_path / "c", "二手商品: [unclosed\n", name="categories.yaml")
    code, _, err = run("check", "--rulebook", str(cats))
    assert code == 2 and "categories.yaml" in err and len(err.strip().splitlines()) == 1
    code, _, err = run("check", "--rulebook", str(tmp_path / "nowhere"))
    assert code == 2 and "not a directory" in err


def test_table_command_writes_parquet_and_csv(tmp_path: Path) -> None:
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    from lvyue.rulebook import load_rulebook

    expected = load_rulebook().parameter_table()
    code, out, _ = run("table", "--out", str(tmp_path / "rules.parquet"), "--json")
    assert code == 0 and json.loads(out)["rows"] == expected.num_rows
    assert pq.read_table(tmp_path / "rules.parquet").equals(expected)
    code, _, _ = run("table", "--out", str(tmp_path / "rules.csv"))
    assert code == 0 and pcsv.read_csv(tmp_path / "rules.csv").num_rows == expected.num_rows
    code, _, err = run("table", "--out", str(tmp_path / "rules.txt"))
    assert code == 2 and ".parquet or .csv" in err


def test_table_command_refuses_a_conflicting_rulebook(tmp_path: Path) -> None:
    code, _, err = run("table", "--rulebook", str(write_draft(tmp_path, CONFLICTING)))
    assert code == 1 and "SF-6" in err and "X-1" in err


def test_diff_command(tmp_path: Path) -> None:
    from tests.rulebook.drafts import EXTENDING

    code, out, _ = run("diff", "--rulebook", str(write_draft(tmp_path, EXTENDING)), "--json")
    assert code == 0
    assert sorted(c["before"].split(" ")[0] for c in json.loads(out)) == ["DR-2a", "SF-6"]
    code, _, err = run("diff")
    assert code == 2 and "--rulebook" in err

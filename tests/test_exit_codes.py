"""One exit-code convention for every command (issue 15, README): 0 ok, 1 findings (a
conflict, an ambiguous address), 2 bad input — one line on stderr, never a traceback.
Exit 0 for every command is the README walk (tests/test_readme_walk.py)."""

from __future__ import annotations

import pytest
from tests.engine.conftest import order, write_dir
from tests.rulebook.drafts import CONFLICTING, write_draft
from typer.testing import CliRunner

from lvyue.cli.main import app

runner = CliRunner()
NOPE = "/nonexistent/lvyue"
BAD_URL = "postgresql+psycopg://nobody@127.0.0.1:1/none"

BAD_INPUT = [
    ["simulate", "--orders", "-5", "--out", "{tmp}/sim"],
    ["rules", "list", "--parameter", "nope"],
    ["rules", "show", "NOPE-1"],
    ["rules", "check", "--rulebook", NOPE],
    ["rules", "resolve", "--pay-time", "yesterday afternoon"],
    ["rules", "table", "--out", "{tmp}/t.txt"],
    ["rules", "diff"],
    ["import", "douyin-export", f"{NOPE}.csv", "--out", "{tmp}/i"],
    ["import", "open-platform", f"{NOPE}.json", "--out", "{tmp}/i"],
    ["import", "kuaidi100", f"{NOPE}.json", "--out", "{tmp}/i"],
    ["import", "tracking-csv", f"{NOPE}.csv", "--out", "{tmp}/i"],
    ["region", "parse", "火星基地1号"],
    ["region", "cities", "--province", "火星"],
    ["evaluate", NOPE, "--as-of", "2024-04-01", "--out", "{tmp}/v.csv"],
    ["explain", "no-such-order", "--facts", "{facts}"],
    ["at-risk", "--facts", "{facts}", "--within", "soon"],
    ["preview", "--draft", NOPE, "--facts", "{facts}"],
    ["penalties", "--facts", "{facts}", "--out", "{tmp}/p.txt"],
    ["diagnose", "NOPE", "--facts", "{facts}"],
    ["governance", "--facts", "{facts}", "--week", "2023-05"],
    ["reachability", "--carrier", "nope"],
    ["growth-signup", "m1", "teleport", "--facts", "{facts}", "--state-dir", "{tmp}/s"],
    ["db", "upgrade", "--url", BAD_URL],
    ["worker", "--once", "--url", BAD_URL],
    ["serve", "--url", BAD_URL],
    ["demo", "--no-serve", "--dir", "{existing}"],
    ["version", "--nope"],
    ["indicators", "{facts}", "--festival", "VF-99"],
    ["measures", "propose", "{facts}", "--as-of", "soon"],
    ["creators", "claims", "{facts}", "--as-of", "soon"],
    ["creators", "measures", "{facts}", "--until", "soon"],
    ["creators", "measures", "{facts}", "--periods", "0"],
    ["creators", "recorded", "--url", BAD_URL],
]
FINDINGS = [
    ["rules", "check", "--rulebook", "{conflicting}"],
    ["rules", "diff", "--rulebook", "{conflicting}"],
    ["region", "parse", "鼓楼区中山路1号"],
]


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("exit")
    facts = write_dir(root / "facts", orders=[order("o1", "2024-03-01 10:00:00")])
    existing = root / "existing"
    existing.mkdir()
    (existing / "lvyue.db").write_bytes(b"keep me")
    return {
        "{tmp}": str(root),
        "{facts}": str(facts),
        "{existing}": str(existing),
        "{conflicting}": str(write_draft(root / "conflicting", CONFLICTING)),
    }


def _run(args: list[str], places: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("LVYUE_INSPECTION_SECRET", "0" * 64)  # serve/worker reach their input
    filled = []
    for arg in args:
        for key, value in places.items():
            arg = arg.replace(key, value)
        filled.append(arg)
    return runner.invoke(app, filled, env={"COLUMNS": "100", "NO_COLOR": "1"})


@pytest.mark.parametrize("args", BAD_INPUT, ids=[" ".join(a[:2]) for a in BAD_INPUT])
def test_bad_input_exits_2_without_a_traceback(
    args: list[str], places: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _run(args, places, monkeypatch)
    assert out.exit_code == 2, out.output  # type: ignore[attr-defined]
    assert "Traceback" not in out.output  # type: ignore[attr-defined]


@pytest.mark.parametrize("args", FINDINGS, ids=[" ".join(a[:2]) for a in FINDINGS])
def test_findings_exit_1(
    args: list[str], places: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _run(args, places, monkeypatch).exit_code == 1  # type: ignore[attr-defined]


def test_every_command_has_a_bad_input_case() -> None:
    from typer.main import get_command

    covered = {tuple(a[:2]) for a in BAD_INPUT} | {(a[0],) for a in BAD_INPUT}
    for name, command in get_command(app).commands.items():  # type: ignore[attr-defined]
        for sub in getattr(command, "commands", None) or [None]:
            assert ((name, sub) if sub else (name,)) in covered, f"{name} {sub or ''}"


# Row numbers in errors: data rows counted from 1 (the header is not a row; a JSON list's
# first element is row 1) — every command that reads rows, with the bad row second or third.
ROWS_CSV = "carrier,province,city,district,keyword,region_code,valid_from,valid_to,reason\n"
ROW_NUMBERS = [
    (["import", "tracking-csv", "{tracking}", "--out", "{tmp}/i1"], "row 2, time"),
    (["import", "douyin-export", "{douyin_bad}", "--out", "{tmp}/i2", "--merchant-id", "s1",
      "--category-map", "{categories}"], "row 3, 支付完成时间"),
    (["import", "open-platform", "{open_platform}", "--out", "{tmp}/i3"], "row 2, pay_time"),
    (["evaluate", "{bad_facts}", "--as-of", "2024-04-01", "--out", "{tmp}/v.csv"],
     "orders.csv row 2, column pay_time"),
    (["explain", "o1", "--facts", "{bad_facts}"], "orders.csv row 2"),
    (["at-risk", "--facts", "{bad_facts}"], "orders.csv row 2"),
    (["preview", "--draft", "docs/examples/draft", "--facts", "{bad_facts}"], "orders.csv row 2"),
    (["penalties", "--facts", "{bad_facts}", "--out", "{tmp}/p.csv"], "orders.csv row 2"),
    (["diagnose", "m1", "--facts", "{bad_facts}"], "orders.csv row 2"),
    (["governance", "--facts", "{bad_facts}", "--week", "2024-W09"], "orders.csv row 2"),
    (["growth-signup", "m1", "cloud_warehouse", "--facts", "{bad_facts}", "--state-dir",
      "{tmp}/g"], "orders.csv row 2"),
    (["reachability", "--carrier", "中通", "--province", "西藏", "--coverage", "{coverage}"],
     "row 2: valid_from"),
]  # fmt: skip


@pytest.fixture(scope="module")
def bad_rows(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    import json
    from pathlib import Path

    root = tmp_path_factory.mktemp("rows")
    fixtures = Path(__file__).parent / "importers" / "fixtures"
    orders = [order("o1", "2024-03-01 10:00:00"), order("o2", "not a time")]
    (root / "t.csv").write_text("carrier,waybill,time,kind\nzhongtong,Z1,2024-02-01 10:00:00,"
                                "pickup\nzhongtong,Z1,not a time,pickup\n", "utf-8")  # fmt: skip
    listed = json.loads((fixtures / "order_list.json").read_text("utf-8"))
    listed["data"]["shop_order_list"][1]["pay_time"] = "yesterday"
    (root / "op.json").write_text(json.dumps(listed, ensure_ascii=False), "utf-8")
    (root / "cov.csv").write_text(ROWS_CSV + "zhongtong,西藏自治区,那曲市,双湖县,,540630,"
                                  "2022-01-01,,无\nzhongtong,西藏自治区,阿里地区,,,542500,"
                                  "not-a-date,,无\n", "utf-8")  # fmt: skip
    return {
        "{tmp}": str(root),
        "{bad_facts}": str(write_dir(root / "facts", orders=orders)),
        "{tracking}": str(root / "t.csv"),
        "{douyin_bad}": str(fixtures / "douyin_export_bad.csv"),
        "{categories}": str(fixtures / "categories.csv"),
        "{open_platform}": str(root / "op.json"),
        "{coverage}": str(root / "cov.csv"),
    }


@pytest.mark.parametrize(
    ("args", "where"), ROW_NUMBERS, ids=[" ".join(a[:2]) for a, _ in ROW_NUMBERS]
)
def test_errors_name_the_data_row_counted_from_1(
    args: list[str], where: str, bad_rows: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _run(args, bad_rows, monkeypatch)
    assert out.exit_code == 2, out.output  # type: ignore[attr-defined]
    assert where in " ".join(out.output.split()), out.output  # type: ignore[attr-defined]


def test_quarantined_rows_are_data_rows_counted_from_1(
    bad_rows: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import csv
    from pathlib import Path

    target = Path(bad_rows["{tmp}"]) / "q.csv"
    args = ["evaluate", "{bad_facts}", "--as-of", "2024-04-01", "--out", "{tmp}/v2.csv",
            "--skip-bad", "--quarantine", str(target)]  # fmt: skip
    assert _run(args, bad_rows, monkeypatch).exit_code == 0  # type: ignore[attr-defined]
    [row] = list(csv.DictReader(target.open(encoding="utf-8")))
    assert (row["file"], row["row"], row["column"]) == ("orders.csv", "2", "pay_time")

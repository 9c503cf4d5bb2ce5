"""The import and region commands: exit codes, one-line errors, counts."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lvyue.cli.main import app

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


def test_douyin_export_stops_with_one_line_and_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["import", "douyin-export", str(FIXTURES / "douyin_export_bad.csv"), "--out",
              str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: douyin_export_bad.csv row 3, 支付完成时间: not an instant: '昨天下午'"
    ]
    assert "Traceback" not in result.output


def test_douyin_export_skip_bad_reports_counts(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["import", "douyin-export", str(FIXTURES / "douyin_export_bad.csv"), "--out",
         str(tmp_path), "--skip-bad", "--merchant-id", "shop-1", "--category-map",
         str(FIXTURES / "categories.csv")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "in = out + quarantined: 5 = 2 + 3" in result.stdout
    assert (tmp_path / "quarantine_orders.csv").exists()


def test_open_platform_and_kuaidi100_commands(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["import", "open-platform", str(FIXTURES / "order_list.json"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "inspections.csv").exists()
    push = Path(__file__).parent.parent / "tracking" / "fixtures" / "push_zhongtong.form"
    result = runner.invoke(
        app, ["import", "kuaidi100", str(push), "--out", str(tmp_path), "--salt", "bad"]
    )
    assert result.exit_code == 2
    assert "sign" in result.stderr


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["import", "open-platform", str(tmp_path / "nope.json"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "nope.json" in result.stderr


def test_region_parse() -> None:
    result = runner.invoke(app, ["region", "parse", "新疆阿勒泰地区布尔津县友谊路", "--json"])
    assert result.exit_code == 0, result.output
    parsed = json.loads(result.stdout)
    assert parsed["district_code"] == "654321"
    assert parsed["city"] == "阿勒泰地区"
    table = runner.invoke(app, ["region", "parse", "广东深圳南山区科技园"])
    assert "440305" in table.stdout
    failed = runner.invoke(app, ["region", "parse", "浙江省杭州市"])
    assert failed.exit_code == 2
    assert failed.stderr.startswith("error: district:")


def test_region_cities() -> None:
    result = runner.invoke(app, ["region", "cities", "--province", "浙江"])
    assert result.exit_code == 0, result.output
    assert "330100" in result.stdout
    assert "11 cities" in result.stdout
    missing = runner.invoke(app, ["region", "cities", "--province", "火星"])
    assert missing.exit_code == 2

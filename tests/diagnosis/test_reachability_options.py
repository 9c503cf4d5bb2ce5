"""`lvyue reachability` options a newcomer uses (issue 15): --city/--district without
--province, repeated --carrier, unknown carriers."""

from __future__ import annotations

from typer.testing import CliRunner

from lvyue.cli.main import app

runner = CliRunner()
ON = ["--date", "2023-03-01"]


def _rows(output: str) -> list[list[str]]:
    """The table rows as cells (a simple box: cells are separated by 2+ spaces)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if "────" in line) + 1
    return [line.split() for line in lines[start:] if line.strip()]


def test_city_without_province_is_placed_not_ignored() -> None:
    out = runner.invoke(app, ["reachability", "--city", "阿里地区", *ON])
    assert out.exit_code == 0, out.output
    rows = _rows(out.output)
    assert rows and all(r[1].startswith("西藏") for r in rows)
    assert any("阿里地区" in r[1] for r in rows)
    everything = _rows(runner.invoke(app, ["reachability", *ON]).output)
    assert len(rows) < len(everything)


def test_district_without_city_is_placed_or_refused() -> None:
    out = runner.invoke(app, ["reachability", "--district", "嵊泗县", *ON])
    assert out.exit_code == 0, out.output
    assert _rows(out.output) and all("舟山市嵊泗县" in r[1] for r in _rows(out.output))
    out = runner.invoke(app, ["reachability", "--district", "鼓楼区", *ON])
    assert out.exit_code == 2 and "ambiguous" in out.output and "南京市" in out.output
    out = runner.invoke(app, ["reachability", "--city", "火星", *ON])
    assert out.exit_code == 2 and "no region named 火星" in out.output


def test_repeated_carrier_keeps_every_one() -> None:
    both = ["--carrier", "yunda", "--carrier", "zhongtong", "--restricted-list", *ON]
    repeated = runner.invoke(app, ["reachability", *both])
    comma = runner.invoke(
        app, ["reachability", "--carrier", "yunda,zhongtong", "--restricted-list", *ON]
    )
    only_last = runner.invoke(
        app, ["reachability", "--carrier", "zhongtong", "--restricted-list", *ON]
    )
    assert repeated.exit_code == comma.exit_code == 0, repeated.output
    assert _rows(repeated.output) == _rows(comma.output)
    assert _rows(repeated.output) != _rows(only_last.output)
    listed = runner.invoke(app, ["reachability", "--carrier", "yunda", "--carrier", "中通", *ON])
    assert {r[0] for r in _rows(listed.output)} == {"韵达", "中通"}


def test_unknown_carrier_is_an_error_not_an_empty_table() -> None:
    out = runner.invoke(app, ["reachability", "--carrier", "zhongtomg", *ON])
    assert out.exit_code == 2 and "zhongtomg" in out.output and "Unreachable" not in out.output
    out = runner.invoke(app, ["reachability", "--carrier", "nope", "--address", "广东深圳南山区"])
    assert out.exit_code == 2

"""Reachability (LD-4): coverage import, queries by region and address, export, 限售区域."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from lvyue.diagnosis import (
    CoverageError,
    DiagnosisError,
    export,
    load_coverage,
    query_address,
    query_region,
    read_coverage,
    restricted_list,
)

RULES = load_coverage()
DAY = date(2023, 3, 1)
HEADER = "carrier,province,city,district,keyword,valid_from,valid_to,reason\n"


def test_shipped_coverage_resolves_to_region_codes() -> None:
    assert len(RULES) >= 30
    assert {len(r.region_code) for r in RULES} == {6}
    sansha = [r for r in RULES if r.city == "三沙市"]
    assert {r.carrier for r in sansha} >= {"zhongtong", "shunfeng"}


def test_address_reachability_by_region_and_keyword() -> None:
    lhasa = "西藏自治区拉萨市城关区北京中路1号"
    assert not query_address(RULES, "yunda", lhasa, DAY).reachable  # whole province
    assert query_address(RULES, "zhongtong", lhasa, DAY).reachable
    island = query_address(RULES, "shunfeng", "浙江省舟山市嵊泗县花鸟乡灯塔路1号", DAY)
    assert not island.reachable and island.rules[0].keyword == "花鸟"
    town = query_address(RULES, "shunfeng", "浙江省舟山市嵊泗县菜园镇1号", DAY)
    assert town.reachable and town.district == "嵊泗县"


def test_validity_dates() -> None:
    urumqi = "新疆维吾尔自治区乌鲁木齐市天山区解放北路1号"
    assert not query_address(RULES, "zhongtong", urumqi, date(2023, 1, 20)).reachable  # 春节停运
    assert query_address(RULES, "zhongtong", urumqi, date(2023, 2, 6)).reachable


def test_query_by_region_lists_rules_inside_and_containing() -> None:
    inside = query_region(RULES, None, DAY, province="西藏")
    assert {r.carrier for r in inside} >= {"yunda", "zhongtong", "yuantong"}
    ali = query_region(RULES, "yunda", DAY, province="西藏自治区", city="阿里地区")
    assert [r.city for r in ali] == [None]  # yunda's province-wide rule contains 阿里地区


def test_bad_address_names_the_part() -> None:
    with pytest.raises(DiagnosisError, match="province"):
        query_address(RULES, "yunda", "火星基地1号", DAY)


def test_import_reports_every_unknown_region_row() -> None:
    text = HEADER + (
        "zhongtong,西藏自治区,阿里地区,,,2022-01-01,,ok\n"
        "zhongtong,火星省,,,,2022-01-01,,bad\n"
        "zhongtong,浙江省,杭州市,不存在区,,2022-01-01,,bad\n"
        "zhongtong,浙江省,,,,2022-13-01,,bad date\n"
    )
    with pytest.raises(CoverageError) as caught:
        read_coverage(text, "mine.csv")
    assert caught.value.rows == [2, 3, 4]
    message = str(caught.value)
    assert "\n" not in message and "mine.csv" in message and "火星省" in message


def test_export_csv_and_xlsx(tmp_path: Path) -> None:
    rules = query_region(RULES, "zhongtong", DAY)
    export(rules, tmp_path / "out.csv")
    with (tmp_path / "out.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["region_code"] for r in rows] == [r.region_code for r in rules]
    export(rules, tmp_path / "out.xlsx")
    sheet = load_workbook(tmp_path / "out.xlsx").active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "快递公司 carrier" and len(values) == len(rules) + 1  # 中文 + code
    with pytest.raises(DiagnosisError):
        export(rules, tmp_path / "out.pdf")


def test_restricted_list_is_what_no_carrier_reaches() -> None:
    one = restricted_list(RULES, ["yunda"], DAY)
    assert any(r.province == "西藏自治区" and r.city is None for r in one)
    both = restricted_list(RULES, ["yunda", "zhongtong"], DAY)
    places = {(r.province, r.city, r.district) for r in both}
    assert ("西藏自治区", "阿里地区", None) in places  # neither reaches it
    assert ("西藏自治区", None, None) not in places  # zhongtong reaches most of Tibet
    assert ("海南省", "三沙市", None) in places

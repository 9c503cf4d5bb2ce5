"""抖店 order export → facts orders."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from lvyue.importers import (
    ExportOptions,
    FileRejected,
    RowError,
    import_douyin_export,
    read_category_map,
)
from lvyue.model import MerchantType

FIXTURES = Path(__file__).parent / "fixtures"
EXPORT = FIXTURES / "douyin_export.csv"
BAD = FIXTURES / "douyin_export_bad.csv"


def _orders(out: Path) -> dict[str, dict[str, str]]:
    with (out / "orders.csv").open(encoding="utf-8", newline="") as handle:
        return {row["order_id"]: row for row in csv.DictReader(handle)}


def _options() -> ExportOptions:
    categories = read_category_map(FIXTURES / "categories.csv")
    return ExportOptions("shop-88", MerchantType.DOMESTIC, categories)


def test_export_rows_become_facts_orders(tmp_path: Path) -> None:
    result = import_douyin_export(EXPORT, tmp_path, _options())
    assert (result.read, result.imported, result.quarantined) == (7, 7, 0)
    orders = _orders(tmp_path)
    assert len(orders) == 7
    roses = orders["6921837465012345679"]  # the tab Excel-guard before ids is gone
    assert roses["parent_order_id"] == "6921837465012345678"
    assert roses["pay_time"] == "2024-02-10T21:13:11+08:00"
    assert roses["ship_time"] == "2024-02-11T09:30:42+08:00"
    assert roses["confirmed_receipt_time"] == "2024-02-14T18:22:10+08:00"
    assert (roses["carrier"], roses["waybill"]) == ("shunfeng", "SF1409876543210")
    assert roses["category"] == "鲜花速递/花卉仿真/绿植园艺>生活鲜花"
    assert (roses["merchant_id"], roses["merchant_type"]) == ("shop-88", "domestic")
    assert (roses["dest_province"], roses["dest_city"], roses["dest_district"]) == (
        "北京市",
        "北京市",
        "朝阳区",
    )
    assert roses["dest_district_code"] == "110105"
    assert roses["address"].startswith("北京市北京市朝阳区望京街道")
    assert roses["amount"] == "199.00"


def test_ship_mode_and_promise_from_the_category_map(tmp_path: Path) -> None:
    import_douyin_export(EXPORT, tmp_path, _options())
    orders = _orders(tmp_path)
    down_coat = orders["6921837465012345681"]
    assert down_coat["ship_mode"] == "presale"
    assert down_coat["promised_ship_time"] == "2024-02-22T23:59:59+08:00"
    assert orders["6921837465012345683"]["ship_mode"] == "spot"  # not in the map: default
    assert orders["6921837465012345683"]["category"] == "未分类"
    assert orders["6921837465012345683"]["ship_time"] == ""  # not shipped yet
    assert orders["6921837465012345690"]["dest_city"] == "仙桃市"


def test_gbk_resaved_export_is_read_the_same(tmp_path: Path) -> None:
    gbk = tmp_path / "export_gbk.csv"
    gbk.write_bytes(EXPORT.read_text(encoding="utf-8-sig").encode("gbk"))
    import_douyin_export(EXPORT, tmp_path / "a", _options())
    import_douyin_export(gbk, tmp_path / "b", _options())
    assert _orders(tmp_path / "a") == _orders(tmp_path / "b")


def test_unreadable_or_foreign_files_are_rejected(tmp_path: Path) -> None:
    binary = tmp_path / "orders.xlsx"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00\x81\xff")
    with pytest.raises(FileRejected, match=r"orders\.xlsx"):
        import_douyin_export(binary, tmp_path / "out")
    other = tmp_path / "other.csv"
    other.write_text("订单号,金额\n1,2\n", encoding="utf-8")
    with pytest.raises(FileRejected, match="no column 子订单编号"):
        import_douyin_export(other, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_bad_row_stops_the_import_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(RowError) as caught:
        import_douyin_export(BAD, tmp_path)
    assert str(caught.value) == (
        "douyin_export_bad.csv row 3, 支付完成时间: not an instant: '昨天下午'"
    )
    assert list(tmp_path.iterdir()) == []


def test_bad_row_leaves_an_existing_table_untouched(tmp_path: Path) -> None:
    import_douyin_export(EXPORT, tmp_path, _options())
    before = (tmp_path / "orders.csv").read_bytes()
    with pytest.raises(RowError):
        import_douyin_export(BAD, tmp_path)
    assert (tmp_path / "orders.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.csv"]


def test_skip_bad_quarantines_with_reasons(tmp_path: Path) -> None:
    result = import_douyin_export(BAD, tmp_path, skip_bad=True)
    assert (result.read, result.imported, result.quarantined) == (5, 2, 3)
    assert result.read == result.imported + result.quarantined
    with (tmp_path / "quarantine_orders.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["row"] for r in rows] == ["3", "4", "5"]
    assert "支付完成时间" in rows[0]["error"]
    assert "快递公司: unknown carrier '火星快递'" in rows[1]["error"]
    assert rows[2]["error"].startswith("douyin_export_bad.csv row 5, 省:")
    assert rows[2]["省"] == "火星省"  # the raw row is kept for a fix and re-import
    assert len(_orders(tmp_path)) == 2


def test_importing_twice_changes_nothing(tmp_path: Path) -> None:
    import_douyin_export(EXPORT, tmp_path, _options())
    first = (tmp_path / "orders.csv").read_bytes()
    import_douyin_export(EXPORT, tmp_path, _options())
    assert (tmp_path / "orders.csv").read_bytes() == first


def test_duplicate_and_ragged_rows(tmp_path: Path) -> None:
    lines = EXPORT.read_text(encoding="utf-8-sig").splitlines()
    dup = tmp_path / "dup.csv"
    dup.write_text("\n".join([lines[0], lines[1], lines[1]]) + "\n", encoding="utf-8")
    with pytest.raises(RowError, match=r"dup\.csv row 2, 子订单编号: duplicate of row 1"):
        import_douyin_export(dup, tmp_path / "out")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("\n".join([lines[0], lines[2] + ",extra"]) + "\n", encoding="utf-8")
    with pytest.raises(RowError, match=r"ragged.csv row 1, row: more fields"):
        import_douyin_export(ragged, tmp_path / "out")


def test_category_map_errors_name_the_row(tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_text("product_id,category,ship_mode\n1,a>b,teleport\n", encoding="utf-8")
    with pytest.raises(RowError, match=r"map.csv row 1, ship_mode"):
        read_category_map(path)
    shutil.copy(FIXTURES / "categories.csv", tmp_path / "ok.csv")
    assert len(read_category_map(tmp_path / "ok.csv")) == 4


def test_unpaid_order_is_a_bad_row(tmp_path: Path) -> None:
    lines = EXPORT.read_text(encoding="utf-8-sig").splitlines()
    cells = lines[3].split(",")
    cells[9] = ""  # 支付完成时间
    unpaid = tmp_path / "unpaid.csv"
    unpaid.write_text("\n".join([lines[0], ",".join(cells)]) + "\n", encoding="utf-8")
    with pytest.raises(RowError, match="row 1, 支付完成时间: missing"):
        import_douyin_export(unpaid, tmp_path / "out")


def test_ids_mangled_by_excel_are_rejected(tmp_path: Path) -> None:
    lines = EXPORT.read_text(encoding="utf-8-sig").splitlines()
    cells = lines[1].split(",")
    cells[1] = "6.92184E+18"  # 子订单编号 after an Excel round trip without the tab guard
    mangled = tmp_path / "mangled.csv"
    mangled.write_text("\n".join([lines[0], ",".join(cells)]) + "\n", encoding="utf-8")
    with pytest.raises(RowError, match=r"子订单编号: '6\.92184E\+18' was mangled by Excel"):
        import_douyin_export(mangled, tmp_path / "out")


def test_excel_style_times_and_a_parquet_table_in_the_way(tmp_path: Path) -> None:
    lines = EXPORT.read_text(encoding="utf-8-sig").splitlines()
    resaved = tmp_path / "resaved.csv"
    row = lines[1].replace("2024/02/10 21:13:11", "2024/2/10 21:13")  # Excel drops seconds
    resaved.write_text("\n".join([lines[0], row]) + "\n", encoding="utf-8")
    import_douyin_export(resaved, tmp_path / "out")
    assert _orders(tmp_path / "out")["6921837465012345679"]["pay_time"] == (
        "2024-02-10T21:13:00+08:00"
    )
    (tmp_path / "pq").mkdir()
    (tmp_path / "pq" / "orders.parquet").write_bytes(b"PAR1")
    with pytest.raises(FileRejected, match=r"orders\.parquet exists"):
        import_douyin_export(resaved, tmp_path / "pq")
    assert sorted(p.name for p in (tmp_path / "pq").iterdir()) == ["orders.parquet"]


def test_rows_with_the_carriers_merchants_use_are_imported(tmp_path: Path) -> None:
    """百世, 丰网, 跨越, 安能, 优速 (and the like) were quarantined when only ten carriers
    were known; an unknown carrier still is, with a reason that says so."""
    lines = EXPORT.read_text(encoding="utf-8-sig").splitlines()
    carriers = {
        "百世快递": "huitongkuaidi", "丰网速运": "fengwang", "跨越速运": "kuayue",
        "安能物流": "annengwuliu", "优速快递": "youshuwuliu", "中通快运": "zhongtongkuaiyun",
        "火星快递": "",
    }  # fmt: skip
    rows = [lines[0]]
    for n, name in enumerate(carriers):
        cells = lines[1].split(",")
        cells[1] = f"\t69218374650123{n:05d}"  # 子订单编号
        cells[22], cells[23] = name, f"W{n:012d}"  # 快递公司, 快递单号
        rows.append(",".join(cells))
    export = tmp_path / "carriers.csv"
    export.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = import_douyin_export(export, tmp_path / "out", skip_bad=True)
    assert (result.imported, result.quarantined) == (6, 1)
    got = {row["waybill"]: row["carrier"] for row in _orders(tmp_path / "out").values()}
    assert got == {f"W{n:012d}": code for n, code in enumerate(carriers.values()) if code}
    quarantine = tmp_path / "out" / "quarantine_orders.csv"
    with quarantine.open(encoding="utf-8", newline="") as handle:
        (bad,) = list(csv.DictReader(handle))
    assert "快递公司: unknown carrier '火星快递': not a Kuaidi100 code" in bad["error"]

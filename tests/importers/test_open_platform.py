"""Open-platform order detail JSON → facts orders and inspections."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from lvyue.importers import (
    FileRejected,
    OpenPlatformOptions,
    RowError,
    facts_from_order,
    import_open_platform,
)

FIXTURES = Path(__file__).parent / "fixtures"
DETAIL = FIXTURES / "order_detail.json"
LIST = FIXTURES / "order_list.json"


def _table(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_detail_and_list_become_one_row_per_sku_order(tmp_path: Path) -> None:
    result = import_open_platform([DETAIL, LIST], tmp_path)
    assert (result.read, result.imported, result.quarantined) == (4, 4, 0)
    orders = {r["order_id"]: r for r in _table(tmp_path / "orders.csv")}
    assert len(orders) == 6
    roses = orders["6921837465012345701"]
    assert roses["merchant_id"] == "88123456"
    assert roses["parent_order_id"] == "6921837465012345700"
    assert roses["pay_time"] == "2024-02-09T22:00:15+08:00"
    assert roses["ship_time"] == "2024-02-10T10:00:00+08:00"
    assert (roses["carrier"], roses["waybill"]) == ("shunfeng", "SF1409876543299")
    assert roses["ship_mode"] == "spot"
    assert roses["promised_ship_time"] == ""  # exp_ship_time is the platform's, not a promise
    assert roses["amount"] == "199.00"
    assert roses["category_ids"] == "20115>20260>20263"
    assert roses["dest_district_code"] == "440305"
    assert roses["address"] == "广东省深圳市南山区粤海街道深圳湾科技生态园***"
    preserved = orders["6921837465012345702"]  # not in the package: not shipped yet
    assert (preserved["ship_mode"], preserved["carrier"], preserved["ship_time"]) == (
        "presale",
        "",
        "",
    )
    assert preserved["promised_ship_time"] == "2024-02-12T23:59:59+08:00"
    assert orders["6921837465012345731"]["ship_mode"] == "step"
    assert orders["6921837465012345711"]["carrier"] == "jd"  # package lists no sku: whole order


def test_quality_checks_become_inspections(tmp_path: Path) -> None:
    import_open_platform([LIST], tmp_path)
    inspections = {r["inspection_code"]: r for r in _table(tmp_path / "inspections.csv")}
    assert set(inspections) == {"BTAS24020800017", "BTAS24020800018"}
    assert inspections["BTAS24020800017"]["result"] == "pass"
    assert inspections["BTAS24020800018"]["result"] == "fail"
    assert inspections["BTAS24020800018"]["inspected_at"] == "2024-02-09T20:00:00+08:00"
    orders = {r["order_id"]: r for r in _table(tmp_path / "orders.csv")}
    assert orders["6921837465012345722"]["inspection_code"] == "BTAS24020800019"  # WATI_CHECT


def test_category_paths_from_a_map() -> None:
    order = json.loads(DETAIL.read_text(encoding="utf-8"))["data"]["shop_order_detail"]
    options = OpenPlatformOptions(categories={"20263": "鲜花速递/花卉仿真/绿植园艺>生活鲜花"})
    facts = facts_from_order(order, options)
    assert facts.orders[0]["category"] == "鲜花速递/花卉仿真/绿植园艺>生活鲜花"
    assert facts.orders[1]["category"] == "未分类"


@pytest.mark.parametrize(
    ("company", "name", "code"),
    [
        ("fengwang", "", "fengwang"),  # a Kuaidi100 code
        ("", "百世快递", "huitongkuaidi"),  # only the name, as the platform writes it
        ("bestexpress", "百世快递", "huitongkuaidi"),  # a code we do not know, a name we do
        ("", "跨越速运", "kuayue"),
        ("", "安能物流", "annengwuliu"),
        ("", "优速快递", "youshuwuliu"),
    ],
)
def test_carriers_beyond_the_big_ten(company: str, name: str, code: str) -> None:
    order = _order()
    order["logistics_info"][0].update(company=company, company_name=name)
    facts = facts_from_order(order, OpenPlatformOptions())
    assert {row["carrier"] for row in facts.orders if row["waybill"]} == {code}


def _order() -> dict[str, Any]:
    document = json.loads(LIST.read_text(encoding="utf-8"))
    order: dict[str, Any] = document["data"]["shop_order_list"][0]
    return order


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda o: o.update(pay_time="yesterday"), "pay_time"),
        (lambda o: o["sku_order_list"][0].update(pre_sale_type=5), r"\[0\].pre_sale_type"),
        (lambda o: o.pop("sku_order_list"), "sku_order_list"),
        (lambda o: o["logistics_info"][0].update(company="huoxing", company_name="火星快递"),
         r"logistics_info\[0\].company"),
        (lambda o: o["logistics_info"][0].update(tracking_no=""), "tracking_no"),
        (lambda o: o["sku_order_list"][0]["quality_check_info"].update(check_result_code="OK"),
         "check_result_code"),
        (lambda o: o["post_addr"]["province"].update(name="火星省"), "post_addr.province.name"),
        (lambda o: o["sku_order_list"][0].update(pay_amount="25.99"), "pay_amount"),
        (lambda o: o.pop("order_id"), "order_id"),
        (lambda o: o.update(pay_time=0), "pay_time: missing"),
    ],
)  # fmt: skip
def test_malformed_order_names_the_field(mutate: Any, field: str) -> None:
    order = _order()
    mutate(order)
    with pytest.raises(RowError, match=field):
        facts_from_order(order, OpenPlatformOptions())


def test_skip_bad_quarantines_the_whole_shop_order(tmp_path: Path) -> None:
    good, bad = _order(), _order()
    bad["order_id"] = "6921837465012349999"
    bad["pay_time"] = -5
    path = tmp_path / "orders.json"
    path.write_text(json.dumps([good, bad], ensure_ascii=False), encoding="utf-8")
    with pytest.raises(RowError, match=r"orders.json row 2, pay_time"):
        import_open_platform([path], tmp_path / "stop")
    assert not (tmp_path / "stop").exists()
    result = import_open_platform([path], tmp_path / "out", skip_bad=True)
    assert (result.read, result.imported, result.quarantined) == (2, 1, 1)
    quarantined = _table(tmp_path / "out" / "quarantine_orders.csv")
    assert json.loads(quarantined[0]["order_json"])["order_id"] == "6921837465012349999"


def test_not_json_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"data": {"shop_order_detail": ', encoding="utf-8")
    with pytest.raises(FileRejected, match=r"broken\.json: not JSON"):
        import_open_platform([path], tmp_path)
    path.write_text('{"code": 10000, "data": {}}', encoding="utf-8")
    with pytest.raises(FileRejected, match="no shop_order_detail"):
        import_open_platform([path], tmp_path)


def test_the_same_order_saved_twice_is_merged(tmp_path: Path) -> None:
    result = import_open_platform([DETAIL, DETAIL], tmp_path)
    assert (result.read, result.imported, result.quarantined) == (2, 2, 0)
    assert result.rows == {"orders": 2, "inspections": 0}
    assert len(_table(tmp_path / "orders.csv")) == 2


def test_a_platform_error_response_is_named(tmp_path: Path) -> None:
    path = tmp_path / "error.json"
    path.write_text('{"code": 40003, "msg": "access_token已过期", "data": null}', encoding="utf-8")
    with pytest.raises(FileRejected, match="code 40003: access_token已过期"):
        import_open_platform([path], tmp_path)

from __future__ import annotations

from pathlib import Path

import pytest

from lvyue.model import TrackingKind
from lvyue.tracking import (
    CARRIERS,
    UnknownCarrierError,
    carrier,
    carrier_by_name,
    carrier_label,
    load_carriers,
    status_for,
    status_kind,
)

# The carriers a Chinese merchant meets, by the names 抖店 exports and people write.
EXPORT_NAMES = {
    "中通快递": "zhongtong", "圆通速递": "yuantong", "圆通快递": "yuantong",
    "韵达快递": "yunda", "极兔速递": "jtexpress", "J&T极兔": "jtexpress",
    "申通快递": "shentong", "顺丰速运": "shunfeng", "顺丰快递": "shunfeng",
    "邮政快递包裹": "youzhengguonei", "中国邮政": "youzhengguonei", "EMS": "ems",
    "邮政EMS": "ems", "邮政标准快递": "youzhengbk", "京东快递": "jd", "京东物流": "jd",
    "德邦快递": "debangkuaidi", "德邦物流": "debangwuliu", "百世快递": "huitongkuaidi",
    "百世汇通": "huitongkuaidi", "百世快运": "baishiwuliu", "丰网速运": "fengwang",
    "丰网": "fengwang", "跨越速运": "kuayue", "安能物流": "annengwuliu",
    "安能快运": "annengwuliu", "优速快递": "youshuwuliu", "优速物流": "youshuwuliu",
    "众邮快递": "zhongyouex", "丹鸟": "danniao", "宅急送": "zhaijisong",
    "天天快递": "tiantian", "国通快递": "guotongkuaidi", "速尔快递": "suer",
    "苏宁物流": "suning", "中通快运": "zhongtongkuaiyun", "韵达快运": "yundakuaiyun",
    "顺丰快运": "shunfengkuaiyun", "顺丰冷链": "shunfenglengyun", "京东快运": "jingdongkuaiyun",
    "顺心捷达": "sxjdfreight", "壹米滴答": "yimidida", "中铁快运": "ztky",
    "日日顺物流": "rrs", "安得物流": "annto", "天地华宇": "tiandihuayu", "佳吉快运": "jiajiwuliu",
    "加运美": "jiayunmeiwuliu", "信丰物流": "xinfengwuliu", "品骏快递": "pjbest",
    "EMS国际": "emsguoji", "DHL": "dhl", "UPS": "ups", "FedEx": "fedex", "递四方": "disifang",
    "燕文物流": "yw56", "云途物流": "yuntrack", "菜鸟无忧物流": "aliexpress",
    "中通国际": "zhongtongguoji", "顺丰同城": "shunfengtongcheng", "闪送": "shansongtongcheng",
    "达达快送": "dadatongcheng", "美团配送": "meituantongcheng", "UU跑腿": "uupaotui",
    "蜂鸟即配": "fengniaotongcheng",
}  # fmt: skip


def test_registry_covers_the_carriers_a_merchant_meets() -> None:
    assert len(CARRIERS) >= 80
    groups = {c.group for c in CARRIERS.values()}
    assert groups == {"express", "postal", "freight", "cross_border", "instant"}
    assert len(set(EXPORT_NAMES.values())) >= 55
    for short, code in {"中通": "zhongtong", "顺丰": "shunfeng", "百世": "huitongkuaidi"}.items():
        assert carrier(code).short_zh == short


@pytest.mark.parametrize(("name", "code"), EXPORT_NAMES.items())
def test_names_from_exports_resolve(name: str, code: str) -> None:
    assert carrier_by_name(name).code == code


def test_names_are_normalised() -> None:
    assert carrier_by_name(" 顺丰 速运 ").code == "shunfeng"
    assert carrier_by_name("ＥＭＳ").code == "ems"  # full-width, as Excel re-saves write it
    assert carrier_by_name("j&t极兔").code == "jtexpress"
    assert carrier_by_name("fengwang").code == "fengwang"  # a Kuaidi100 code is a name too


def test_unknown_carrier_is_refused_with_a_clear_message() -> None:
    with pytest.raises(UnknownCarrierError) as caught:
        carrier_by_name("火星快递")
    message = str(caught.value)
    assert message.startswith("unknown carrier '火星快递': not a Kuaidi100 code")
    assert "LVYUE_CARRIERS_FILE" in message
    with pytest.raises(UnknownCarrierError, match="baishi"):
        carrier("baishi")


def test_labels_are_chinese_names() -> None:
    assert carrier_label("shunfeng") == "顺丰速运"
    assert carrier_label("zhongtong") == "中通快递"
    assert carrier_label("huoxing") == "huoxing"  # unknown codes are shown as they are


def test_waybill_shapes() -> None:
    assert carrier("shunfeng").looks_like_waybill("SF1234567890123")
    assert not carrier("shunfeng").looks_like_waybill("781234567890")


def test_registry_extends_from_a_data_file(tmp_path: Path) -> None:
    extra = tmp_path / "more.yaml"
    extra.write_text(
        "carriers:\n  - {code: huoxing, name_zh: 火星快递, short_zh: 火星, group: instant}\n",
        encoding="utf-8",
    )
    registry = load_carriers(extra)
    assert registry["huoxing"].name_zh == "火星快递"
    assert registry["huoxing"].group == "instant"
    assert "zhongtong" in registry
    bad = tmp_path / "bad.yaml"
    bad.write_text("carriers:\n  - {code: x}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"carriers\[0\]"):
        load_carriers(bad)
    clash = tmp_path / "clash.yaml"
    clash.write_text(
        "carriers:\n  - {code: huoxing, name_zh: 火星快递, aliases: [中通]}\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="'中通' belongs to both zhongtong and huoxing"):
        load_carriers(clash)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("0", "in_transit"), ("1", "pickup"), ("2", "exception"), ("3", "signed"),
        ("4", "returned"), ("5", "out_for_delivery"), ("6", "returned"), ("7", "in_transit"),
        ("8", "customs"), ("14", "exception"), ("101", "info_received"),
        ("102", "info_received"), ("103", "pickup"), ("1001", "in_transit"),
        ("1002", "in_transit"), ("1003", "in_transit"), ("501", "out_for_delivery"),
        ("301", "signed"), ("302", "signed"), ("303", "signed"), ("304", "signed"),
        ("401", "exception"), ("201", "exception"), ("210", "exception"), ("干线", "in_transit"),
    ],
)  # fmt: skip
def test_kuaidi100_status_table(code: str, kind: str) -> None:
    assert status_kind(code) == TrackingKind(kind)


def test_every_kind_has_an_encoding_that_decodes_back_to_it() -> None:
    for kind in TrackingKind:
        decoded = status_kind(status_for(kind).code)
        # hub events and the warehouse-in travel as transit scans whose text says what they are
        by_text = {TrackingKind.HUB_ARRIVAL, TrackingKind.HUB_DEPARTURE, TrackingKind.WAREHOUSE_IN}
        assert decoded == (TrackingKind.IN_TRANSIT if kind in by_text else kind)
    assert all(status_kind(str(c)) is TrackingKind.EXCEPTION for c in range(201, 211))
    assert status_kind("999") is None

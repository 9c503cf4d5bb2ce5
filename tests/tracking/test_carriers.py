from __future__ import annotations

from pathlib import Path

import pytest

from lvyue.model import TrackingKind
from lvyue.tracking import (
    CARRIERS,
    UnknownCarrierError,
    carrier,
    carrier_by_name,
    load_carriers,
    status_for,
    status_kind,
)


def test_registry_has_the_ten_carriers() -> None:
    expected = {
        "zhongtong": "中通",
        "yuantong": "圆通",
        "shentong": "申通",
        "yunda": "韵达",
        "shunfeng": "顺丰",
        "jtexpress": "极兔",
        "ems": "EMS",
        "jd": "京东",
        "youzhengguonei": "邮政",
        "debangkuaidi": "德邦",
    }
    assert set(CARRIERS) == set(expected)
    for code, short in expected.items():
        assert carrier(code).short_zh == short


def test_names_from_exports_resolve() -> None:
    assert carrier_by_name("中通快递").code == "zhongtong"
    assert carrier_by_name(" 顺丰速运 ").code == "shunfeng"
    assert carrier_by_name("J&T极兔").code == "jtexpress"
    assert carrier_by_name("邮政快递包裹").code == "youzhengguonei"
    with pytest.raises(UnknownCarrierError, match="百世"):
        carrier_by_name("百世快递")
    with pytest.raises(UnknownCarrierError, match="baishi"):
        carrier("baishi")


def test_waybill_shapes() -> None:
    assert carrier("shunfeng").looks_like_waybill("SF1234567890123")
    assert not carrier("shunfeng").looks_like_waybill("781234567890")


def test_registry_extends_from_a_data_file(tmp_path: Path) -> None:
    extra = tmp_path / "more.yaml"
    extra.write_text(
        "carriers:\n  - {code: huitongkuaidi, name_zh: 百世快递, short_zh: 百世}\n",
        encoding="utf-8",
    )
    registry = load_carriers(extra)
    assert registry["huitongkuaidi"].name_zh == "百世快递"
    assert "zhongtong" in registry
    bad = tmp_path / "bad.yaml"
    bad.write_text("carriers:\n  - {code: x}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"carriers\[0\]"):
        load_carriers(bad)


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
        hub = {TrackingKind.HUB_ARRIVAL, TrackingKind.HUB_DEPARTURE}
        assert decoded == (TrackingKind.IN_TRANSIT if kind in hub else kind)
    assert all(status_kind(str(c)) is TrackingKind.EXCEPTION for c in range(201, 211))
    assert status_kind("999") is None

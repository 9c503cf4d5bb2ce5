"""The scan-text classifier on a corpus of realistic carrier scan lines."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from lvyue.model import TrackingKind
from lvyue.tracking import CARRIERS, classify_scan, hub_event, is_hub

CORPUS = Path(__file__).parent / "fixtures" / "scan_corpus.csv"


def _corpus() -> list[dict[str, str]]:
    with CORPUS.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_corpus_is_broad() -> None:
    rows = _corpus()
    assert len(rows) >= 50
    ten = {"zhongtong", "yuantong", "shentong", "yunda", "shunfeng", "jtexpress", "ems", "jd"}
    assert ten | {"youzhengguonei", "debangkuaidi"} <= {r["carrier"] for r in rows} <= set(CARRIERS)
    kinds = {r["expected"] for r in rows}
    assert {"hub_arrival", "hub_departure", "in_transit", "pickup", "signed"} <= kinds


@pytest.mark.parametrize("row", _corpus(), ids=lambda r: r["text"][:24])
def test_corpus_line(row: dict[str, str]) -> None:
    assert classify_scan(row["text"], row["status"] or None) == TrackingKind(row["expected"])


@pytest.mark.parametrize(
    "text",
    [
        "快件已到达【杭州西湖区营业部】",
        "快件已到达【长沙岳麓网点】",
        "快件已被【菜鸟驿站的望京西园三区店】代收",
        "快件已放入【丰巢智能快递柜】",
        "快件已到达【天河路代收点】",
        "快件已到达【杭州转运中心西湖营业部】",  # an outlet named after its centre
        "【杭州西湖区网点】已发出，发往【杭州转运中心】",  # left the outlet, not the hub
        "快件即将到达【北京转运中心】",  # a destination, not an arrival
    ],
)
def test_outlets_and_destinations_are_not_hub_events(text: str) -> None:
    assert hub_event(text) is None


def test_first_hub_event_in_the_text_wins() -> None:
    text = "快件离开【杭州转运中心】，已到达【北京转运中心】"
    assert hub_event(text) is TrackingKind.HUB_DEPARTURE


def test_is_hub_reads_the_last_facility_word() -> None:
    assert is_hub("【义乌转运中心】")
    assert not is_hub("【义乌转运中心稠城营业部】")
    assert not is_hub("【杭州西湖文三路】")


def test_status_code_decides_except_for_transit() -> None:
    text = "快件已经到达【杭州转运中心】"
    assert classify_scan(text, "1002") is TrackingKind.HUB_ARRIVAL
    assert classify_scan(text, "在途") is TrackingKind.HUB_ARRIVAL
    assert classify_scan(text, "103") is TrackingKind.PICKUP
    assert classify_scan("任意文字", "301") is TrackingKind.SIGNED
    assert classify_scan("【杭州中转部】已发出", "unknown-status") is TrackingKind.HUB_DEPARTURE


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("快件已到达杭州转运中心", TrackingKind.HUB_ARRIVAL),
        ("快件在杭州转运中心已发出", TrackingKind.HUB_DEPARTURE),
        ("快件已从广东东莞中转部发出，准备发往浙江杭州中转部", TrackingKind.HUB_DEPARTURE),
        ("快件已到达杭州西湖区营业部", None),
        ("快件已从杭州西湖网点发出，发往杭州转运中心", None),
    ],
)
def test_bare_facility_names(text: str, kind: TrackingKind | None) -> None:
    assert hub_event(text) is kind


@pytest.mark.parametrize(
    ("text", "scan_type", "kind"),
    [
        ("【杭州转运中心】", "到件", TrackingKind.HUB_ARRIVAL),  # the feed gives only the site
        ("【杭州转运中心】", "发件", TrackingKind.HUB_DEPARTURE),
        ("【杭州西湖区营业部】", "到件", TrackingKind.IN_TRANSIT),
        ("快件离开【杭州转运中心】", "到件", TrackingKind.HUB_DEPARTURE),  # the text is explicit
        ("【杭州西湖区营业部】", "收件", TrackingKind.PICKUP),
        ("【北京转运中心】", "ARRIVAL", TrackingKind.HUB_ARRIVAL),
        ("【北京朝阳区公司】", "DEPARTURE", TrackingKind.IN_TRANSIT),
        ("已放入【丰巢】", "INBOUND", TrackingKind.OUT_FOR_DELIVERY),
        ("客户拒收", "问题件", TrackingKind.EXCEPTION),
    ],
)
def test_carrier_scan_types(text: str, scan_type: str, kind: TrackingKind) -> None:
    assert classify_scan(text, scan_type) is kind

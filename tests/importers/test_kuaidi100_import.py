"""Saved Kuaidi100 pushes → facts tracking."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from lvyue.importers import RowError, import_kuaidi100
from lvyue.model import TrackingEvent, TrackingKind, parse_instant
from lvyue.tracking import encode_push, read_tracking_csv

PUSHES = Path(__file__).parent.parent / "tracking" / "fixtures"
SALT = "lvyue-test-salt"


def test_pushes_become_tracking_rows_once(tmp_path: Path) -> None:
    files = [PUSHES / "push_zhongtong.form", PUSHES / "push_zhongtong.json"]
    result = import_kuaidi100(files, tmp_path)  # the same history pushed twice
    assert (result.read, result.imported, result.quarantined) == (2, 2, 0)
    assert result.rows == {"tracking": 10}
    rows = [r for r in read_tracking_csv(tmp_path / "tracking.csv")]
    assert len(rows) == 10
    assert rows[0].event is not None
    assert rows[0].event.kind is TrackingKind.PICKUP
    kinds = [r.event.kind for r in rows if r.event]
    assert kinds.count(TrackingKind.HUB_ARRIVAL) == 2


def test_bad_signature_stops_or_is_quarantined(tmp_path: Path) -> None:
    files = [PUSHES / "push_zhongtong.form"]
    with pytest.raises(RowError, match=r"push_zhongtong.form, sign: does not match"):
        import_kuaidi100(files, tmp_path / "stop", salt="wrong")
    result = import_kuaidi100(files, tmp_path, salt="wrong", skip_bad=True)
    assert (result.read, result.imported, result.quarantined) == (1, 0, 1)
    with (tmp_path / "quarantine_tracking.csv").open(encoding="utf-8", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert row["push"].startswith("param=")  # the push as saved, for a replay
    assert "&sign=" in row["push"]
    assert import_kuaidi100(files, tmp_path / "ok", salt=SALT).quarantined == 0


def test_encoded_events_come_back_through_a_saved_file(tmp_path: Path) -> None:
    waybill = "SF1409876543210"
    events = [
        TrackingEvent("shunfeng", waybill, parse_instant("2024-02-11 09:40:00"),
                      TrackingKind.PICKUP, "北京市", "顺丰速运 已收取快件"),
        TrackingEvent("shunfeng", waybill, parse_instant("2024-02-11 13:05:00"),
                      TrackingKind.HUB_ARRIVAL, "北京市", "快件到达 【北京顺义集散中心】"),
        TrackingEvent("shunfeng", waybill, parse_instant("2024-02-11 18:00:00"),
                      TrackingKind.OUT_FOR_DELIVERY, "北京市", "快件交给周九，正在派送途中"),
    ]  # fmt: skip
    form = encode_push("shunfeng", waybill, events, salt=SALT)
    saved = tmp_path / "push.form"
    saved.write_text(f"param={form['param']}&sign={form['sign']}", encoding="utf-8")
    import_kuaidi100([saved], tmp_path / "facts", salt=SALT)
    back = [r.event for r in read_tracking_csv(tmp_path / "facts" / "tracking.csv")]
    assert back == events


def test_tracking_csv_import_quarantines_bad_rows(tmp_path: Path) -> None:
    from lvyue.importers import import_tracking_csv

    source = tmp_path / "feed.csv"
    source.write_text(
        "carrier,waybill,time,kind,location,text\n"
        "yunda,4312345678901,2024-02-08 10:00:00,pickup,杭州市,已揽收\n"
        "yunda,4312345678901,2024-02-08 22:00:00,hub_arrival,杭州市,到达【浙江杭州分拨中心】\n"
        "yunda,4312345678901,2024-02-09,teleported,杭州市,?\n",
        encoding="utf-8",
    )
    with pytest.raises(RowError, match=r"feed\.csv row 3, kind: unknown kind"):
        import_tracking_csv([source], tmp_path / "stop")
    result = import_tracking_csv([source], tmp_path / "out", skip_bad=True)
    assert (result.read, result.imported, result.quarantined) == (3, 2, 1)
    again = import_tracking_csv([source], tmp_path / "out", skip_bad=True)
    assert again.rows == {"tracking": 2}
    assert len(list(read_tracking_csv(tmp_path / "out" / "tracking.csv"))) == 2


def test_a_receivers_log_holds_one_push_per_line(tmp_path: Path) -> None:
    first = encode_push("yunda", "4312345678901", [_scan("2024-02-08 10:00:00", "已揽收")])
    second = encode_push("yunda", "4312345678902", [_scan("2024-02-08 11:00:00", "已揽收")])
    log = tmp_path / "pushes.jsonl"
    log.write_text(
        "\n".join([json.dumps(first, ensure_ascii=False), "{not json",
                   json.dumps(second, ensure_ascii=False)]) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    with pytest.raises(RowError, match=r"pushes\.jsonl row 2, push: not a form body"):
        import_kuaidi100([log], tmp_path / "stop")
    result = import_kuaidi100([log], tmp_path / "out", skip_bad=True)
    assert (result.read, result.imported, result.quarantined) == (3, 2, 1)
    waybills = {r.event.waybill for r in read_tracking_csv(tmp_path / "out" / "tracking.csv")
                if r.event}  # fmt: skip
    assert waybills == {"4312345678901", "4312345678902"}


def _scan(when: str, text: str) -> TrackingEvent:
    return TrackingEvent("yunda", "", parse_instant(when), TrackingKind.PICKUP, "", text)

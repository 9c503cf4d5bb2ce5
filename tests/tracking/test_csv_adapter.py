from __future__ import annotations

from pathlib import Path

import pytest

from lvyue.model import TrackingEvent, TrackingKind, parse_instant
from lvyue.tracking import TrackingRowError, read_tracking_csv, write_tracking_csv


def test_write_then_read_round_trips(tmp_path: Path) -> None:
    events = [
        TrackingEvent("jd", "JDVA12345678901", parse_instant("2024-02-08 10:00:00"),
                      TrackingKind.PICKUP, "北京市", "京东快递 已收取快件"),
        TrackingEvent("jd", "JDVA12345678901", parse_instant("2024-02-08T20:00:00+08:00"),
                      TrackingKind.HUB_ARRIVAL, "北京市", "已到达【北京通州分拣中心】,逗号"),
    ]  # fmt: skip
    path = tmp_path / "tracking.csv"
    assert write_tracking_csv(path, events) == 2
    assert "2024-02-08T10:00:00+08:00" in path.read_text(encoding="utf-8")
    rows = list(read_tracking_csv(path))
    assert [r.event for r in rows] == events
    assert all(r.error is None for r in rows)


def test_bad_rows_name_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "tracking.csv"
    path.write_text(
        "carrier,waybill,time,kind\n"
        "zhongtong,7831,2024-02-08 10:00:00,pickup\n"
        "nosuch,7832,2024-02-08 10:00:00,pickup\n"
        "zhongtong,7833,not a time,pickup\n"
        "zhongtong,7834,2024-02-08 10:00:00,teleported\n"
        "zhongtong,,2024-02-08 10:00:00,pickup\n",
        encoding="utf-8",
    )
    rows = list(read_tracking_csv(path))
    assert rows[0].event is not None
    errors = [str(r.error) for r in rows[1:]]
    assert errors[0].startswith("row 2, carrier")
    assert errors[1].startswith("row 3, time")
    assert errors[2].startswith("row 4, kind")
    assert errors[3].startswith("row 5, waybill")


def test_missing_column_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "tracking.csv"
    path.write_text("carrier,waybill,time\nzhongtong,1,2024-01-01\n", encoding="utf-8")
    with pytest.raises(TrackingRowError, match="kind"):
        list(read_tracking_csv(path))

"""Throughput of the tracking, region and import adapters, measured in one run.

``python -m benchmarks.run --only tracking [--items N]``
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lvyue.geo import parse_address
from lvyue.importers import import_douyin_export
from lvyue.model import TrackingEvent, TrackingKind, parse_instant
from lvyue.tracking import classify_scan, decode_push, encode_push

ADDRESSES = [
    "广东深圳南山区科技园",
    "新疆维吾尔自治区阿勒泰地区布尔津县友谊路",
    "江苏省苏州市昆山市玉山镇",
]
SCANS = [
    ("【杭州市】 快件已经到达 【杭州中转部】", "1002"),
    ("【浙江杭州分拨中心】进行装车扫描，发往：【上海分拨中心】", None),
    ("快件已被【菜鸟驿站】代收，请及时取件", None),
]


def _rate(count: int, work: Callable[[], None]) -> float:
    start = time.perf_counter()
    work()
    return count / (time.perf_counter() - start)


def _export(path: Path, rows: int) -> None:
    header = ["子订单编号", "支付完成时间", "发货时间", "快递公司", "快递单号", "省", "市", "区"]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i in range(rows):
            writer.writerow([f"69{i:017d}", "2024-02-08 10:00:00", "2024-02-09 10:00:00",
                             "中通快递", f"78{i:010d}", "浙江省", "杭州市", "西湖区"])  # fmt: skip


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=20_000)
    args, _ = parser.parse_known_args(argv)
    n = args.items
    addresses = [ADDRESSES[i % 3] for i in range(n)]
    scans = [SCANS[i % 3] for i in range(n)]
    events = [
        TrackingEvent("zhongtong", "78316542219876", parse_instant("2024-02-09 16:00:00"),
                      TrackingKind.PICKUP, "杭州市", "已揽收"),
        TrackingEvent("zhongtong", "78316542219876", parse_instant("2024-02-09 20:00:00"),
                      TrackingKind.HUB_ARRIVAL, "杭州市", "快件已经到达 【杭州中转部】"),
    ] * 5  # fmt: skip
    form = encode_push("zhongtong", "78316542219876", events, salt="s")
    pushes = max(n // 10, 1)
    table = Table(title=f"tracking adapters ({n:,} items)")
    table.add_column("operation")
    table.add_column("per second", justify="right")
    table.add_row(
        "parse_address", f"{_rate(n, lambda: [parse_address(a) for a in addresses]):,.0f}"
    )
    table.add_row(
        "classify_scan", f"{_rate(n, lambda: [classify_scan(t, s) for t, s in scans]):,.0f}"
    )
    table.add_row(
        "decode_push (10 scans, signed)",
        f"{_rate(pushes, lambda: [decode_push(form, salt='s') for _ in range(pushes)]):,.0f}",
    )
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "export.csv"
        _export(source, n)
        rate = _rate(n, lambda: import_douyin_export(source, Path(tmp) / "facts"))
        table.add_row("import douyin-export (rows)", f"{rate:,.0f}")
    Console(width=160).print(table)

"""The import workflows: read a source, convert each unit, quarantine or stop on a bad one,
write the facts tables atomically. Counts always satisfy read = imported + quarantined."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

from lvyue.importers.douyin_export import ExportOptions, order_from_export, read_export
from lvyue.importers.errors import FileRejected, RowError
from lvyue.importers.facts_out import FactsWriter, Quarantined
from lvyue.importers.open_platform import (
    ImportedOrder,
    OpenPlatformOptions,
    facts_from_order,
    read_orders,
)
from lvyue.importers.records import INSPECTION_COLUMNS, ORDER_COLUMNS
from lvyue.model import TrackingEvent
from lvyue.tracking import (
    TRACKING_COLUMNS,
    PushError,
    TrackingRow,
    TrackingRowError,
    decode_push,
    parse_saved_push,
    read_push_log,
    read_tracking_csv,
    tracking_record,
)

T = TypeVar("T")
Progress = Callable[[int], None]  # called with the number of units done so far
# (source name, unit number, raw form for the quarantine, conversion)
Unit = tuple[str, int, Mapping[str, str], Callable[[], T]]
Key = Callable[[Mapping[str, str]], tuple[str, ...]]
Table = tuple[str, list[dict[str, str]], Sequence[str], Key]  # name, rows, columns, key


@dataclass
class ImportResult:
    read: int = 0  # units read: export rows, shop orders, push files
    imported: int = 0
    quarantined: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # facts rows written per table
    written: list[Path] = field(default_factory=list)


def _collect(
    units: Iterable[Unit[T]], skip_bad: bool, progress: Progress | None
) -> tuple[list[T], list[Quarantined]]:
    good: list[T] = []
    bad: list[Quarantined] = []
    for count, (source, number, raw, convert) in enumerate(units, start=1):
        try:
            good.append(convert())
        except RowError as exc:
            located = exc.at(source, number)
            if not skip_bad:
                raise located from None
            bad.append(Quarantined(source, number, raw, str(located)))
        if progress:
            progress(count)
    return good, bad


def _write(
    out_dir: Path,
    tables: Sequence[Table],
    quarantine_table: str,
    bad: list[Quarantined],
    result: ImportResult,
) -> ImportResult:
    writer = FactsWriter(out_dir)
    try:
        for name, rows, columns, key in tables:
            writer.stage(name, rows, columns, key)
            result.rows[name] = len({key(row) for row in rows})  # distinct rows
            result.written.append(out_dir / f"{name}.csv")
        quarantine = writer.stage_quarantine(quarantine_table, bad)
        writer.commit()
    except BaseException:
        writer.discard()
        raise
    if quarantine:
        result.written.append(quarantine)
    result.quarantined = len(bad)
    return result


def _order_key(row: Mapping[str, str]) -> tuple[str, ...]:
    return (row["order_id"],)


def _inspection_key(row: Mapping[str, str]) -> tuple[str, ...]:
    return (row["inspection_code"],)


def _tracking_key(row: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(row.get(c, "") for c in ("carrier", "waybill", "time", "kind", "text"))


def _export_row(
    raw: Mapping[str, str], options: ExportOptions, seen: dict[str, int], number: int
) -> dict[str, str]:
    record = order_from_export(raw, options)
    first = seen.setdefault(record["order_id"], number)
    if first != number:
        raise RowError("子订单编号", f"duplicate of row {first}")
    return record


def import_douyin_export(
    path: Path,
    out_dir: Path,
    options: ExportOptions | None = None,
    *,
    skip_bad: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """抖店 order export CSV → ``orders.csv`` in ``out_dir`` (+ ``quarantine_orders.csv``)."""
    chosen = options or ExportOptions()
    seen: dict[str, int] = {}  # order id -> first row
    units: list[Unit[dict[str, str]]] = [
        (path.name, number, raw, partial(_export_row, raw, chosen, seen, number))
        for number, raw in read_export(path)
    ]
    orders, bad = _collect(units, skip_bad, progress)
    result = ImportResult(read=len(units), imported=len(orders))
    return _write(out_dir, [("orders", orders, ORDER_COLUMNS, _order_key)], "orders", bad, result)


def import_open_platform(
    paths: Sequence[Path],
    out_dir: Path,
    options: OpenPlatformOptions | None = None,
    *,
    skip_bad: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Open-platform order detail JSON → ``orders.csv`` (one row per sku order) and
    ``inspections.csv``; a bad shop order goes whole to ``quarantine_orders.csv``."""
    chosen = options or OpenPlatformOptions()
    units: list[Unit[ImportedOrder]] = [
        (path.name, number, {"order_json": json.dumps(order, ensure_ascii=False)},
         partial(facts_from_order, order, chosen))
        for path in paths
        for number, order in read_orders(path)
    ]  # fmt: skip
    facts, bad = _collect(units, skip_bad, progress)
    # The same order saved twice (a detail and a list page) is merged by order_id, not an error.
    orders = [row for f in facts for row in f.orders]
    inspections = [row for f in facts for row in f.inspections]
    result = ImportResult(read=len(units), imported=len(facts))
    tables: list[Table] = [
        ("orders", orders, ORDER_COLUMNS, _order_key),
        ("inspections", inspections, INSPECTION_COLUMNS, _inspection_key),
    ]
    return _write(out_dir, tables, "orders", bad, result)


def import_kuaidi100(
    paths: Sequence[Path],
    out_dir: Path,
    *,
    salt: str | None = None,
    skip_bad: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Saved Kuaidi100 pushes → ``tracking.csv`` (a repeated scan is stored once). A file
    holds one push, or one per line (a receiver's log); each push is one unit."""
    units: list[Unit[tuple[TrackingEvent, ...]]] = []
    for path in paths:
        try:
            saved = read_push_log(path)
        except PushError as exc:
            raise FileRejected(str(exc)) from None
        units += [
            (path.name, line, {"push": text}, partial(_decode, text, salt)) for line, text in saved
        ]
    pushes, bad = _collect(units, skip_bad, progress)
    rows = [tracking_record(e) for events in pushes for e in events]
    result = ImportResult(read=len(units), imported=len(pushes))
    tables: list[Table] = [("tracking", rows, TRACKING_COLUMNS, _tracking_key)]
    return _write(out_dir, tables, "tracking", bad, result)


def import_tracking_csv(
    paths: Sequence[Path],
    out_dir: Path,
    *,
    skip_bad: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Tracking CSVs (facts columns; a carrier's own feed converted) → ``tracking.csv``."""
    units: list[Unit[TrackingEvent]] = []
    for path in paths:
        try:
            rows = list(read_tracking_csv(path))
        except TrackingRowError as exc:
            raise FileRejected(f"{path.name}: {exc}") from None
        units += [(path.name, r.row, r.raw, partial(_checked, r)) for r in rows]
    events, bad = _collect(units, skip_bad, progress)
    result = ImportResult(read=len(units), imported=len(events))
    tables: list[Table] = [
        ("tracking", [tracking_record(e) for e in events], TRACKING_COLUMNS, _tracking_key)
    ]
    return _write(out_dir, tables, "tracking", bad, result)


def _checked(row: TrackingRow) -> TrackingEvent:
    if row.error is not None:
        raise RowError(row.error.field, row.error.message)
    assert row.event is not None
    return row.event


def _decode(text: str, salt: str | None) -> tuple[TrackingEvent, ...]:
    try:
        return decode_push(parse_saved_push(text, "push"), salt=salt).events
    except PushError as exc:
        where, _, message = str(exc).partition(": ")
        raise RowError(where, message) from None

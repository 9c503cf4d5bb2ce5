"""Column conversion: raw CSV text or Parquet values → typed Arrow arrays plus a bad-value mask.

Vectorised with pyarrow.compute; only values the fast path cannot read (ISO 8601 with an
offset, other layouts) go through :func:`lvyue.model.time.parse_instant` one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lvyue.model.cells import FALSE_WORDS, TRUE_WORDS
from lvyue.model.schema import Column, Kind
from lvyue.model.time import InstantError, parse_instant

TIME_TYPE = pa.timestamp("s", tz="UTC")
_FIRST_INSTANT = pa.scalar(datetime(1, 1, 1, tzinfo=UTC), TIME_TYPE)
FAST_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Converted:
    values: pa.Array
    bad: pa.Array  # bool per row: the raw value could not be read
    reason: str  # what was wrong, e.g. "not an instant"


def arrow_type(kind: Kind) -> pa.DataType:
    return {
        Kind.TEXT: pa.string(),
        Kind.ENUM: pa.string(),
        Kind.TIME: TIME_TYPE,
        Kind.BOOL: pa.bool_(),
        Kind.NUMBER: pa.float64(),
    }[kind]


def empty_column(column: Column, length: int) -> pa.Array:
    if column.kind is Kind.BOOL:
        return pa.array([False] * length, pa.bool_())
    return pa.nulls(length, arrow_type(column.kind))


def convert(column: Column, raw: pa.Array) -> Converted:
    converted = _CONVERTERS[column.kind](column, raw)
    if column.not_null:
        missing = pc.and_(pc.is_null(converted.values), pc.invert(converted.bad))
        if pc.any(missing).as_py():
            bad = pc.or_(converted.bad, missing)
            return Converted(converted.values, bad, f"empty or {converted.reason}")
    return converted


def _text(raw: pa.Array) -> pa.Array:
    """Strings with "" as null (values are taken as written: no trimming, ids stay exact)."""
    if not pa.types.is_string(raw.type):
        raw = raw.cast(pa.string())
    empty = pc.equal(raw, "")
    if not pc.any(empty).as_py():
        return raw
    return pc.if_else(empty, pa.scalar(None, pa.string()), raw)


def _no_bad(length: int) -> pa.Array:
    return pa.array(np.zeros(length, dtype=bool))


def _convert_text(column: Column, raw: pa.Array) -> Converted:
    return Converted(_text(raw), _no_bad(len(raw)), "empty")


def _convert_enum(column: Column, raw: pa.Array) -> Converted:
    text = _text(raw)
    known = pc.is_in(text, value_set=pa.array(column.values, pa.string()))
    bad = pc.and_(pc.is_valid(text), pc.invert(known))
    allowed = " | ".join(column.values)
    return Converted(text, pc.fill_null(bad, False), f"not one of {allowed}")


def _convert_bool(column: Column, raw: pa.Array) -> Converted:
    if pa.types.is_boolean(raw.type):
        return Converted(pc.fill_null(raw, False), _no_bad(len(raw)), "not a boolean")
    text = pc.utf8_lower(_text(raw))
    is_true = pc.is_in(text, value_set=pa.array(TRUE_WORDS))
    is_false = pc.is_in(text, value_set=pa.array(FALSE_WORDS))
    bad = pc.and_(pc.is_valid(text), pc.invert(pc.or_(is_true, is_false)))
    return Converted(pc.fill_null(is_true, False), pc.fill_null(bad, False), "not a boolean")


def _convert_number(column: Column, raw: pa.Array) -> Converted:
    if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type):
        return Converted(raw.cast(pa.float64()), _no_bad(len(raw)), "not a number")
    text = _text(raw)
    values: list[float | None] = []
    bad: list[bool] = []
    for item in text.to_pylist():
        try:
            values.append(None if item is None else float(item))
            bad.append(False)
        except ValueError:
            values.append(None)
            bad.append(True)
    return Converted(pa.array(values, pa.float64()), pa.array(bad, pa.bool_()), "not a number")


def _convert_time(column: Column, raw: pa.Array) -> Converted:
    if pa.types.is_timestamp(raw.type):
        if raw.type.tz is None:  # naive Parquet timestamps are Beijing time
            raw = pc.assume_timezone(raw, "Asia/Shanghai")
        return Converted(raw.cast(TIME_TYPE, safe=False), _no_bad(len(raw)), "not an instant")
    if pa.types.is_date(raw.type):
        naive = raw.cast(pa.timestamp("s"))
        return _convert_time(column, pc.assume_timezone(naive, "Asia/Shanghai"))
    text = _text(raw)
    naive = pc.strptime(text, format=FAST_FORMAT, unit="s", error_is_null=True)
    # Arrow rolls impossible dates over (02-30 -> 03-02): keep only exact round trips
    exact = pc.equal(pc.strftime(naive, format=FAST_FORMAT), text)
    naive = pc.if_else(pc.fill_null(exact, False), naive, pa.scalar(None, naive.type))
    fast = pc.assume_timezone(naive, "Asia/Shanghai").cast(TIME_TYPE)
    # Before year 1 in UTC (early on 0001-01-01 Beijing) no instant exists: parse_instant
    # refuses it, and so must the fast path (Arrow would keep it, then fail to read it back)
    early = pc.fill_null(pc.less(fast, _FIRST_INSTANT), False)
    fast = pc.if_else(early, pa.scalar(None, TIME_TYPE), fast)
    residual = pc.and_(pc.is_valid(text), pc.is_null(fast))
    if not pc.any(residual).as_py():
        return Converted(fast, _no_bad(len(raw)), "not an instant")
    return _slow_times(text, fast, residual)


def _slow_times(text: pa.Array, fast: pa.Array, residual: pa.Array) -> Converted:
    values = fast.to_pylist()
    bad = [False] * len(values)
    for i, (item, slow) in enumerate(zip(text.to_pylist(), residual.to_pylist(), strict=True)):
        if not slow:
            continue
        try:
            values[i] = parse_instant(item)
        except InstantError:
            bad[i] = True
    return Converted(pa.array(values, TIME_TYPE), pa.array(bad, pa.bool_()), "not an instant")


_CONVERTERS = {
    Kind.TEXT: _convert_text,
    Kind.ENUM: _convert_enum,
    Kind.BOOL: _convert_bool,
    Kind.NUMBER: _convert_number,
    Kind.TIME: _convert_time,
}

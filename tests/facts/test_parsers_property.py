"""Issue 11 items 2 and 4: the one parser of times and of booleans, over messy cells
(hypothesis). The batch reader (facts.convert, vectorised), the one-cell readers
(model.cells.read_flag / cell_is_true, parse_instant), the service's row validation
(model.rows), the rulebook's JSON orders and the diagnosis must read every cell alike: a
value, or "cannot read it" — never a crash, never two answers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from lvyue.diagnosis.source import _flag as diagnosis_flag
from lvyue.facts.convert import convert
from lvyue.model.cells import FALSE_WORDS, TRUE_WORDS, cell_is_true, read_flag
from lvyue.model.rows import OrderRow, TrackingRow
from lvyue.model.schema import Column, Kind
from lvyue.model.time import BEIJING, InstantError, parse_instant
from lvyue.rulebook.context import order_context

WORDS = (*TRUE_WORDS, *FALSE_WORDS, "on", "off", "是", "否", "truee", "")
BOOL = Column("flag", Kind.BOOL)
TIME = Column("time", Kind.TIME)


@st.composite
def flag_cells(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(WORDS) | st.text(max_size=6))
    if draw(st.booleans()):
        word = "".join(c.upper() if draw(st.booleans()) else c for c in word)
    pad = draw(st.sampled_from(("", " ", "\t")))
    return pad + word + (pad if draw(st.booleans()) else "")


@settings(max_examples=300, deadline=None)
@given(st.lists(flag_cells(), min_size=1, max_size=20))
def test_a_flag_cell_reads_the_same_in_batch_and_in_the_service(cells: list[str]) -> None:
    batch = convert(BOOL, pa.array(cells, pa.string()))
    for cell, value, bad in zip(
        cells, batch.values.to_pylist(), batch.bad.to_pylist(), strict=True
    ):
        known = cell.lower() in (*TRUE_WORDS, *FALSE_WORDS)
        assert bad == (cell != "" and not known), cell
        assert value == cell_is_true(cell), cell
    diagnosis = diagnosis_flag(pa.table({"flag": cells}), "flag").to_pylist()
    assert diagnosis == batch.values.to_pylist()


ORDER = {
    "order_id": "o1",
    "merchant_id": "m1",
    "merchant_type": "domestic",
    "category": "女装",
    "ship_mode": "spot",
    "pay_time": "2024-03-01 10:00:00",
}


@settings(max_examples=300, deadline=None)
@given(flag_cells())
def test_a_flag_cell_is_read_or_refused_alike_by_every_reader(cell: str) -> None:
    """The strict reader, the service's order row and the rulebook's JSON order accept the
    cells the batch reader keeps, refuse the ones it quarantines, and read the same value."""
    batch = convert(BOOL, pa.array([cell], pa.string()))
    refused = batch.bad.to_pylist()[0]
    value = batch.values.to_pylist()[0]
    try:
        strict = read_flag(cell, "festival_open")
    except ValueError as exc:
        assert refused, cell
        assert "festival_open" in str(exc)
    else:
        assert not refused and bool(strict) == value, cell
    try:
        row = OrderRow.model_validate({**ORDER, "festival_open": cell, "delayed_shipping": cell})
    except ValidationError:
        assert refused, cell
    else:  # a flag is never trimmed, in the service as in the batch reader
        assert not refused, cell
        assert bool(row.festival_open) == value and row.delayed_shipping == value
    try:
        context = order_context({"festival_open": cell})
    except ValueError:
        assert refused, cell
    else:
        assert not refused and ("festival_open" in context.flags) == value, cell


beijing_moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31, 23, 59, 59)
)
LAYOUTS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")


@settings(max_examples=300, deadline=None)
@given(beijing_moments, st.sampled_from(LAYOUTS))
def test_a_written_time_reads_as_the_same_instant_everywhere(moment: datetime, layout: str) -> None:
    moment = moment.replace(microsecond=0, second=0 if layout.endswith("%M") else moment.second)
    cell = moment.strftime(layout)
    expected = moment.replace(tzinfo=BEIJING)
    assert parse_instant(cell) == expected
    batch = convert(TIME, pa.array([cell], pa.string()))
    assert batch.bad.to_pylist() == [False]
    assert batch.values.to_pylist()[0] == expected
    row = TrackingRow(carrier="zhongtong", waybill="W1", time=cell, kind="pickup")
    assert row.time == expected


time_cells = st.one_of(
    st.text(max_size=25),
    st.from_regex(r"\A\d{1,4}-\d{1,2}-\d{1,2}( \d{1,2}:\d{1,2}(:\d{1,2})?)?\Z"),
    beijing_moments.map(lambda m: (m + timedelta(days=40_000)).isoformat(sep=" ")),
    st.sampled_from(["0001-01-01 00:00:00", "9999-12-31 23:59:59", "2024-02-30 10:00:00"]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(time_cells, min_size=1, max_size=10))
def test_a_messy_time_cell_is_read_or_refused_alike_never_a_crash(cells: list[str]) -> None:
    batch = convert(TIME, pa.array(cells, pa.string()))
    for cell, value, bad in zip(
        cells, batch.values.to_pylist(), batch.bad.to_pylist(), strict=True
    ):
        if cell == "":
            assert value is None and not bad
            continue
        try:
            expected = parse_instant(cell)
        except InstantError:
            assert bad, cell
            continue
        assert not bad and value == expected, cell
        try:
            stored = TrackingRow(carrier="zhongtong", waybill="W1", time=cell, kind="pickup")
        except ValidationError:
            assert not 2000 <= expected.astimezone(BEIJING).year <= 2099, cell
        else:
            assert stored.time == expected

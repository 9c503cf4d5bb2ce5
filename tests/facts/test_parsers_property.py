"""Issue 11 item 4: the shared parsers of times and booleans, over messy cells (hypothesis).
The batch reader (facts.convert, vectorised), the one-cell reader the service uses
(cell_is_true, parse_instant) and the store's row validation (store.rows) must read every
cell alike: a value, or "cannot read it" — never a crash, never two answers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from lvyue.facts.convert import convert
from lvyue.facts.schema import Column, Kind
from lvyue.model.cells import FALSE_WORDS, TRUE_WORDS, cell_is_true
from lvyue.model.time import BEIJING, InstantError, parse_instant
from lvyue.store.rows import TrackingRow

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

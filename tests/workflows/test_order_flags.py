"""The service reads an order's boolean cells as the facts reader does (issue 11: an orders row
with ``festival_open=t`` got DR-1a in batch and NY-1 in the service)."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from lvyue.facts.convert import convert
from lvyue.model.cells import FALSE_WORDS, TRUE_WORDS, cell_is_true
from lvyue.model.schema import Column, Kind
from lvyue.store.tables import Order
from lvyue.workflows.actions.orders import context_of

CELLS = [*TRUE_WORDS, *FALSE_WORDS, "T", "Y", "True", "FALSE", "on", "2", "", " t"]


def _batch_reads(cell: str) -> bool:
    column = Column("festival_open", Kind.BOOL)
    return bool(convert(column, pa.array([cell])).values[0].as_py())


@pytest.mark.parametrize("cell", CELLS)
def test_service_and_batch_read_a_flag_cell_alike(cell: str) -> None:
    order = Order(
        order_id="o",
        merchant_id="m1",
        merchant_type="domestic",
        category="服饰内衣>女装",
        ship_mode="spot",
        pay_time=datetime(2023, 1, 20, tzinfo=UTC),
        delayed_shipping=False,
        extra={"festival_open": cell},
    )
    flags = context_of(order, None, established_store=False).flags
    assert ("festival_open" in flags) is _batch_reads(cell) is cell_is_true(cell)


def test_t_is_true_and_f_is_false() -> None:
    assert cell_is_true("t") and cell_is_true(True) and cell_is_true(1)
    assert not cell_is_true("f") and not cell_is_true(None) and not cell_is_true(False)

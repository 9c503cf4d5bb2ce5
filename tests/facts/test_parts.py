"""Appended parts (``NAME/*.parquet`` after ``NAME.parquet``): both readers see the base and
its parts as one table, and name a bad row by the part file and its row in it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.facts.test_scan import _same

from lvyue.facts import FactsError, load_facts
from lvyue.sim import write_facts


def _facts(tmp: Path) -> Path:
    root = tmp / "facts"
    write_facts(root, orders=60, seed=3, progress=False)
    return root


def _part(root: Path, name: str, part: str, table: pa.Table) -> None:
    (root / name).mkdir(exist_ok=True)
    pq.write_table(table, root / name / part)


def test_parts_are_read_after_their_base(tmp_path: Path) -> None:
    root = _facts(tmp_path)
    base = pq.read_table(root / "tracking.parquet")
    before = load_facts(root).tracking.num_rows
    _part(root, "tracking", "0002.parquet", base.slice(0, 3))  # scans may repeat
    _part(root, "tracking", "0001.parquet", base.slice(3, 2).drop_columns(["text"]))
    assert load_facts(root).tracking.num_rows == before + 5
    _same(root)  # scan_facts: the same rows, counts and messages


def test_a_bad_row_in_a_part_is_named_by_the_part(tmp_path: Path) -> None:
    root = _facts(tmp_path)
    orders = pq.read_table(root / "orders.parquet")
    _part(root, "orders", "0001.parquet", orders.slice(5, 1).set_column(
        0, "order_id", pa.array(["new-1"])))  # fmt: skip
    _same(root)
    _part(root, "orders", "0002.parquet", orders.slice(7, 2))  # ids already in the base
    with pytest.raises(FactsError, match=r"^orders/0002.parquet row 1, column order_id: dup"):
        load_facts(root)
    assert _same(root) == f"orders/0002.parquet row 1, column order_id: duplicate order_id " \
        f"{orders['order_id'][7].as_py()!r} (2 bad rows; --skip-bad quarantines them)"  # fmt: skip


def test_a_csv_base_takes_no_parts(tmp_path: Path) -> None:
    root = tmp_path / "facts"
    root.mkdir()
    (root / "orders.csv").write_text("order_id\n1\n")
    _part(root, "orders", "0001.parquet", pa.table({"order_id": ["2"]}))
    with pytest.raises(FactsError, match=r"orders.csv has parts in orders/"):
        load_facts(root)

"""Reading and validating a facts directory: types, bad rows named by file/row/column,
--skip-bad quarantine with counts in = out + quarantined."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lvyue.facts import TIME_TYPE, FactsError, load_facts, write_quarantine

HEADER = (
    "order_id,merchant_id,merchant_type,category,ship_mode,pay_time,promised_ship_time,"
    "delayed_shipping,ship_time,carrier,waybill,confirmed_receipt_time,inspection_code"
)


def _dir(tmp_path: Path, orders: list[str], **files: str) -> Path:
    (tmp_path / "orders.csv").write_text("\n".join([HEADER, *orders]) + "\n", encoding="utf-8")
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    return tmp_path


GOOD = "o1,m1,domestic,a>b,spot,2023-02-02 23:59:59,,true,2023-02-03T00:00:00+00:00,zto,W1,,"


def test_times_are_utc_naive_means_beijing_and_missing_tables_are_empty(tmp_path: Path) -> None:
    facts = load_facts(_dir(tmp_path, [GOOD]))
    row = facts.orders.to_pylist()[0]
    assert facts.orders.schema.field("pay_time").type == TIME_TYPE
    assert row["pay_time"] == datetime(2023, 2, 2, 15, 59, 59, tzinfo=UTC)
    assert row["ship_time"] == datetime(2023, 2, 3, 0, 0, 0, tzinfo=UTC)
    assert row["delayed_shipping"] is True
    assert row["festival_open"] is False  # optional column, absent: false
    assert facts.tracking.num_rows == 0
    assert facts.tracking.schema.field("time").type == TIME_TYPE
    assert facts.counts["orders"] == (1, 1, 0)


@pytest.mark.parametrize(
    ("bad", "column", "needle"),
    [
        ("o2,m1,domestic,a>b,spot,2023-02-30 10:00:00,,false,,,,,", "pay_time", "instant"),
        ("o2,m1,martian,a>b,spot,2023-02-02 10:00:00,,false,,,,,", "merchant_type", "one of"),
        ("o2,m1,domestic,a>b,spot,2023-02-02 10:00:00,,perhaps,,,,,", "delayed_shipping",
         "boolean"),
        ("o1,m1,domestic,a>b,spot,2023-02-02 10:00:00,,false,,,,,", "order_id", "duplicate"),
        ("o2,m1,domestic,a>b,spot,,,false,,,,,", "pay_time", "empty"),
    ],
)  # fmt: skip
def test_a_bad_row_names_file_row_and_column(
    tmp_path: Path, bad: str, column: str, needle: str
) -> None:
    root = _dir(tmp_path, [GOOD, bad])
    with pytest.raises(FactsError) as caught:
        load_facts(root)
    message = str(caught.value)
    assert message.startswith(f"orders.csv row 2, column {column}:")
    assert needle in message
    assert "\n" not in message
    facts = load_facts(root, skip_bad=True)
    assert facts.counts["orders"] == (2, 1, 1)
    assert [(b.file, b.row, b.column) for b in facts.quarantine] == [("orders.csv", 2, column)]


def test_tracking_for_an_unknown_waybill_and_quarantine_file(tmp_path: Path) -> None:
    tracking = (
        "carrier,waybill,time,kind\nzto,W1,2023-02-04 10:00:00,pickup\n"
        "zto,W9,2023-02-04 10:00:00,pickup\nzto,W1,2023-02-05 10:00:00,teleported\n"
    )
    root = _dir(tmp_path, [GOOD], tracking=tracking)
    with pytest.raises(FactsError, match=r"tracking.csv row 3, column kind"):
        load_facts(root)
    facts = load_facts(root, skip_bad=True)
    read, kept, bad = facts.counts["tracking"]
    assert (read, kept, bad) == (3, 1, 2)
    assert sorted((b.row, b.column) for b in facts.quarantine) == [(2, "waybill"), (3, "kind")]
    out = tmp_path / "q.csv"
    assert write_quarantine(facts.quarantine, out) == 2
    text = out.read_text(encoding="utf-8")
    assert "unknown waybill 'W9'" in text and "teleported" in text


def test_missing_required_column_and_missing_orders(tmp_path: Path) -> None:
    with pytest.raises(FactsError, match=r"no orders\.csv"):
        load_facts(tmp_path)
    (tmp_path / "orders.csv").write_text("order_id,merchant_id\no1,m1\n", encoding="utf-8")
    with pytest.raises(FactsError, match="missing required column 'merchant_type'"):
        load_facts(tmp_path, skip_bad=True)


def test_parquet_with_zoned_and_naive_timestamps(tmp_path: Path) -> None:
    (tmp_path / "csv").mkdir()
    base = load_facts(_dir(tmp_path / "csv", [GOOD])).orders
    naive = pa.array([datetime(2023, 2, 2, 23, 59, 59)], pa.timestamp("ms"))  # Beijing
    table = base.drop_columns(["pay_time"]).append_column("pay_time", naive)
    (tmp_path / "pq").mkdir()
    pq.write_table(table, tmp_path / "pq" / "orders.parquet")
    again = load_facts(tmp_path / "pq").orders
    assert again["pay_time"].to_pylist() == base["pay_time"].to_pylist()
    assert again["ship_time"].to_pylist() == base["ship_time"].to_pylist()  # zoned: kept


def test_reading_only_some_columns_finds_the_same_bad_rows(tmp_path: Path) -> None:
    tracking = (
        "carrier,waybill,time,kind,location,text,extra\n"
        "zto,W1,2023-02-04 10:00:00,pickup,杭州,揽收,x\n"
        "zto,W1,2023-02-05 10:00:00,teleported,杭州,?,y\n"
    )
    root = _dir(tmp_path, [GOOD], tracking=tracking)
    lean = {"tracking": ("carrier", "waybill", "time", "kind")}
    with pytest.raises(FactsError, match=r"tracking.csv row 2, column kind"):
        load_facts(root, columns=lean)  # kind is validated though only some columns are read
    (root / "tracking.csv").write_text(tracking.replace("teleported", "pickup"), encoding="utf-8")
    full, part = load_facts(root), load_facts(root, columns=lean)
    assert full.tracking["location"].to_pylist() == ["杭州", "杭州"]
    assert part.tracking["location"].null_count == 2  # plain optional text: not read
    assert "extra" in full.tracking.column_names and "extra" not in part.tracking.column_names
    assert part.tracking.select(lean["tracking"]).equals(full.tracking.select(lean["tracking"]))
    assert part.orders.equals(full.orders.select(part.orders.column_names))

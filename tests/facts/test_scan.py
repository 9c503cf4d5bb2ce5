"""scan_facts (DuckDB, out of core) against load_facts (Arrow): for every input the same
FactsError message, or the same quarantine, counts and good rows."""

from __future__ import annotations

import string
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.facts.test_loader import GOOD, HEADER, _dir, test_a_bad_row_names_file_row_and_column

from lvyue.engine import BATCH_COLUMNS
from lvyue.facts import TABLES, TIME_TYPE, FactsError, Scan, load_facts, scan_facts
from lvyue.sim import write_facts

SCANNED = ("orders", "tracking", "after_sales", "reports", "inspections")
_MARK = test_a_bad_row_names_file_row_and_column.pytestmark[0]  # type: ignore[attr-defined]
LOADER_BAD_ROWS = [args[0] for args in _MARK.args[1]]  # its parametrized bad order rows
Columns = Mapping[str, Collection[str]] | None


def _rows(table: pa.Table) -> list[tuple[object, ...]]:
    """Rows with times as epoch seconds, sorted (a relation has no order)."""
    times = [i for i, f in enumerate(table.schema) if f.type == TIME_TYPE]
    for i in times:
        table = table.set_column(i, table.field(i).name, table.column(i).cast(pa.int64()))
    return sorted((tuple(r.values()) for r in table.to_pylist()), key=repr)


def _same(root: Path, *, skip_bad: bool = False, columns: Columns = None) -> Scan | str:
    """Run both readers; assert they agree; the scan (or the shared error message)."""
    con = duckdb.connect()
    try:
        facts = load_facts(root, skip_bad=skip_bad, columns=columns)
    except FactsError as error:
        with pytest.raises(FactsError) as caught:
            scan_facts(con, root, skip_bad=skip_bad, columns=columns)
        assert str(caught.value) == str(error)
        assert con.execute("SELECT count(*) FROM duckdb_views() WHERE NOT internal").fetchall() == [
            (0,)
        ]  # nothing half-made left behind
        return str(error)
    scan = scan_facts(con, root, skip_bad=skip_bad, columns=columns)
    assert scan.quarantine == facts.quarantine
    assert scan.counts == {k: v for k, v in facts.counts.items() if k in SCANNED}
    for name in SCANNED:
        expected: pa.Table = getattr(facts, name)
        got = con.sql(f"SELECT * FROM {scan.relations[name]}").to_arrow_table()
        assert got.column_names == expected.column_names, name
        spec = [f.name for f in expected.schema if f.name in got.column_names]
        if (root / f"{name}.parquet").exists():  # Parquet extras keep their own types
            spec = [n for n in spec if n in _spec_names(name)]
        assert _rows(got.select(spec)) == _rows(expected.select(spec)), name
    return scan


def _spec_names(name: str) -> set[str]:
    return {c.name for t in TABLES if t.name == name for c in t.columns}


def _orders(root: Path, *rows: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    return _dir(root, list(rows))


def _row(**cells: str) -> str:
    """GOOD with some cells replaced (by header name)."""
    values = dict(zip(HEADER.split(","), GOOD.split(","), strict=True))
    return ",".join({**values, **cells}.values())


TRACKING = "carrier,waybill,time,kind\n"


@pytest.mark.parametrize("bad", LOADER_BAD_ROWS)
@pytest.mark.parametrize("skip_bad", [False, True])
def test_the_loader_bad_rows(tmp_path: Path, bad: str, skip_bad: bool) -> None:
    result = _same(_orders(tmp_path, GOOD, bad), skip_bad=skip_bad)
    assert isinstance(result, Scan) == skip_bad


CSV_CASES = {
    "odd times": [
        _row(pay_time="2023-02-02T10:00:00+08:00"),  # ISO with an offset
        _row(order_id="o2", pay_time="2023/02/02 10:00"),  # another layout: parse_instant
        _row(order_id="o3", pay_time="2023-02-02"),  # a date: Beijing midnight
        _row(order_id="o4", pay_time="2023-02-02T10:00:00.900+00:00"),  # sub-second dropped
        _row(order_id="o5", pay_time="1969-12-31 23:59:59"),  # before the fast path
        _row(order_id="o6", pay_time="1988-06-01 12:00:00"),  # Beijing summer time
        _row(order_id="o7", pay_time=" 2023-02-02 10:00:00 "),  # padded: parse_instant strips
        _row(order_id="o8", ship_time="2023-02-29 10:00:00"),  # impossible date
        _row(order_id="o9", ship_time="soon"),
    ],
    "booleans and enums": [
        _row(delayed_shipping="TRUE"),
        _row(order_id="o2", delayed_shipping="No"),
        _row(order_id="o3", delayed_shipping="NA"),  # one of Arrow's null words
        _row(order_id="o4", delayed_shipping="ja"),
        _row(order_id="o5", merchant_type="Domestic"),
        _row(order_id="o6", ship_mode=""),  # required enum empty: "empty or not one of"
    ],
    "keys": [
        _row(pay_time="bad"),  # bad first occurrence still makes the next a duplicate
        _row(),
        _row(order_id=""),
        _row(order_id=""),
        _row(order_id="o2"),
        _row(order_id="o2", merchant_type="x"),  # a bad value beats the duplicate
    ],
}


@pytest.mark.parametrize("case", list(CSV_CASES))
@pytest.mark.parametrize("skip_bad", [False, True])
def test_csv_cases(tmp_path: Path, case: str, skip_bad: bool) -> None:
    _same(_orders(tmp_path, *CSV_CASES[case]), skip_bad=skip_bad)


def test_unknown_waybills_and_order_ids_and_missing_or_empty_tables(tmp_path: Path) -> None:
    tracking = TRACKING + (
        "zto,W1,2023-02-04 10:00:00,pickup\nzto,W9,2023-02-04 10:00:00,pickup\n"
        "zto,W1,2023-02-05 10:00:00,teleported\nyto,W1,2023-02-05 11:00:00,signed\n"
    )
    after_sales = (
        "aftersale_id,order_id,type,created_at,merchant_handled_at,return_shipped_at,"
        "merchant_received_at,return_signed_at,refunded_at,note\n"
        "a1,o1,refund_only,2023-02-06 10:00:00,,,,,,x\n"
        "a2,o9,refund_only,2023-02-06 10:00:00,,,,,,y\n"
    )
    root = _orders(tmp_path, GOOD, _row(order_id="o2", waybill="W2", pay_time="x"))
    _same(root, skip_bad=True)  # only orders: the others are missing, hence empty
    (root / "reports.csv").write_text("report_id,merchant_id,type,status,order_ids\n")
    (root / "tracking.csv").write_text(tracking, encoding="utf-8")
    (root / "after_sales.csv").write_text(after_sales, encoding="utf-8")
    assert "orders.csv row 2" in str(_same(root))
    (root / "orders.csv").write_text(f"{HEADER}\n{GOOD}\n", encoding="utf-8")
    assert "tracking.csv row 3, column kind" in str(_same(root))
    (root / "tracking.csv").write_text(tracking.replace("teleported", "pickup"), encoding="utf-8")
    message = str(_same(root))
    assert "tracking.csv row 2, column waybill: tracking for an unknown waybill 'W9' (2 bad" in (
        message
    )
    scan = _same(root, skip_bad=True)
    assert isinstance(scan, Scan)
    assert [(b.file, b.row) for b in scan.quarantine] == [
        ("tracking.csv", 2),
        ("tracking.csv", 4),
        ("after_sales.csv", 2),
    ]
    assert scan.counts["reports"] == (0, 0, 0)


def test_file_level_errors(tmp_path: Path) -> None:
    assert "not a facts directory" in str(_same(tmp_path / "nowhere"))
    assert "no orders.csv" in str(_same(tmp_path))
    (tmp_path / "orders.csv").write_text("order_id,merchant_id\no1,m1\n", encoding="utf-8")
    assert "missing required column 'merchant_type'" in str(_same(tmp_path, skip_bad=True))
    (tmp_path / "orders.csv").write_text(f"{HEADER}\n{GOOD}\no2,m1\n", encoding="utf-8")
    assert "cannot read: CSV parse error" in str(_same(tmp_path))
    (tmp_path / "orders.csv").write_text("", encoding="utf-8")
    assert "empty file" in str(_same(tmp_path))
    (tmp_path / "orders.csv").write_text(f"{HEADER}\n{GOOD}\n", encoding="utf-8")
    (tmp_path / "tracking.parquet").write_bytes(b"not parquet")
    assert "tracking.parquet: cannot read: Could not open" in str(_same(tmp_path))
    (tmp_path / "orders.parquet").write_bytes(b"")
    assert "both orders.parquet and orders.csv" in str(_same(tmp_path))


def _parquet(root: Path, **replace: pa.Array) -> Path:
    """The GOOD order as Parquet (read by load_facts from CSV), with some columns replaced."""
    (root / "csv").mkdir(parents=True)
    base = load_facts(_dir(root / "csv", [GOOD])).orders
    for name, values in replace.items():
        base = (
            base.drop_columns([name]).append_column(name, values)
            if name in base.column_names
            else base.append_column(name, values)
        )
    (root / "pq").mkdir()
    pq.write_table(base, root / "pq" / "orders.parquet", row_group_size=1)
    return root / "pq"


PARQUET_TIMES = {
    "naive ms (Beijing)": pa.array([datetime(2023, 2, 2, 23, 59, 59, 500000)], pa.timestamp("ms")),
    "naive before 1970": pa.array([datetime(1969, 12, 31, 23, 59, 58, 500000)], pa.timestamp("ms")),
    "zoned ns": pa.array([-1_500_000_000], pa.timestamp("ns", tz="Asia/Shanghai")),
    "zoned us": pa.array([datetime(2023, 2, 2, 1, 2, 3, 999, tzinfo=UTC)], pa.timestamp("us", "UTC")),  # noqa: E501
    "date": pa.array([date(2023, 2, 2)]),
    "iso text": pa.array(["2023-02-02T10:00:00+08:00"]),
    "bad text": pa.array(["2023-02-30 10:00:00"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(PARQUET_TIMES))
@pytest.mark.parametrize("skip_bad", [False, True])
def test_parquet_times(tmp_path: Path, case: str, skip_bad: bool) -> None:
    _same(_parquet(tmp_path, pay_time=PARQUET_TIMES[case]), skip_bad=skip_bad)


def test_parquet_bad_values_show_pyarrow_records(tmp_path: Path) -> None:
    root = _parquet(
        tmp_path,
        merchant_type=pa.array(["martian"]),
        delayed_shipping=pa.array([None], pa.bool_()),
        festival_open=pa.array(["yes"]),  # booleans as text are read as words
        established_store=pa.nulls(1),  # an all-empty column: Arrow's null type
        confirmed_receipt_time=pa.nulls(1),
        extra_when=pa.array([datetime(2023, 1, 1, tzinfo=UTC)], pa.timestamp("s", "Asia/Shanghai")),
        extra_count=pa.array([3], pa.int32()),
    )
    scan = _same(root, skip_bad=True)
    assert isinstance(scan, Scan) and scan.quarantine[0].record["extra_when"] == (
        "2023-01-01 08:00:00+08:00"
    )
    _same(root)


def test_extra_columns_and_reading_only_some(tmp_path: Path) -> None:
    tracking = (
        "carrier,waybill,time,kind,location,text,extra\n"
        "zto,W1,2023-02-04 10:00:00,pickup,杭州,揽收,x\nzto,W1,2023-02-05T10:00:00Z,signed,,,\n"
        "zto,W8,2023-02-05 10:00:00,signed,,,\n"
    )
    root = _dir(tmp_path, [GOOD, _row(order_id="o2", activity="618")], tracking=tracking)
    (root / "orders.csv").write_text(
        (root / "orders.csv").read_text().replace(HEADER, HEADER + ",activity")
        .replace(GOOD + "\n", GOOD + ",\n"), encoding="utf-8",
    )  # fmt: skip
    _same(root, skip_bad=True)
    lean = {"tracking": ("carrier", "waybill", "time", "kind"), "orders": ("order_id",)}
    assert "unknown waybill 'W8'" in str(_same(root, columns=lean))
    (root / "tracking.csv").write_text(tracking.replace("W8", "W1"), encoding="utf-8")
    for wanted in (lean, BATCH_COLUMNS, {"tracking": ("extra",)}):
        _same(root, columns=wanted)


def test_simulated_facts_give_the_same_good_rows(tmp_path: Path) -> None:
    write_facts(tmp_path, orders=2000, seed=7, progress=False)
    scan = _same(tmp_path)
    assert isinstance(scan, Scan) and scan.counts["orders"] == (2000, 2000, 0)
    scan = _same(tmp_path, columns=BATCH_COLUMNS)
    assert isinstance(scan, Scan) and scan.counts["tracking"][0] > 2000


# -- messy cells, generated -------------------------------------------------------------------

_DIGITS = st.text(string.digits, min_size=1, max_size=2)
_MOMENTS = st.datetimes(datetime(1900, 1, 2), datetime(2200, 1, 1))
_TIMES = st.one_of(
    _MOMENTS.map(lambda d: f"{d:%Y-%m-%d %H:%M:%S}"),
    _MOMENTS.map(lambda d: d.isoformat()),
    st.builds("2023-{}-{} {}:{}:{}".format, _DIGITS, _DIGITS, _DIGITS, _DIGITS, _DIGITS),
    st.sampled_from(["", "NA", "null", "2023-02-02T10:00:00+08:00", "2023-02-02Z", "tomorrow"]),
    st.text("0123456789-:T+ Z./", max_size=25),
)  # fmt: skip
_WORDS = st.sampled_from(["true", "FALSE", "Yes", "n", "1", "0", "", "NaN", "maybe", "İ", "t "])
_ENUMS = st.sampled_from(["domestic", "Domestic", "cross_border", "", "N/A", "martian"])


def _cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.tuples(_TIMES, _TIMES, _WORDS, _ENUMS), min_size=1, max_size=6),
    st.booleans(),
)
def test_messy_cells_both_readers_agree(
    tmp_path_factory: pytest.TempPathFactory,
    cells: list[tuple[str, str, str, str]],
    skip_bad: bool,
) -> None:
    rows = [
        _row(order_id=f"o{i}", pay_time=_cell(pay), ship_time=_cell(ship),
             delayed_shipping=_cell(word), merchant_type=_cell(kind))
        for i, (pay, ship, word, kind) in enumerate(cells)
    ]  # fmt: skip
    _same(_orders(tmp_path_factory.mktemp("messy"), *rows), skip_bad=skip_bad)


def test_times_are_epoch_seconds_and_booleans_never_null(tmp_path: Path) -> None:
    con = duckdb.connect()
    scan = scan_facts(con, _orders(tmp_path, GOOD))
    orders = con.sql(f"SELECT * FROM {scan.relations['orders']}").to_arrow_table()
    assert orders["pay_time"].type == pa.int64()
    assert orders["pay_time"].to_pylist() == [
        int(datetime(2023, 2, 2, 15, 59, 59, tzinfo=UTC).timestamp())
    ]
    assert pc.all(pc.is_valid(orders["festival_open"])).as_py()
    tracking = con.execute(f"DESCRIBE {scan.relations['tracking']}").fetchall()
    assert [(r[0], r[1]) for r in tracking][:3] == [
        ("carrier", "VARCHAR"),
        ("waybill", "VARCHAR"),
        ("time", "BIGINT"),
    ]


def test_row_numbers_across_csv_batches_and_parquet_row_groups(tmp_path: Path) -> None:
    """Row numbers hold past pyarrow's first CSV block (1 MiB) and Parquet's first row group."""
    scans = [f"zto,W1,2023-02-04 10:{i % 60:02d}:00,pickup,{'杭州' * 20}" for i in range(20_000)]
    scans[15_000] = scans[15_000].replace("pickup", "teleported")
    scans[19_998] = scans[19_998].replace("W1", "W7")
    text = "carrier,waybill,time,kind,location\n" + "\n".join(scans) + "\n"
    assert len(text.encode()) > 2 << 20
    root = _orders(tmp_path / "csv", GOOD)
    (root / "tracking.csv").write_text(text, encoding="utf-8")
    scan = _same(root, skip_bad=True)
    assert isinstance(scan, Scan)
    assert [(b.row, b.column) for b in scan.quarantine] == [(15_001, "kind"), (19_999, "waybill")]
    orders = load_facts(root, skip_bad=True).orders
    orders = pa.concat_tables([orders] * 30).set_column(
        0, "order_id", pa.array([f"o{i % 25}" for i in range(30)])
    )  # o0..o4 twice: rows 26..30 are duplicates
    orders = orders.set_column(2, "merchant_type", pa.array(["domestic"] * 9 + ["x"] * 21))
    (tmp_path / "pq").mkdir()
    pq.write_table(orders, tmp_path / "pq" / "orders.parquet", row_group_size=7)
    scan = _same(tmp_path / "pq", skip_bad=True)
    assert isinstance(scan, Scan) and scan.quarantine[0].row == 10
    assert "orders.parquet row 10, column merchant_type" in str(_same(tmp_path / "pq"))


def test_the_session_time_zone_does_not_move_instants(tmp_path: Path) -> None:
    for i, case in enumerate(("naive before 1970", "zoned ns", "date")):
        root = _parquet(tmp_path / str(i), pay_time=PARQUET_TIMES[case])
        seconds = []
        for zone in ("UTC", "America/New_York", "Asia/Kolkata"):
            con = duckdb.connect()
            con.execute(f"SET TimeZone = '{zone}'")
            scan = scan_facts(con, root)
            seconds += con.execute(f"SELECT pay_time FROM {scan.relations['orders']}").fetchall()
        assert len(set(seconds)) == 1, case


def test_a_damaged_parquet_page_is_a_facts_error_naming_the_file(tmp_path: Path) -> None:
    """The footer reads, the data does not: both readers stop on a one-line FactsError (the
    decoder's words differ: pyarrow's and DuckDB's)."""
    _orders(tmp_path, GOOD)
    n = 5000
    waybills = [f"W{i}" for i in range(n)]
    scans = {"carrier": ["zto"] * n, "time": ["2023-02-04 10:00:00"] * n, "kind": ["pickup"] * n}
    scans = pa.table({**scans, "waybill": waybills})
    pq.write_table(scans, tmp_path / "tracking.parquet", compression="zstd")
    damaged = bytearray((tmp_path / "tracking.parquet").read_bytes())
    for i in range(100, len(damaged) // 2):
        damaged[i] = (damaged[i] * 7 + 3) % 256
    (tmp_path / "tracking.parquet").write_bytes(bytes(damaged))
    for read in (lambda: load_facts(tmp_path), lambda: scan_facts(duckdb.connect(), tmp_path)):
        with pytest.raises(FactsError, match=r"^tracking\.parquet: cannot read: [^\n]+$"):
            read()

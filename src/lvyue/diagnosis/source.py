"""Facts → one Ibis table of shipments (one row per shipped order), the input of every metric.

Times become UTC epoch seconds (int64) in Arrow before anything reaches an engine, so the
same expressions give the same answer on DuckDB and Spark (whose session zones and interval
truncation differ; see ENVIRONMENT-NOTES).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from lvyue.diagnosis.errors import DiagnosisError
from lvyue.diagnosis.standards import transit_standard_days
from lvyue.facts import Column, Kind
from lvyue.facts.convert import convert

BEIJING_OFFSET_S = 8 * 3600
DAY_S = 86_400

_ORDER_TEXT = (
    "merchant_id",
    "carrier",
    "waybill",
    "industry",
    "category",
    "origin_province",
    "origin_city",
    "dest_province",
    "dest_city",
    "dest_district",
    "outlet",
)
_ORDER_FLAGS = ("complained", "logistics_return")
_ORDER_TIMES = ("pay_time", "ship_time")


@dataclass(frozen=True)
class ShipmentSource:
    """The shipments expression plus the merchants table (may be empty) and, when the facts
    have one, the per-merchant ``conversion`` table (visitors, buyers: LD-1)."""

    shipments: ir.Table
    merchants: pa.Table
    conversion: pa.Table | None = None


def epoch_column(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Timestamp (any unit, aware or naive-Beijing) or text → int64 UTC epoch seconds."""
    if pa.types.is_integer(column.type) or pa.types.is_null(column.type):
        return pc.cast(column, pa.int64())
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        column = _parse_text_times(column)
    if not pa.types.is_timestamp(column.type):
        raise DiagnosisError(f"not a time column: {column.type}")
    if column.type.tz is None:  # naive means Beijing (docs/formats.md)
        seconds = pc.cast(pc.cast(column, pa.timestamp("s")), pa.int64())
        return pc.subtract(seconds, BEIJING_OFFSET_S)
    return pc.cast(pc.cast(column, pa.timestamp("s", tz="UTC")), pa.int64())


def _parse_text_times(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    import pandas as pd

    series = pd.Series(column.to_pylist(), dtype="string").replace("", pd.NA)
    parsed = pd.to_datetime(series, format="mixed", utc=False)
    if getattr(parsed.dt, "tz", None) is None:
        parsed = parsed.dt.tz_localize("Asia/Shanghai")
    return pa.array(parsed.dt.tz_convert("UTC"), type=pa.timestamp("s", tz="UTC"))


def _text(table: pa.Table, name: str) -> pa.Array:
    if name not in table.column_names:
        return pa.nulls(table.num_rows, pa.string())
    column = table.column(name)
    return column if pa.types.is_string(column.type) else pc.cast(column, pa.string())


def _flag(table: pa.Table, name: str) -> pa.Array:
    """Booleans; empty means false (docs/formats.md)."""
    if name not in table.column_names:
        return pa.array([False] * table.num_rows, pa.bool_())
    return convert(Column(name, Kind.BOOL), table.column(name).combine_chunks()).values


def _settled(table: pa.Table) -> pa.Array:
    """Settlement outcome; null where the facts do not record one (then it is not counted)."""
    if "settled" not in table.column_names:
        return pa.nulls(table.num_rows, pa.bool_())
    column = table.column("settled").combine_chunks()
    if pa.types.is_boolean(column.type):
        return column
    text = pc.cast(column, pa.string())
    known = pc.invert(pc.or_kleene(pc.is_null(text), pc.equal(text, "")))
    truthy = convert(Column("settled", Kind.BOOL), text).values  # the one flag vocabulary
    return pc.if_else(known, truthy, pa.scalar(None, pa.bool_()))


def _amount(column: pa.ChunkedArray) -> pa.Array:
    if pa.types.is_string(column.type):
        column = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
    try:
        return pc.fill_null(pc.cast(column, pa.float64()), 0.0)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise DiagnosisError("orders: column 'amount' is not a number everywhere") from None


def orders_arrow(orders: pa.Table) -> pa.Table:
    """The order columns diagnosis reads, typed; missing optional columns become nulls."""
    for required in ("order_id", "merchant_id", "pay_time"):
        if required not in orders.column_names:
            raise DiagnosisError(f"orders: missing column {required!r}")
    columns: dict[str, pa.Array | pa.ChunkedArray] = {"order_id": _text(orders, "order_id")}
    for name in _ORDER_TEXT:
        columns[name] = _text(orders, name)
    if "industry" not in orders.column_names and "category" in orders.column_names:
        columns["industry"] = pc.list_element(pc.split_pattern(_text(orders, "category"), ">"), 0)
    for name in _ORDER_TIMES:
        source = orders.column(name) if name in orders.column_names else None
        columns[name.replace("_time", "_s")] = (
            pa.nulls(orders.num_rows, pa.int64()) if source is None else epoch_column(source)
        )
    for name in _ORDER_FLAGS:
        columns[name] = _flag(orders, name)
    columns["settled"] = _settled(orders)
    amount = orders.column("amount") if "amount" in orders.column_names else None
    columns["amount"] = (
        pa.array([0.0] * orders.num_rows, pa.float64()) if amount is None else _amount(amount)
    )
    return pa.table(columns)


def tracking_arrow(tracking: pa.Table | None) -> pa.Table:
    schema = pa.schema(
        [
            ("carrier", pa.string()),
            ("waybill", pa.string()),
            ("t", pa.int64()),
            ("kind", pa.string()),
            ("outlet", pa.string()),
        ]
    )
    if tracking is None or tracking.num_rows == 0:
        return schema.empty_table()
    return pa.table(
        {
            "carrier": _text(tracking, "carrier"),
            "waybill": _text(tracking, "waybill"),
            "t": epoch_column(tracking.column("time")),
            "kind": _text(tracking, "kind"),
            "outlet": _text(tracking, "outlet"),
        },
        schema=schema,
    )


LANES_SCHEMA = pa.schema(
    [("lane_origin", pa.string()), ("lane_dest", pa.string()), ("lane_hours", pa.float64())]
)


def lanes_arrow(lanes: pa.Table | None) -> pa.Table:
    """The platform's per-lane standards (origin city, dest city, standard_hours), if given."""
    if lanes is None or lanes.num_rows == 0:
        return LANES_SCHEMA.empty_table()
    for required in ("origin_city", "dest_city", "standard_hours"):
        if required not in lanes.column_names:
            raise DiagnosisError(f"lanes: missing column {required!r}")
    return pa.table(
        {
            "lane_origin": _text(lanes, "origin_city"),
            "lane_dest": _text(lanes, "dest_city"),
            "lane_hours": pc.cast(lanes.column("standard_hours"), pa.float64()),
        },
        schema=LANES_SCHEMA,
    )


def shipments_expr(orders: ir.Table, tracking: ir.Table, lanes: ir.Table) -> ir.Table:
    """One row per order: first pickup, first signature, any exception scan, the lane
    standard, derived durations. Hours are floats; ``*_s`` are epoch seconds."""
    kind = tracking.kind
    per_waybill = tracking.group_by(["carrier", "waybill"]).aggregate(
        pickup_s=tracking.t.min(where=kind == "pickup"),
        signed_s=tracking.t.min(where=kind == "signed"),
        last_scan_s=tracking.t.max(),
        exception=(kind == "exception").any(),
        scan_outlet=tracking.outlet.min(where=kind == "pickup"),
    )
    joined = (
        orders.left_join(
            per_waybill,
            [orders.carrier == per_waybill.carrier, orders.waybill == per_waybill.waybill],
        )
        .left_join(
            lanes, [orders.origin_city == lanes.lane_origin, orders.dest_city == lanes.lane_dest]
        )
        .select(
            *[orders[c] for c in orders.columns if c != "outlet"],
            outlet=orders.outlet.coalesce(per_waybill.scan_outlet),
            pickup_s=per_waybill.pickup_s,
            signed_s=per_waybill.signed_s,
            last_scan_s=per_waybill.last_scan_s,
            exception=per_waybill.exception.fill_null(False),
            lane_hours=lanes.lane_hours,
        )
    )
    return derive(joined)


def _day(seconds: ir.IntegerValue) -> ir.IntegerValue:
    """Beijing calendar day number of an epoch-seconds value."""
    day: ir.IntegerValue = ((seconds + BEIJING_OFFSET_S) / DAY_S).floor()
    return day


def derive(t: ir.Table) -> ir.Table:
    """Durations, within-N-hours flags and on-time status from the epoch columns.

    The lane standard is the platform's (``lanes`` table, hours; in natural days rounded up)
    where given, else the rule in data/transit_standards.yaml.
    """
    hour = 3600.0
    fallback = transit_standard_days(t.origin_province, t.origin_city, t.dest_province, t.dest_city)
    standard_h = t.lane_hours.coalesce(fallback.cast("float64") * 24.0)
    standard_days = (standard_h / 24.0).ceil().cast("int64")
    transit_days = _day(t.signed_s) - _day(t.pickup_s)  # pickup day not counted
    pay_to_pickup = (t.pickup_s - t.pay_s) / hour
    ship_to_pickup = (t.pickup_s - t.ship_s) / hour
    anchor = t.ship_s.coalesce(t.pickup_s)  # governance weeks are read on the shipping time
    derived = t.mutate(
        shipped=t.ship_s.notnull() | t.pickup_s.notnull(),
        pickup_from_pay_h=pay_to_pickup,
        pickup_from_ship_h=ship_to_pickup,
        transit_h=(t.signed_s - t.pickup_s) / hour,
        # pickup → signed, or → the last scan for a parcel that never arrived (settlement model)
        elapsed_h=(t.signed_s.coalesce(t.last_scan_s) - t.pickup_s) / hour,
        picked_24h=(pay_to_pickup <= 24).fill_null(False),
        picked_36h=(pay_to_pickup <= 36).fill_null(False),
        picked_48h=(pay_to_pickup <= 48).fill_null(False),
        picked_24h_ship=(ship_to_pickup <= 24).fill_null(False),
        standard_h=standard_h,
        standard_days=standard_days,
        on_time=ibis.ifelse(t.signed_s.notnull(), transit_days <= standard_days, ibis.null()),
        anchor_s=anchor,
        week_no=((anchor + BEIJING_OFFSET_S + 3 * DAY_S) / (7 * DAY_S)).floor().cast("int64"),
    )
    return derived.drop("lane_hours")


def load(path: Path) -> ShipmentSource:
    """Read a facts directory (lvyue.facts) into the shipments expression; ``lanes`` (the
    platform's lane standards) and ``conversion`` (visitors and buyers per merchant) tables,
    as the simulator writes them, are used when present."""
    from lvyue.facts import load_facts

    facts = load_facts(path)
    tables = {
        "orders": facts.orders,
        "tracking": facts.tracking,
        "lanes": _read_optional(path, "lanes"),
        "conversion": _read_optional(path, "conversion"),
    }
    return build(tables, facts.merchants)


def _read_optional(path: Path, name: str) -> pa.Table | None:
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    try:
        if (path / f"{name}.parquet").exists():
            return pq.read_table(path / f"{name}.parquet")
        if (path / f"{name}.csv").exists():
            return pcsv.read_csv(path / f"{name}.csv")
    except (pa.ArrowInvalid, OSError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DiagnosisError(f"{path / name}: unreadable ({first})") from None
    return None


def register(table: pa.Table, name: str, backend: Any = None) -> ir.Table:
    """An Arrow table as an Ibis table: an in-memory table (DuckDB, zero copy) or, on Spark, a
    temporary view made straight from Arrow (Ibis's own path goes through pandas, which turns
    null strings into the text 'NaN')."""
    if backend is None or backend.name != "pyspark":
        return ibis.memtable(table)
    backend._session.createDataFrame(table).createOrReplaceTempView(name)
    return backend.table(name)


def build(
    facts: Mapping[str, pa.Table | None], merchants: pa.Table | None = None, backend: Any = None
) -> ShipmentSource:
    """The shipments expression over Arrow tables; ``backend`` only matters for Spark."""
    orders = facts.get("orders")
    if orders is None:
        raise DiagnosisError("facts: the orders table is required")
    o = register(orders_arrow(orders), "lvyue_orders", backend)
    tr = register(tracking_arrow(facts.get("tracking")), "lvyue_tracking", backend)
    lanes = register(lanes_arrow(facts.get("lanes")), "lvyue_lanes", backend)
    merchants = merchants if merchants is not None else facts.get("merchants")
    return ShipmentSource(
        shipments=shipments_expr(o, tr, lanes),
        merchants=merchants if merchants is not None else pa.table({"merchant_id": []}),
        conversion=facts.get("conversion"),
    )

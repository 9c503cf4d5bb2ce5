"""One order's facts, as the online path reads them (built from a Facts directory or a store)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from lvyue.engine import clocks as ck
from lvyue.facts import TIME_TYPE, Facts
from lvyue.model.enums import MerchantType, ShipMode
from lvyue.rulebook.context import FLAGS


@dataclass(frozen=True)
class TrackingEvent:
    time: datetime
    kind: str


@dataclass(frozen=True)
class AfterSale:
    aftersale_id: str
    type: str
    created_at: datetime
    merchant_handled_at: datetime | None = None
    return_shipped_at: datetime | None = None
    merchant_received_at: datetime | None = None
    return_signed_at: datetime | None = None
    refunded_at: datetime | None = None
    merchant_decision: str | None = None  # agreed | rejected (None: not recorded)


@dataclass(frozen=True)
class Report:
    report_id: str
    merchant_id: str
    status: str
    new_deadline: datetime | None = None


@dataclass(frozen=True)
class Inspection:
    merchant_id: str
    result: str
    inspected_at: datetime | None = None


@dataclass(frozen=True)
class OrderFacts:
    """Everything the checks read about one order.

    ``code_shipments`` are (ship_time, order_id) of every order that shipped with this order's
    inspection code (itself included): BT-10 reuse needs to know who bound it first.
    """

    order_id: str
    merchant_id: str
    merchant_type: MerchantType
    category: str
    ship_mode: ShipMode
    pay_time: datetime
    promised_ship_time: datetime | None = None
    delayed_shipping: bool = False
    ship_time: datetime | None = None
    confirmed_receipt_time: datetime | None = None
    inspection_code: str | None = None
    flags: frozenset[str] = frozenset()
    tracking: tuple[TrackingEvent, ...] = ()
    after_sales: tuple[AfterSale, ...] = ()
    reports: tuple[Report, ...] = ()
    inspection: Inspection | None = None
    code_shipments: tuple[tuple[datetime, str], ...] = ()
    agreed_ship_time: datetime | None = None  # SF-1 双方另有约定
    activity: str | None = None  # SF-2 platform festival activity
    activity_ship_deadline: datetime | None = None  # SF-2 the activity's latest ship time
    cross_border_mode: str | None = None  # SF-5 overseas_consolidation | bbc_bonded
    penalty_settlement_time: datetime | None = None  # VF-6 the 延长账期 penalty's settlement
    # the order whose earlier shipment claimed this order's (carrier, waybill), if any
    waybill_claimed_by: str | None = None


def iter_order_facts(facts: Facts, order_ids: set[str] | None = None) -> Iterator[OrderFacts]:
    """OrderFacts for every order of ``facts`` (or those in ``order_ids``), in file order."""
    derived = (ck.SHIP_TIME_AGREED, ck.FESTIVAL_ACTIVITY)  # read off other facts, not columns
    flags = [f for f in FLAGS if f in facts.orders.column_names
             and f not in _ORDER_COLUMNS and f not in derived]  # fmt: skip
    orders = _rows(facts.orders, _ORDER_COLUMNS + flags)
    wanted = [o for o in orders if order_ids is None or o["order_id"] in order_ids]
    waybills = {(o["carrier"], o["waybill"]) for o in wanted if o["waybill"] is not None}
    tracking: dict[tuple[str | None, str | None], list[TrackingEvent]] = defaultdict(list)
    for t in _rows(facts.tracking, ["carrier", "waybill", "time", "kind"]):
        key = (t["carrier"], t["waybill"])
        if key in waybills:
            tracking[key].append(TrackingEvent(t["time"], t["kind"]))
    ids = {o["order_id"] for o in wanted}
    after_sales: dict[str, list[AfterSale]] = defaultdict(list)
    for a in _rows(facts.after_sales, _AFTERSALE_COLUMNS):
        if a["order_id"] in ids:
            after_sales[a["order_id"]].append(_after_sale(a))
    reports = _reports_by_order(facts, ids)
    inspections = {
        i["inspection_code"]: Inspection(i["merchant_id"], i["result"], i["inspected_at"])
        for i in _rows(facts.inspections, ["inspection_code", "merchant_id", "result",
                                           "inspected_at"])
    }  # fmt: skip
    shipments: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for o in orders:
        if o["inspection_code"] is not None and o["ship_time"] is not None:
            shipments[o["inspection_code"]].append((o["ship_time"], o["order_id"]))
    first_ship = _first_shipments(orders)
    for o in wanted:
        owns = _owns_waybill(o, first_ship)
        scans = tracking if owns else {}
        claimed_by = None if owns else first_ship[(o["carrier"], o["waybill"])][1]
        yield replace(
            _order_facts(o, scans, after_sales, reports, inspections, shipments),
            waybill_claimed_by=claimed_by,
        )


def _first_shipments(orders: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[datetime, str]]:
    """The first (ship time, order) of each (carrier, waybill): a parcel is one shipment's."""
    first: dict[tuple[str, str], tuple[datetime, str]] = {}
    for o in orders:
        key, shipped = (o["carrier"], o["waybill"]), o["ship_time"]
        if None in key or shipped is None:
            continue
        if key not in first or (shipped, o["order_id"]) < first[key]:
            first[key] = (shipped, o["order_id"])
    return first


def _owns_waybill(
    o: dict[str, Any], first_ship: dict[tuple[str, str], tuple[datetime, str]]
) -> bool:
    """Scans credit only the order that shipped the waybill first (expressions: the same): an
    order reusing another's waybill gets no pickup from it (虚假发货 when none comes), and a
    waybill_reuse verdict (checks.Claim). Orders shipped in the same second share it."""
    first = first_ship.get((o["carrier"], o["waybill"]))
    return first is None or o["ship_time"] == first[0]


_ORDER_COLUMNS = [
    "order_id", "merchant_id", "merchant_type", "category", "ship_mode", "pay_time",
    "promised_ship_time", "delayed_shipping", "ship_time", "carrier", "waybill",
    "confirmed_receipt_time", "inspection_code", "agreed_ship_time", "activity",
    "activity_ship_deadline", "cross_border_mode", "penalty_settlement_time",
]  # fmt: skip
_AFTERSALE_COLUMNS = [
    "aftersale_id", "order_id", "type", "created_at", "merchant_handled_at",
    "return_shipped_at", "merchant_received_at", "return_signed_at", "refunded_at",
    "merchant_decision",
]  # fmt: skip


def _rows(table: pa.Table, columns: list[str]) -> list[dict[str, Any]]:
    """Rows as dicts; times through int64 (pyarrow's zoned datetimes are ~50x slower)."""
    data: dict[str, list[Any]] = {}
    for name in columns:
        column = table[name]
        if pa.types.is_timestamp(column.type):
            seconds = column.cast(TIME_TYPE).cast(pa.int64()).to_pylist()
            data[name] = [None if x is None else _EPOCH + timedelta(seconds=x) for x in seconds]
        else:
            data[name] = column.to_pylist()
    return [dict(zip(columns, values, strict=True)) for values in zip(*data.values(), strict=True)]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _order_facts(
    o: dict[str, Any],
    tracking: dict[tuple[str | None, str | None], list[TrackingEvent]],
    after_sales: dict[str, list[AfterSale]],
    reports: dict[str, list[Report]],
    inspections: dict[str, Inspection],
    shipments: dict[str, list[tuple[datetime, str]]],
) -> OrderFacts:
    code = o["inspection_code"]
    return OrderFacts(
        order_id=o["order_id"],
        merchant_id=o["merchant_id"],
        merchant_type=MerchantType(o["merchant_type"]),
        category=o["category"],
        ship_mode=ShipMode(o["ship_mode"]),
        pay_time=o["pay_time"],
        promised_ship_time=o["promised_ship_time"],
        delayed_shipping=bool(o["delayed_shipping"]),
        ship_time=o["ship_time"],
        confirmed_receipt_time=o["confirmed_receipt_time"],
        inspection_code=code,
        flags=frozenset(f for f in FLAGS if o.get(f)),
        tracking=tuple(tracking.get((o["carrier"], o["waybill"]), ())),
        after_sales=tuple(after_sales.get(o["order_id"], ())),
        reports=tuple(reports.get(o["order_id"], ())),
        inspection=inspections.get(code) if code is not None else None,
        code_shipments=tuple(shipments.get(code, ())) if code is not None else (),
        agreed_ship_time=o["agreed_ship_time"],
        activity=o["activity"],
        activity_ship_deadline=o["activity_ship_deadline"],
        cross_border_mode=o["cross_border_mode"],
        penalty_settlement_time=o["penalty_settlement_time"],
    )


def order_facts(facts: Facts, order_id: str) -> OrderFacts | None:
    return next(iter_order_facts(facts, {order_id}), None)


def _after_sale(row: dict[str, Any]) -> AfterSale:
    return AfterSale(
        aftersale_id=row["aftersale_id"],
        type=row["type"],
        created_at=row["created_at"],
        merchant_handled_at=row["merchant_handled_at"],
        return_shipped_at=row["return_shipped_at"],
        merchant_received_at=row["merchant_received_at"],
        return_signed_at=row["return_signed_at"],
        refunded_at=row["refunded_at"],
        merchant_decision=row["merchant_decision"],
    )


def _reports_by_order(facts: Facts, ids: set[str]) -> dict[str, list[Report]]:
    out: dict[str, list[Report]] = defaultdict(list)
    columns = ["report_id", "merchant_id", "status", "order_ids", "new_deadline"]
    for r in _rows(facts.reports, columns):
        for order_id in split_ids(r["order_ids"]):
            if order_id in ids:
                out[order_id].append(
                    Report(r["report_id"], r["merchant_id"], r["status"], r["new_deadline"])
                )
    return out


def split_ids(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(";") if part.strip()]

"""One order's facts, as the online path reads them (built from a Facts directory or a store).

The records are the facts format's own (``model.rows``, ``model.tracking``): the order's row,
its scans, its after-sales requests and its inspection code; this module only joins them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from lvyue.facts import TIME_TYPE, Facts
from lvyue.model.enums import (
    AfterSaleIntervention,
    AfterSaleReason,
    AfterSaleType,
    InspectionResult,
    MerchantDecision,
    MerchantType,
    ShipMode,
    TrackingKind,
)
from lvyue.model.rows import (
    AfterSaleRow,
    FactsRow,
    InspectionRow,
    OrderRow,
    ReportRow,
    TrackingRow,
    optional_columns,
)
from lvyue.model.tracking import TrackingEvent
from lvyue.rulebook.context import FLAGS


@dataclass(frozen=True)
class Report:
    """A report-centre decision on the order (SF-8): its status, and the new deadline."""

    report_id: str
    merchant_id: str
    status: str
    new_deadline: datetime | None = None


@dataclass(frozen=True)
class OrderFacts:
    """Everything the checks read about one order: its facts row and what joins to it.

    ``flags`` are the rulebook flags the order carries (its flag columns, and in the service
    the merchant's established store). ``code_shipments`` are (ship_time, order_id) of every
    order that shipped with this order's inspection code (itself included): BT-10 reuse needs
    to know who bound it first.
    """

    order: OrderRow
    flags: frozenset[str] = frozenset()
    tracking: tuple[TrackingEvent, ...] = ()
    after_sales: tuple[AfterSaleRow, ...] = ()
    reports: tuple[Report, ...] = ()
    inspection: InspectionRow | None = None
    code_shipments: tuple[tuple[datetime, str], ...] = ()
    # the order whose earlier shipment claimed this order's (carrier, waybill), if any
    waybill_claimed_by: str | None = None


def _read(model: type[FactsRow], unread: tuple[str, ...] = ()) -> tuple[str, ...]:
    return tuple(n for n in model.model_fields if n not in unread)


# The facts columns the engine reads (both paths): its row model's fields but those no check
# reads. Optional ones a file leaves out read as null (the facts reader fills them).
COLUMNS: dict[str, tuple[str, ...]] = {
    "orders": _read(OrderRow, ("product_id", "promotion_id")),  # penalties, creators read them
    "tracking": _read(TrackingRow, optional_columns(TrackingRow)),  # not location, text
    "after_sales": _read(AfterSaleRow),
    "reports": _read(ReportRow, ("type", "period_start", "period_end", "regions")),
    "inspections": _read(InspectionRow),
}


def iter_order_facts(facts: Facts, order_ids: set[str] | None = None) -> Iterator[OrderFacts]:
    """OrderFacts for every order of ``facts`` (or those in ``order_ids``), in file order."""
    flags = [f for f in FLAGS if f in COLUMNS["orders"]]  # the rest are derived (clocks)
    orders = _rows(facts.orders, COLUMNS["orders"])
    wanted = [o for o in orders if order_ids is None or o["order_id"] in order_ids]
    waybills = {(o["carrier"], o["waybill"]) for o in wanted if o["waybill"] is not None}
    tracking: dict[tuple[str | None, str | None], list[TrackingEvent]] = defaultdict(list)
    for t in _rows(facts.tracking, COLUMNS["tracking"]):
        key = (t["carrier"], t["waybill"])
        if key in waybills:
            t["kind"] = TrackingKind(t["kind"])
            tracking[key].append(TrackingEvent(**t))
    ids = {o["order_id"] for o in wanted}
    after_sales: dict[str, list[AfterSaleRow]] = defaultdict(list)
    for a in _rows(facts.after_sales, COLUMNS["after_sales"]):
        if a["order_id"] in ids:
            after_sales[a["order_id"]].append(after_sale(a))
    reports = _reports_by_order(facts, ids)
    inspections = {
        i["inspection_code"]: inspection(i)
        for i in _rows(facts.inspections, COLUMNS["inspections"])
    }
    shipments: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for o in orders:
        if o["inspection_code"] is not None and o["ship_time"] is not None:
            shipments[o["inspection_code"]].append((o["ship_time"], o["order_id"]))
    first_ship = _first_shipments(orders)
    for o in wanted:
        owns = _owns_waybill(o, first_ship)
        code = o["inspection_code"]
        yield OrderFacts(
            order=order_row(o),
            flags=frozenset(f for f in flags if o[f]),
            tracking=tuple(tracking.get((o["carrier"], o["waybill"]), ())) if owns else (),
            after_sales=tuple(after_sales.get(o["order_id"], ())),
            reports=tuple(reports.get(o["order_id"], ())),
            inspection=inspections.get(code) if code is not None else None,
            code_shipments=tuple(shipments.get(code, ())) if code is not None else (),
            waybill_claimed_by=None if owns else first_ship[(o["carrier"], o["waybill"])][1],
        )


def order_row(values: dict[str, Any]) -> OrderRow:
    """An order's facts row from values already checked (the facts reader's or the store's):
    not validated again, its enums typed."""
    values = {**values, "merchant_type": MerchantType(values["merchant_type"]),
              "ship_mode": ShipMode(values["ship_mode"])}  # fmt: skip
    return OrderRow.model_construct(**values)


def after_sale(values: dict[str, Any]) -> AfterSaleRow:
    """An after-sales facts row from values already checked, its enums typed."""
    decision, reason = values.get("merchant_decision"), values.get("reason")
    intervention = values.get("intervention")
    return AfterSaleRow.model_construct(**{
        **values,
        "type": AfterSaleType(values["type"]),
        "merchant_decision": None if decision is None else MerchantDecision(decision),
        "reason": None if reason is None else AfterSaleReason(reason),
        "intervention": None if intervention is None else AfterSaleIntervention(intervention),
    })  # fmt: skip


def inspection(values: dict[str, Any]) -> InspectionRow:
    """An inspection code's facts row from values already checked, its result typed."""
    return InspectionRow.model_construct(**{**values, "result": InspectionResult(values["result"])})


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


def _rows(table: pa.Table, columns: tuple[str, ...]) -> list[dict[str, Any]]:
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


def order_facts(facts: Facts, order_id: str) -> OrderFacts | None:
    return next(iter_order_facts(facts, {order_id}), None)


def _reports_by_order(facts: Facts, ids: set[str]) -> dict[str, list[Report]]:
    out: dict[str, list[Report]] = defaultdict(list)
    for r in _rows(facts.reports, COLUMNS["reports"]):
        for order_id in split_ids(r["order_ids"]):
            if order_id in ids:
                out[order_id].append(
                    Report(r["report_id"], r["merchant_id"], r["status"], r["new_deadline"])
                )
    return out


def split_ids(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(";") if part.strip()]

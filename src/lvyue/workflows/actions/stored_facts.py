"""Stored facts: orders in the store read back as ``lvyue.engine.order.OrderFacts``.

Reports and inspection codes come from the workflow tables, so an approved report reaches
the verdicts only through the engine (SF-8), never by editing them here. ``facts_for`` loads
many orders with one query per table (sweeps), ``order_facts`` one (the API).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from lvyue.engine.clocks import penalty_date, reaches
from lvyue.engine.order import OrderFacts, after_sale, inspection, order_row
from lvyue.engine.order import Report as ReportFacts
from lvyue.model import InstantError, TrackingEvent, parse_instant
from lvyue.model.cells import cell_is_true
from lvyue.model.enums import TrackingKind
from lvyue.model.rows import EXTRA_FACTS, AfterSaleRow, InspectionRow, OrderRow
from lvyue.model.schema import ORDERS, Kind
from lvyue.store.refusals import AFTER_SALE_COLUMNS, ORDER_COLUMNS
from lvyue.store.scans import scans_of
from lvyue.store.tables import AfterSale, Merchant, Order, Shipment
from lvyue.store.workflow_tables import InspectionCode, Measure, Report
from lvyue.workflows import config
from lvyue.workflows.actions.orders import context_of
from lvyue.workflows.measures import MeasureKind
from lvyue.workflows.reports import new_deadline

CHUNK = 500  # ids per IN (...) query
EXTENDED_DAYS = "measures.extended_settlement_days"  # MS-8 (operator default)
_PENALTY_FLAG = frozenset({"settlement_extended_penalty"})  # VF-6 / VF-6a's scope flag
_REPORT_STATES = ("approved", "rejected", "pending")


def order_facts(session: Session, order: Order) -> OrderFacts:
    """Everything the engine's checks read about ``order``, from the store."""
    return facts_for(session, [order])[0]


def facts_for(session: Session, orders: Sequence[Order]) -> list[OrderFacts]:
    """``order_facts`` of many orders, in their order."""
    out: list[OrderFacts] = []
    for start in range(0, len(orders), CHUNK):
        out.extend(_chunk(session, orders[start : start + CHUNK]))
    return out


def _chunk(session: Session, orders: Sequence[Order]) -> list[OrderFacts]:
    ids = [o.order_id for o in orders]
    shipments = {
        s.order_id: s for s in session.scalars(select(Shipment).where(Shipment.order_id.in_(ids)))
    }
    scans = _tracking(session, shipments.values())
    codes = {s.inspection_code for s in shipments.values() if s.inspection_code}
    issued: dict[str, InspectionCode] = {}
    bound: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    if codes:  # an empty IN scans the whole table on SQLite (no constant folding): skip it
        query = select(InspectionCode).where(InspectionCode.code.in_(codes))
        issued = {c.code: c for c in session.scalars(query)}
        for s in session.scalars(select(Shipment).where(Shipment.inspection_code.in_(codes))):
            bound[s.inspection_code or ""].append((s.ship_time, s.order_id))
    requests: dict[str, list[AfterSale]] = defaultdict(list)
    for r in session.scalars(select(AfterSale).where(AfterSale.order_id.in_(ids))):
        requests[r.order_id].append(r)
    merchant_ids = {o.merchant_id for o in orders}
    established = {
        m.merchant_id
        for m in session.scalars(select(Merchant).where(Merchant.merchant_id.in_(merchant_ids)))
        if m.established_store
    }
    reports = _reports(session, merchant_ids, set(ids))
    extended = _extended_settlements(session, merchant_ids)
    facts = []
    for order in orders:
        shipment = shipments.get(order.order_id)
        code = shipment.inspection_code if shipment else None
        found = issued.get(code) if code else None
        ctx = context_of(order, shipment, order.merchant_id in established)
        row = _penalised(_order_row(order, shipment), extended.get(order.merchant_id, ()))
        facts.append(
            OrderFacts(
                order=row,
                flags=ctx.flags | _PENALTY_FLAG if row.settlement_extended_penalty else ctx.flags,
                tracking=scans.get((shipment.carrier, shipment.waybill), ()) if shipment else (),
                after_sales=tuple(_after_sale(r) for r in requests[order.order_id]),
                reports=tuple(reports[order.order_id]),
                inspection=_inspection(found) if found else None,
                code_shipments=tuple(bound[code]) if code else (),
            )
        )
    return facts


# Where the store keeps each OrderRow field: the orders table's columns (ORDER_COLUMNS), the
# shipment's, or ``extra`` (EXTRA_FACTS, JSON-safe: times as text, flags as booleans).
_SHIPMENT_COLUMNS = sorted(
    {c.name for c in Shipment.__table__.columns}
    & set(OrderRow.model_fields) - {"order_id", "merchant_id"}
)
_EXTRA_KINDS = {name: ORDERS.column(name) for name in EXTRA_FACTS}


def _order_row(order: Order, shipment: Shipment | None) -> OrderRow:
    """The order's facts row as recorded: its columns, its shipment's, and ``extra``."""
    values: dict[str, Any] = {n: getattr(order, n) for n in ("order_id", *ORDER_COLUMNS)}
    values.update({n: getattr(shipment, n) if shipment else None for n in _SHIPMENT_COLUMNS})
    for name, column in _EXTRA_KINDS.items():
        kind = column.kind if column is not None else Kind.TEXT
        if kind is Kind.TIME:
            values[name] = _extra_instant(order, name)
        elif kind is Kind.BOOL:
            values[name] = (
                None if order.extra.get(name) is None else cell_is_true(order.extra[name])
            )
        else:
            values[name] = _extra_text(order, name)
    return order_row(values)


def _extended_settlements(
    session: Session, merchant_ids: set[str]
) -> dict[str, list[tuple[datetime, float]]]:
    """Per merchant, the start and MS-8's days of each extended settlement recorded against
    its store (``extend_settlement``, an operator's or the rules', lifted or not)."""
    query = select(Measure.merchant_id, Measure.created_at).where(
        Measure.merchant_id.in_(merchant_ids),
        Measure.kind == MeasureKind.EXTEND_SETTLEMENT.value,
        Measure.product_id.is_(None),
    )
    out: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    found = list(session.execute(query))
    if found:  # the indicators (Ibis) only where a measure is recorded
        from lvyue.indicators.thresholds import cited
    for merchant_id, start in found:
        days = cited(config.rules(), EXTENDED_DAYS, start).value
        out[merchant_id or ""].append((start, days))  # never empty: merchant_ids in the query
    return out


def _penalised(row: OrderRow, extended: Iterable[tuple[datetime, float]]) -> OrderRow:
    """VF-6 "(因违规产生延长账期处罚的订单除外)": the order an extended settlement reaches carries
    the penalty and VF-6a's date (the earliest measure that reaches it), as the batch's
    ``indicators.measures.settlement_penalties`` writes them; a recorded penalty stands. A
    feed's ``false`` records none (the batch's ``apply_penalties`` reaches it too)."""
    if row.settlement_extended_penalty or row.penalty_settlement_time is not None:
        return row
    receipt = row.confirmed_receipt_time
    starts = sorted((s, d) for s, d in extended if reaches(receipt, s))
    if not starts:
        return row
    date = penalty_date(receipt, starts[0][1])
    return row.model_copy(
        update={"settlement_extended_penalty": True, "penalty_settlement_time": date}
    )


def _extra_text(order: Order, name: str) -> str | None:
    value = order.extra.get(name)
    return str(value) if value not in (None, "") else None


def _extra_instant(order: Order, name: str) -> datetime | None:
    """An instant kept in ``extra`` (ISO text, checked by OrderRow when recorded); text an
    older version kept unchecked and that does not parse is no agreement, not a guess."""
    text = _extra_text(order, name)
    try:
        return parse_instant(text) if text is not None else None
    except InstantError:
        return None


def _tracking(
    session: Session, shipments: Iterable[Shipment]
) -> dict[tuple[str, str], tuple[TrackingEvent, ...]]:
    found: dict[tuple[str, str], list[Row[Any]]] = defaultdict(list)
    # plain rows, not ORM objects: an order judged again can have hundreds of scans, and
    # building an ORM instance for each was a third of a worker's round (profiled)
    for row in scans_of(session, ((s.carrier, s.waybill) for s in shipments)):
        found[(row.carrier, row.waybill)].append(row)
    return {
        key: tuple(
            _scan(r) for r in sorted(rows, key=lambda r: (r.time, r.kind))
        )  # the key's order
        for key, rows in found.items()
    }


def _reports(
    session: Session, merchant_ids: set[str], order_ids: set[str]
) -> dict[str, list[ReportFacts]]:
    out: dict[str, list[ReportFacts]] = defaultdict(list)
    query = select(Report).where(
        Report.merchant_id.in_(merchant_ids), Report.state.in_(_REPORT_STATES)
    )
    for r in session.scalars(query):
        fact = ReportFacts(r.report_id, r.merchant_id, r.state, new_deadline(r.latest_ship_date))
        for order_id in set(r.order_ids) & order_ids:
            out[order_id].append(fact)
    return out


def _after_sale(r: AfterSale) -> AfterSaleRow:
    return after_sale({n: getattr(r, n) for n in AFTER_SALE_COLUMNS})


def _inspection(code: InspectionCode) -> InspectionRow:
    """An issued code is a passed inspection (BTAS issues codes only on a pass)."""
    return inspection({"inspection_code": code.code, "merchant_id": code.merchant_id,
                       "result": "pass", "inspected_at": code.issued_at})  # fmt: skip


_KINDS = {kind.value: kind for kind in TrackingKind}  # the enum's own lookup, without its call


def _scan(r: Row[Any]) -> TrackingEvent:
    kind = _KINDS.get(r.kind) or TrackingKind(r.kind)  # an unknown kind raises as before
    return TrackingEvent(r.carrier, r.waybill, r.time, kind, r.location or "", r.text or "")

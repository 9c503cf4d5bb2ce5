"""Stored facts: orders in the store read back as ``lvyue.engine.order.OrderFacts``.

Reports and inspection codes come from the workflow tables, so an approved report reaches
the verdicts only through the engine (SF-8), never by editing them here. ``facts_for`` loads
many orders with one query per table (sweeps), ``order_facts`` one (the API).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lvyue.engine.order import AfterSale as AfterSaleFacts
from lvyue.engine.order import Inspection as InspectionFacts
from lvyue.engine.order import OrderFacts, TrackingEvent
from lvyue.engine.order import Report as ReportFacts
from lvyue.model import InstantError, parse_instant
from lvyue.store.tables import AfterSale, Merchant, Order, Shipment
from lvyue.store.tables import TrackingEvent as TrackingRow
from lvyue.store.workflow_tables import InspectionCode, Report
from lvyue.workflows.actions.orders import context_of
from lvyue.workflows.reports import new_deadline

CHUNK = 500  # ids per IN (...) query
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
    facts = []
    for order in orders:
        shipment = shipments.get(order.order_id)
        code = shipment.inspection_code if shipment else None
        found = issued.get(code) if code else None
        ctx = context_of(order, shipment, order.merchant_id in established)
        facts.append(
            OrderFacts(
                order_id=order.order_id,
                merchant_id=order.merchant_id,
                merchant_type=ctx.merchant_type,
                category=order.category,
                ship_mode=ctx.ship_mode,
                pay_time=order.pay_time,
                promised_ship_time=order.promised_ship_time,
                delayed_shipping=order.delayed_shipping,
                ship_time=shipment.ship_time if shipment else None,
                confirmed_receipt_time=order.confirmed_receipt_time,
                inspection_code=code,
                flags=ctx.flags,
                tracking=scans.get((shipment.carrier, shipment.waybill), ()) if shipment else (),
                after_sales=tuple(_after_sale(r) for r in requests[order.order_id]),
                reports=tuple(reports[order.order_id]),
                inspection=InspectionFacts(found.merchant_id, "pass", found.issued_at)
                if found
                else None,
                code_shipments=tuple(bound[code]) if code else (),
                agreed_ship_time=_extra_instant(order, "agreed_ship_time"),
                activity=_extra_text(order, "activity"),
                activity_ship_deadline=_extra_instant(order, "activity_ship_deadline"),
                cross_border_mode=_extra_text(order, "cross_border_mode"),
                penalty_settlement_time=_extra_instant(order, "penalty_settlement_time"),
            )
        )
    return facts


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
    keys = {(s.carrier, s.waybill) for s in shipments}
    found: dict[tuple[str, str], list[TrackingRow]] = defaultdict(list)
    waybills = sorted({w for _, w in keys})
    if not waybills:  # an empty IN scans the whole table on SQLite
        return {}
    for row in session.scalars(select(TrackingRow).where(TrackingRow.waybill.in_(waybills))):
        if (row.carrier, row.waybill) in keys:
            found[(row.carrier, row.waybill)].append(row)
    return {
        key: tuple(TrackingEvent(r.time, r.kind) for r in sorted(rows, key=lambda r: r.time))
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


def _after_sale(r: AfterSale) -> AfterSaleFacts:
    return AfterSaleFacts(
        r.aftersale_id,
        r.type,
        r.created_at,
        r.merchant_handled_at,
        r.return_shipped_at,
        r.merchant_received_at,
        r.return_signed_at,
        r.refunded_at,
        r.merchant_decision,
    )

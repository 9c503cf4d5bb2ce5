"""One stored order as the engine's online path reads it (``lvyue.engine.order.OrderFacts``).

Reports and inspection codes come from the workflow tables, so an approved report reaches
the verdicts only through the engine (SF-8), never by editing them here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lvyue.engine.order import AfterSale as AfterSaleFacts
from lvyue.engine.order import Inspection as InspectionFacts
from lvyue.engine.order import OrderFacts, TrackingEvent
from lvyue.engine.order import Report as ReportFacts
from lvyue.store.tables import AfterSale, Order, Shipment
from lvyue.store.tables import TrackingEvent as TrackingRow
from lvyue.store.workflow_tables import InspectionCode, Report
from lvyue.workflows.actions.orders import order_context
from lvyue.workflows.reports import new_deadline


def order_facts(session: Session, order: Order) -> OrderFacts:
    """Everything the engine's checks read about ``order``, from the store."""
    ctx = order_context(session, order)
    shipment = session.get(Shipment, order.order_id)
    tracking: tuple[TrackingEvent, ...] = ()
    code_rows: tuple[tuple[datetime, str], ...] = ()
    inspection = None
    if shipment is not None:
        scans = session.scalars(
            select(TrackingRow).where(
                TrackingRow.carrier == shipment.carrier, TrackingRow.waybill == shipment.waybill
            )
        )
        tracking = tuple(TrackingEvent(s.time, s.kind) for s in sorted(scans, key=lambda s: s.time))
        if shipment.inspection_code:
            code = session.scalar(
                select(InspectionCode).where(InspectionCode.code == shipment.inspection_code)
            )
            if code is not None:
                inspection = InspectionFacts(code.merchant_id, "pass", code.issued_at)
            code_rows = tuple(
                (s.ship_time, s.order_id)
                for s in session.scalars(
                    select(Shipment).where(Shipment.inspection_code == shipment.inspection_code)
                )
            )
    requests = session.scalars(select(AfterSale).where(AfterSale.order_id == order.order_id))
    reports = session.scalars(select(Report).where(Report.merchant_id == order.merchant_id))
    return OrderFacts(
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
        inspection_code=shipment.inspection_code if shipment else None,
        flags=ctx.flags,
        tracking=tracking,
        after_sales=tuple(
            AfterSaleFacts(
                r.aftersale_id,
                r.type,
                r.created_at,
                r.merchant_handled_at,
                r.return_shipped_at,
                r.merchant_received_at,
                r.return_signed_at,
                r.refunded_at,
            )
            for r in requests
        ),
        reports=tuple(
            ReportFacts(r.report_id, r.merchant_id, r.state, new_deadline(r.latest_ship_date))
            for r in reports
            if order.order_id in r.order_ids and r.state in ("approved", "rejected", "pending")
        ),
        inspection=inspection,
        code_shipments=code_rows,
    )

"""订单 › 履约看板: orders with every check's deadline and clause, the at-risk list, one
order's explanation, and shipping (with the BTAS code bound when the category needs it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from pydantic import ValidationError
from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from lvyue.api.auth import own_order
from lvyue.api.deps import SessionDep
from lvyue.api.routes_evidence import order_file
from lvyue.api.routes_workflows.common import actor_of
from lvyue.api.routes_workflows.inspection import ShipWithCodeIn
from lvyue.engine.explain import explain_order
from lvyue.engine.online import DEFAULT_HORIZON, evaluate_order
from lvyue.engine.verdict import Verdict
from lvyue.model.enums import Check, VerdictStatus
from lvyue.store.tables import Order, Shipment
from lvyue.web.flash import back_to, flash_message
from lvyue.web.lists import PAGE_SIZE, Sort, after, export, page_of
from lvyue.web.pages.common import form_errors, refusal_text, scope_of
from lvyue.web.render import page
from lvyue.web.security import Caller, acting, need, now_of
from lvyue.workflows import config
from lvyue.workflows import evidence as bt9
from lvyue.workflows.actions import inspection
from lvyue.workflows.actions.common import NotFound
from lvyue.workflows.actions.stored_facts import facts_for, order_facts
from lvyue.workflows.machine import Refusal

router = APIRouter()
View = Annotated[Caller, Depends(need("orders:view"))]
AT_RISK_SHOWN = 30


def verdicts_of(session: Session, orders: Sequence[Order], now: datetime) -> list[list[Verdict]]:
    """The engine's verdicts on each order now (the API's ``/workflows/orders/{id}/verdicts``):
    the worker's live verdicts where they are still current (``store.live.current``), the
    online evaluator for the rest — the same answer, without judging every order per page."""
    from lvyue.store import live

    kept = live.current(session, [o.order_id for o in orders], now)
    unjudged = [o for o in orders if o.order_id not in kept]
    rules = config.rules()
    judged = {
        facts.order.order_id: evaluate_order(facts, now, rules)
        for facts in facts_for(session, unjudged)
    }
    return [
        [_verdict(row) for row in kept[o.order_id]] if o.order_id in kept else judged[o.order_id]
        for o in orders
    ]


def _verdict(row: Row[Any]) -> Verdict:
    return Verdict(
        row.order_id, row.aftersale_id, row.merchant_id, Check(row.check),
        VerdictStatus(row.status), row.deadline, row.done_at, row.clauses, row.reason,
    )  # fmt: skip


def _orders_query(
    scope: str | None, shipped: str, sort: str, cursor: str | None
) -> tuple[Any, Sort]:
    query = select(Order)
    if scope is not None:
        query = query.where(Order.merchant_id == scope)
    if shipped != "all":
        has = select(Shipment.order_id).where(Shipment.order_id == Order.order_id).exists()
        query = query.where(has if shipped == "yes" else ~has)
    order = Sort(Order.pay_time, Order.order_id, descending=sort != "pay_asc")
    return after(query, order, cursor), order


@router.get("/orders", response_class=HTMLResponse)
def orders_board(
    request: Request,
    session: SessionDep,
    caller: View,
    merchant: Annotated[str | None, Query(max_length=64)] = None,
    shipped: Literal["all", "yes", "no"] = "all",
    sort: Literal["pay_desc", "pay_asc"] = "pay_desc",
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    format: Literal["html", "csv", "xlsx"] = "html",
) -> Response:
    scope = scope_of(caller, merchant or None)
    now = now_of(request)
    query, _ = _orders_query(scope, shipped, sort, cursor)
    if format != "html":
        return _export(session, query, now, format)
    rows = session.scalars(query.limit(PAGE_SIZE + 1)).all()
    shown = page_of(rows, PAGE_SIZE, lambda o: (o.pay_time, o.order_id))
    verdicts = verdicts_of(session, shown.rows, now)
    return page(
        request,
        "orders.html",
        caller,
        title="履约看板",
        orders=list(zip(shown.rows, verdicts, strict=True)),
        next_cursor=shown.next_cursor,
        filters={"merchant": merchant or "", "shipped": shipped, "sort": sort},
        now=now,
    )


def _export(session: Session, query: Any, now: datetime, fmt: str) -> Response:
    from lvyue.web.lists import EXPORT_CAP

    orders = session.scalars(query.limit(EXPORT_CAP)).all()
    rows: list[list[Any]] = []
    for order, verdicts in zip(orders, verdicts_of(session, orders, now), strict=True):
        head: list[Any] = [order.order_id, order.merchant_id, order.category, order.pay_time]
        rows.extend(
            [*head, v.check.value, v.status.value, v.deadline, v.done_at, v.clauses]
            for v in verdicts
        )
        if not verdicts:
            rows.append(head)
    header = ["order_id", "merchant_id", "category", "pay_time (北京时间)", "check", "status",
              "deadline (北京时间)", "done_at (北京时间)", "clauses"]  # fmt: skip
    return export("orders", header, rows, fmt)


@router.get("/orders/at-risk", response_class=HTMLResponse)
def at_risk(
    request: Request,
    session: SessionDep,
    caller: View,
    merchant: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """即将超时, soonest first (htmx): the live verdicts the worker keeps current, by the one
    definition ``GET /at-risk`` and ``lvyue at-risk --database`` use (``store.live``)."""
    from lvyue.store import live

    scope = scope_of(caller, merchant or None)
    rows, total = live.at_risk(
        session, scope, now_of(request), horizon=DEFAULT_HORIZON, limit=AT_RISK_SHOWN
    )
    return page(request, "at_risk.html", caller, items=rows, total=total)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_detail(order_id: str, request: Request, session: SessionDep, caller: View) -> Response:
    order = own_order(session, caller.principal, order_id)  # another merchant's: 404
    return _detail(request, session, caller, order, flash=flash_message(request, caller))


def _detail(
    request: Request,
    session: Session,
    caller: Caller,
    order: Order,
    status_code: int = 200,
    **context: Any,
) -> Response:
    now = now_of(request)
    explained = explain_order(order_facts(session, order), now, config.rules())
    return page(
        request,
        "order.html",
        caller,
        status_code=status_code,
        title=f"订单 {order.order_id}",
        order=order,
        shipment=session.get(Shipment, order.order_id),
        packings=bt9.packings(session, order),
        explained=explained,
        rules=config.rules(),
        **context,
    )


@router.get("/orders/{order_id}/evidence/{sha256}", response_class=StreamingResponse)
def evidence_file(
    order_id: str, sha256: str, session: SessionDep, caller: View
) -> StreamingResponse:
    """A BT-9 packing record of the order (``GET /orders/{id}/evidence/{sha256}``)."""
    return order_file(session, caller.principal, order_id, sha256)


@router.post("/orders/{order_id}/ship", response_class=HTMLResponse)
def ship(
    order_id: str,
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(acting("orders:ship"))],
    carrier: Annotated[str, Form()] = "",
    waybill: Annotated[str, Form()] = "",
    inspection_code: Annotated[str, Form()] = "",
    item_id: Annotated[str, Form()] = "",
) -> Response:
    """绑码发货: the API's ``POST /btas/orders/{id}/ship`` use case, from a form."""
    order = own_order(session, caller.principal, order_id)
    try:
        body = ShipWithCodeIn(
            carrier=carrier,
            waybill=waybill,
            inspection_code=inspection_code or None,
            item_id=item_id or None,
            packing_video=None,
        )
    except ValidationError as error:
        return _detail(request, session, caller, order, 422, ship_error=form_errors(error))
    try:
        inspection.ship_with_code(
            session, config.rules(), config.signer(), order, actor_of(caller.principal),
            now_of(request), code=body.inspection_code, item_id=body.item_id,
            parcel=inspection.Parcel(body.carrier, body.waybill, body.packing_video),
        )  # fmt: skip
        session.commit()
    except (Refusal, NotFound) as error:
        session.rollback()
        return _detail(request, session, caller, order, 409, ship_error=refusal_text(error))
    return back_to(f"/console/orders/{order_id}", caller, done="已发货 Shipped.")

"""BTAS质检: the merchant creates and sends inspection orders; the agency receives, records
the result and returns the sealed item; anyone verifies a code. Codes are bound when the
merchant ships the order (order page, ``inspection.ship_with_code``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lvyue.api.deps import SessionDep
from lvyue.api.routes_workflows.common import actor_of
from lvyue.api.routes_workflows.inspection import (
    InspectionIn,
    ParcelIn,
    ResultIn,
    VerifyIn,
    _inspection_out,
)
from lvyue.model import InspectionResult
from lvyue.store.workflow_tables import Inspection
from lvyue.web.pages.common import form_errors, refusal_text
from lvyue.web.render import page
from lvyue.web.security import Caller, acting, need_any, now_of
from lvyue.workflows import config
from lvyue.workflows.actions import inspection
from lvyue.workflows.actions.common import NotFound
from lvyue.workflows.machine import Refusal

router = APIRouter()
See = Annotated[Caller, Depends(need_any("inspection:manage", "inspection:inspect"))]
Manage = Annotated[Caller, Depends(acting("inspection:manage"))]
Inspect = Annotated[Caller, Depends(acting("inspection:inspect"))]
STATE_LABELS = {
    "created": "已创建", "sent": "已寄出", "received": "机构已收货", "passed": "质检通过",
    "failed": "质检未通过", "returned": "已寄回商家", "shipped": "已发货", "cancelled": "已取消",
    "closed": "已关闭",
}  # fmt: skip


@router.get("/btas", response_class=HTMLResponse)
def inspection_page(request: Request, session: SessionDep, caller: See) -> Response:
    actor = actor_of(caller.principal)
    query = select(Inspection).order_by(Inspection.created_at.desc(), Inspection.inspection_id)
    if actor.merchant_id is not None:
        query = query.where(Inspection.merchant_id == actor.merchant_id)
    else:
        query = query.where(Inspection.agency == (actor.agency or ""))
    rows = [_inspection_out(session, row) for row in session.scalars(query.limit(200))]
    params = request.query_params
    return page(
        request,
        "inspection.html",
        caller,
        title="BTAS质检",
        inspections=rows,
        states=STATE_LABELS,
        agency_view=actor.merchant_id is None,
        flash=params.get("done"),
        error=params.get("error"),
    )


def _back(done: str | None = None, error: str | None = None) -> Response:
    query = f"done={done}" if done else f"error={error}"
    return RedirectResponse(f"/console/btas?{query}", status_code=303)


def _run(session: Session, act: Callable[[], Any], done: str) -> Response:
    try:
        act()
        session.commit()
    except (Refusal, NotFound) as error:
        session.rollback()
        return _back(error=refusal_text(error))
    return _back(done=done)


def _valid(model: type[BaseModel], **fields: Any) -> BaseModel | str:
    try:
        return model.model_validate({k: v for k, v in fields.items() if v not in ("", None)})
    except ValidationError as error:
        return form_errors(error)


@router.post("/btas/create")
def create(
    request: Request,
    session: SessionDep,
    caller: Manage,
    item_id: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
    agency: Annotated[str, Form()] = "",
    order_id: Annotated[str, Form()] = "",
) -> Response:
    body = _valid(InspectionIn, item_id=item_id, category=category, agency=agency,
                  order_id=order_id)  # fmt: skip
    if isinstance(body, str):
        return _back(error=body)
    assert isinstance(body, InspectionIn)
    return _run(
        session,
        lambda: inspection.create(
            session,
            actor_of(caller.principal),
            item_id=body.item_id,
            category=body.category,
            agency=body.agency,
            order_id=body.order_id,
            now=now_of(request),
        ),
        f"已创建送检单（{body.item_id}）",
    )


def _step(
    session: Session, caller: Caller, inspection_id: str, act: Callable[[Inspection], Any]
) -> Callable[[], Any]:
    def run() -> Any:
        row = inspection.load(session, inspection_id, actor_of(caller.principal))
        return act(row)

    return run


@router.post("/btas/{inspection_id}/send")
def send(
    inspection_id: str,
    request: Request,
    session: SessionDep,
    caller: Manage,
    carrier: Annotated[str, Form()] = "",
    waybill: Annotated[str, Form()] = "",
    packing_video: Annotated[str, Form()] = "",
) -> Response:
    body = _valid(ParcelIn, carrier=carrier, waybill=waybill, packing_video=packing_video)
    if isinstance(body, str):
        return _back(error=body)
    assert isinstance(body, ParcelIn)
    actor, now = actor_of(caller.principal), now_of(request)
    act = _step(session, caller, inspection_id, lambda row: inspection.send(
        session, row, actor, now, carrier=body.carrier, waybill=body.waybill,
        packing_video=body.packing_video))  # fmt: skip
    return _run(session, act, f"{inspection_id} 已寄出")


@router.post("/btas/{inspection_id}/receive")
def receive(inspection_id: str, request: Request, session: SessionDep, caller: Inspect) -> Response:
    actor, now = actor_of(caller.principal), now_of(request)
    act = _step(session, caller, inspection_id,
                lambda row: inspection.step(session, row, "receive", actor, now))  # fmt: skip
    return _run(session, act, f"{inspection_id} 已收货")


@router.post("/btas/{inspection_id}/result")
def result(
    inspection_id: str,
    request: Request,
    session: SessionDep,
    caller: Inspect,
    result: Annotated[str, Form()] = "",
    report_ref: Annotated[str, Form()] = "",
    tag_ref: Annotated[str, Form()] = "",
) -> Response:
    body = _valid(ResultIn, result=result, report_ref=report_ref, tag_ref=tag_ref)
    if isinstance(body, str):
        return _back(error=body)
    assert isinstance(body, ResultIn)
    actor, now = actor_of(caller.principal), now_of(request)
    act = _step(session, caller, inspection_id, lambda row: inspection.record_result(
        session, row, actor, now, config.signer(),
        passed=body.result is InspectionResult.PASS, report_ref=body.report_ref,
        evidence=list(body.evidence), tag_ref=body.tag_ref))  # fmt: skip
    return _run(session, act, f"{inspection_id} 已记录质检结果")


@router.post("/btas/{inspection_id}/return")
def return_item(
    inspection_id: str,
    request: Request,
    session: SessionDep,
    caller: Inspect,
    carrier: Annotated[str, Form()] = "",
    waybill: Annotated[str, Form()] = "",
) -> Response:
    body = _valid(ParcelIn, carrier=carrier, waybill=waybill)
    if isinstance(body, str):
        return _back(error=body)
    assert isinstance(body, ParcelIn)
    actor, now = actor_of(caller.principal), now_of(request)
    parcel = inspection.Parcel(body.carrier, body.waybill, body.packing_video)
    act = _step(
        session,
        caller,
        inspection_id,
        lambda row: inspection.return_to_merchant(session, row, actor, now, parcel=parcel),
    )
    return _run(session, act, f"{inspection_id} 已寄回商家")


@router.post("/btas/verify", response_class=HTMLResponse)
def verify(
    caller: Annotated[Caller, Depends(acting("inspection:manage", "inspection:inspect"))],
    code: Annotated[str, Form()] = "",
    item_id: Annotated[str, Form()] = "",
    merchant_id: Annotated[str, Form()] = "",
) -> Response:
    """Is the code authentic for this item of this merchant? (signature only, as the API)"""
    body = _valid(VerifyIn, code=code, item_id=item_id, merchant_id=merchant_id)
    if isinstance(body, str):
        return HTMLResponse(f'<p class="flash error" role="alert">{_escape(body)}</p>')
    assert isinstance(body, VerifyIn)
    authentic = config.signer().is_authentic(body.code, body.item_id, body.merchant_id)
    text = "真码：与该商品、商家相符" if authentic else "不是该商品、商家的真码"
    return HTMLResponse(f'<p class="flash{"" if authentic else " error"}" role="status">{text}</p>')


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))

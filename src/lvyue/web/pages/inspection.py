"""BTAS质检: the merchant creates and sends inspection orders; the agency receives, records
the result and returns the sealed item; anyone verifies a code. Codes are bound when the
merchant ships the order (order page, ``inspection.ship_with_code``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from lvyue.api.deps import SessionDep
from lvyue.api.routes_workflows.common import actor_of
from lvyue.api.routes_workflows.inspection import (
    InspectionIn,
    ParcelIn,
    ResultIn,
    VerifyIn,
    _inspection_out,
    parcel_of,
    result_of,
)
from lvyue.web.flash import back_to, flash_message
from lvyue.web.pages.common import form_errors, refusal_text
from lvyue.web.render import page
from lvyue.web.security import Caller, acting, need_any, now_of
from lvyue.workflows.actions import inspection
from lvyue.workflows.actions import inspection_steps as steps
from lvyue.workflows.actions.common import NotFound
from lvyue.workflows.actions.inspection import Parcel
from lvyue.workflows.machine import Refusal

BTAS = "/console/btas"
router = APIRouter()
Body = TypeVar("Body", bound=BaseModel)
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
    query = steps.visible(actor, newest_first=True)
    found = list(session.scalars(query.limit(200))) if query is not None else []
    rows = [_inspection_out(session, row) for row in found]
    return page(
        request,
        "inspection.html",
        caller,
        title="BTAS质检",
        inspections=rows,
        states=STATE_LABELS,
        agency_view=actor.merchant_id is None,
        flash=flash_message(request, caller),
        error=flash_message(request, caller, "error"),
    )


def _run(session: Session, caller: Caller, act: Callable[[], Any], done: str) -> Response:
    try:
        act()
        session.commit()
    except (Refusal, NotFound) as error:
        session.rollback()
        return back_to(BTAS, caller, error=refusal_text(error))
    return back_to(BTAS, caller, done=done)


def _valid(model: type[Body], **fields: Any) -> Body | str:
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
        return back_to(BTAS, caller, error=body)
    return _run(
        session,
        caller,
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


def _take(request: Request, session: Session, caller: Caller, inspection_id: str,
          what: steps.Step | str, done: str) -> Response:  # fmt: skip
    """One step (``inspection_steps.take``, as the API), or the form's errors (text)."""
    if isinstance(what, str):
        return back_to(BTAS, caller, error=what)
    actor, now = actor_of(caller.principal), now_of(request)
    step = what
    return _run(session, caller, lambda: steps.take(session, inspection_id, actor, now, step), done)


def _parcel(body: ParcelIn | str, make: Callable[[Parcel], steps.Step]) -> steps.Step | str:
    return body if isinstance(body, str) else make(parcel_of(body))


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
    what = _parcel(body, steps.Send)
    return _take(request, session, caller, inspection_id, what, f"{inspection_id} 已寄出")


@router.post("/btas/{inspection_id}/receive")
def receive(inspection_id: str, request: Request, session: SessionDep, caller: Inspect) -> Response:
    what = steps.Plain("receive")
    return _take(request, session, caller, inspection_id, what, f"{inspection_id} 已收货")


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
    what = body if isinstance(body, str) else steps.Record(result_of(body))
    return _take(request, session, caller, inspection_id, what, f"{inspection_id} 已记录质检结果")


@router.post("/btas/{inspection_id}/return")
def return_item(
    inspection_id: str,
    request: Request,
    session: SessionDep,
    caller: Inspect,
    carrier: Annotated[str, Form()] = "",
    waybill: Annotated[str, Form()] = "",
) -> Response:
    what = _parcel(_valid(ParcelIn, carrier=carrier, waybill=waybill), steps.ReturnItem)
    return _take(request, session, caller, inspection_id, what, f"{inspection_id} 已寄回商家")


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
    authentic = steps.is_authentic(body.code, body.item_id, body.merchant_id)
    text = "真码：与该商品、商家相符" if authentic else "不是该商品、商家的真码"
    return HTMLResponse(f'<p class="flash{"" if authentic else " error"}" role="status">{text}</p>')


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))

"""报备中心 (merchant: file, attach evidence, follow the review) and 报备审核 (operator queue).

Filing and review call the report centre's own actions (``workflows.actions.reports``), the
ones behind ``POST /reports`` and ``POST /reports/{id}/review``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lvyue.api.deps import SessionDep
from lvyue.model.enums import ReportType
from lvyue.store.workflow_tables import Report
from lvyue.web.flash import back_to, flash_message
from lvyue.web.pages.common import form_errors, refusal_text
from lvyue.web.render import page
from lvyue.web.security import Caller, acting, need, now_of
from lvyue.workflows import config
from lvyue.workflows.actions import reports as report_actions
from lvyue.workflows.actions.common import NotFound
from lvyue.workflows.machine import Refusal
from lvyue.workflows.reports import MAX_EVIDENCE_BYTES, ForceMajeureReason, ReportDraft

router = APIRouter()
TYPE_LABELS = {
    ReportType.FORCE_MAJEURE: "不可抗力 force majeure",
    ReportType.ADDRESS_ABNORMAL: "消费者地址异常",
    ReportType.CONSUMER_REQUESTED_DELAY: "消费者要求延迟发货",
}
STATE_LABELS = {
    "pending": "审核中",
    "approved": "已通过",
    "rejected": "已驳回",
    "withdrawn": "已撤回",
}


def _split(text: str) -> list[str]:
    return [part for part in text.replace("，", ",").replace("\n", ",").split(",") if part.strip()]


def _centre(
    request: Request, session: Session, caller: Caller, status_code: int = 200, **context: Any
) -> Response:
    merchant = caller.principal.merchant_id
    rows = session.scalars(
        select(Report)
        .where(Report.merchant_id == merchant)
        .order_by(Report.filed_at.desc(), Report.report_id)
        .limit(200)
    ).all()
    return page(
        request,
        "reports.html",
        caller,
        status_code=status_code,
        title="报备中心",
        reports=[(r, report_actions.evidence_count(session, r.report_id)) for r in rows],
        types=TYPE_LABELS,
        reasons=list(ForceMajeureReason),
        states=STATE_LABELS,
        **context,
    )


@router.get("/reports", response_class=HTMLResponse)
def report_centre(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(need("reports:file"))],
) -> Response:
    return _centre(request, session, caller, flash=flash_message(request, caller))


@router.post("/reports", response_class=HTMLResponse)
async def file_report(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(acting("reports:file"))],
    type: Annotated[str, Form()],
    description: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
    order_ids: Annotated[str, Form()] = "",
    period_start: Annotated[str, Form()] = "",
    period_end: Annotated[str, Form()] = "",
    latest_ship_date: Annotated[str, Form()] = "",
    regions: Annotated[str, Form()] = "",
    evidence: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """File a report (with one evidence file): the API's ``POST /reports`` + ``/evidence``."""
    try:
        draft = ReportDraft.model_validate(
            {
                "type": type,
                "reason": reason or None,
                "description": description,
                "order_ids": [o.strip() for o in _split(order_ids)],
                "period_start": period_start or None,
                "period_end": period_end or None,
                "latest_ship_date": latest_ship_date or None,
                "regions": [r.strip() for r in _split(regions)],
            }
        )
    except ValidationError as error:
        return _centre(request, session, caller, 422, error=form_errors(error))
    data = await evidence.read(MAX_EVIDENCE_BYTES + 1) if evidence and evidence.filename else b""
    merchant = caller.principal.merchant_id or ""
    now = now_of(request)
    try:
        row = report_actions.file(
            session, draft, merchant_id=merchant, actor=caller.principal.account_id, now=now
        )
        if data and evidence is not None:
            report_actions.add_evidence(
                session, row, filename=(evidence.filename or "evidence").replace("\x00", ""),
                content_type=evidence.content_type or "", data=data,
                actor=caller.principal.account_id, now=now,
            )  # fmt: skip
        session.commit()
    except (Refusal, NotFound) as error:
        session.rollback()
        return _centre(request, session, caller, 422, error=refusal_text(error))
    done = f"已提交报备 {row.report_id}，等待平台审核。"  # signed: a crafted ?filed= shows nothing
    return back_to("/console/reports", caller, done=done, filed=row.report_id)


@router.get("/review", response_class=HTMLResponse)
def review_queue(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(need("reports:review"))],
) -> Response:
    """Pending reports, oldest first (the operator's queue), and the latest decisions."""
    pending = session.scalars(
        select(Report).where(Report.state == "pending").order_by(Report.filed_at).limit(200)
    ).all()
    decided = session.scalars(
        select(Report)
        .where(Report.state.in_(("approved", "rejected")))
        .order_by(Report.reviewed_at.desc())
        .limit(20)
    ).all()
    return page(
        request,
        "review.html",
        caller,
        title="报备审核",
        pending=[(r, report_actions.evidence_count(session, r.report_id)) for r in pending],
        decided=decided,
        types=TYPE_LABELS,
        states=STATE_LABELS,
        flash=flash_message(request, caller),
        error=flash_message(request, caller, "error"),
    )


@router.post("/review/{report_id}")
def review(
    report_id: str,
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(acting("reports:review"))],
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Approve or reject: the engine then waives the covered verdicts (SF-8)."""
    try:
        row = report_actions.load(session, report_id, None)
        report_actions.review(
            session, config.rules(), row, approve=decision == "approve",
            reason=reason or None, actor=caller.principal.account_id, now=now_of(request),
        )  # fmt: skip
        session.commit()
    except (Refusal, NotFound) as error:
        session.rollback()
        return back_to("/console/review", caller, error=refusal_text(error))
    done = f"{report_id} {'已通过' if decision == 'approve' else '已驳回'}"
    return back_to("/console/review", caller, done=done)

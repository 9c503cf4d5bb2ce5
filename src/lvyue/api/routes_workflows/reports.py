"""Report-centre routes (SF-8): file, evidence, withdraw, review."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from lvyue.api.auth import Principal, merchant_scope, require
from lvyue.api.deps import DbId, SessionDep, json_only
from lvyue.api.idempotency import IdemKey
from lvyue.api.routes_workflows.common import (
    PageDep,
    create_once,
    domain_errors,
    iso,
    merchant_of,
    require_any,
    service_now,
    tenant_of,
)
from lvyue.model import format_instant
from lvyue.store.workflow_tables import Report
from lvyue.workflows import config
from lvyue.workflows.actions import reports as report_actions
from lvyue.workflows.fields import Text
from lvyue.workflows.reports import MAX_EVIDENCE_BYTES, ReportDraft


class ReportOut(BaseModel):
    report_id: str
    merchant_id: str
    type: str
    reason: str | None
    description: str
    order_ids: list[str]
    period_start: date | None
    period_end: date | None
    latest_ship_date: date | None
    regions: list[str]
    state: str
    filed_at: str
    reviewed_by: str | None
    reviewed_at: str | None
    review_reason: str | None
    evidence: int


class ReviewIn(BaseModel):
    decision: Literal["approve", "reject"]
    reason: Text | None = None


class EvidenceOut(BaseModel):
    evidence_id: int
    filename: str
    content_type: str
    size: int
    sha256: str


class EvidenceListed(EvidenceOut):
    uploaded_by: str
    uploaded_at: str


def _report_out(session: Session, row: Report) -> ReportOut:
    return ReportOut(
        report_id=row.report_id,
        merchant_id=row.merchant_id,
        type=row.type,
        reason=row.reason,
        description=row.description,
        order_ids=list(row.order_ids),
        period_start=row.period_start,
        period_end=row.period_end,
        latest_ship_date=row.latest_ship_date,
        regions=list(row.regions),
        state=row.state,
        filed_at=format_instant(row.filed_at),
        reviewed_by=row.reviewed_by,
        reviewed_at=iso(row.reviewed_at),
        review_reason=row.review_reason,
        evidence=report_actions.evidence_count(session, row.report_id),
    )


File_ = Annotated[Principal, Depends(require("reports:file"))]
SeeReports = Annotated[Principal, Depends(require_any("reports:file", "reports:review"))]
router = APIRouter(prefix="/reports", tags=["reports"])


@router.post("", status_code=201, response_model=ReportOut, dependencies=[Depends(json_only)])
def file_report(
    body: ReportDraft,
    request: Request,
    session: SessionDep,
    principal: File_,
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """File a report (报备): period ≤ 21 days, latest ship date ≤ 7 days after it, ≤ 10 areas."""

    def create() -> BaseModel:
        row = report_actions.file(
            session,
            body,
            merchant_id=merchant_of(principal),
            actor=principal.account_id,
            now=service_now(request),
        )
        return _report_out(session, row)

    return create_once(request, session, principal, idempotency_key, body, create)


@router.get("", response_model=list[ReportOut])
def list_reports(
    session: SessionDep,
    principal: SeeReports,
    response: Response,
    paging: PageDep,
    merchant_id: Annotated[str | None, Query(max_length=64)] = None,
    state: Annotated[str | None, Query(max_length=32)] = None,
) -> list[ReportOut]:
    """A merchant's own reports; an operator's review queue (``state=pending``)."""
    scope = merchant_scope(principal, merchant_id)
    query = select(Report).order_by(Report.filed_at, Report.report_id)
    if scope is not None:
        query = query.where(Report.merchant_id == scope)
    if state is not None:
        query = query.where(Report.state == state)
    rows = paging.of(list(session.scalars(query)), response)
    return [_report_out(session, r) for r in rows]


@router.get("/{report_id}", response_model=ReportOut)
def get_report(report_id: str, session: SessionDep, principal: SeeReports) -> ReportOut:
    with domain_errors(session):
        return _report_out(session, report_actions.load(session, report_id, tenant_of(principal)))


@router.post("/{report_id}/evidence", status_code=201, response_model=EvidenceOut)
async def upload_evidence(
    report_id: str,
    request: Request,
    session: SessionDep,
    principal: File_,
    file: Annotated[UploadFile, File(description="jpeg, png, pdf or mp4; at most 10 MiB")],
) -> EvidenceOut:
    """Attach an evidence file (凭证) to a pending report."""
    data = await file.read(MAX_EVIDENCE_BYTES + 1)
    with domain_errors(session):
        row = report_actions.load(session, report_id, merchant_of(principal))
        evidence = report_actions.add_evidence(
            session,
            row,
            filename=(file.filename or "evidence").replace("\x00", ""),
            content_type=file.content_type or "",
            data=data,
            actor=principal.account_id,
            now=service_now(request),
        )
        out = EvidenceOut(
            evidence_id=evidence.evidence_id,
            filename=evidence.filename,
            content_type=evidence.content_type,
            size=evidence.size,
            sha256=evidence.sha256,
        )
        session.commit()
    return out


@router.get("/{report_id}/evidence", response_model=list[EvidenceListed])
def list_evidence(
    report_id: str, session: SessionDep, principal: SeeReports
) -> list[EvidenceListed]:
    """The report's evidence files: the operator sees them before approving (SF-8)."""
    with domain_errors(session):
        row = report_actions.load(session, report_id, tenant_of(principal))
        files = report_actions.evidence_of(session, row)
    return [
        EvidenceListed(
            evidence_id=e.evidence_id,
            filename=e.filename,
            content_type=e.content_type,
            size=e.size,
            sha256=e.sha256,
            uploaded_by=e.uploaded_by,
            uploaded_at=format_instant(e.uploaded_at),
        )
        for e in files
    ]


@router.get(
    "/{report_id}/evidence/{evidence_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"}},
)
def download_evidence(
    report_id: str, evidence_id: DbId, session: SessionDep, principal: SeeReports
) -> Response:
    """One evidence file as uploaded (as an attachment: never rendered inline by the browser)."""
    with domain_errors(session):
        row = report_actions.load(session, report_id, tenant_of(principal))
        evidence = report_actions.evidence_file(session, row, evidence_id)
    name = quote(evidence.filename, safe="")
    return Response(
        evidence.data,
        media_type=evidence.content_type or "application/octet-stream",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


@router.post("/{report_id}/withdraw", response_model=ReportOut, dependencies=[Depends(json_only)])
def withdraw_report(
    report_id: str, request: Request, session: SessionDep, principal: File_
) -> ReportOut:
    with domain_errors(session):
        row = report_actions.load(session, report_id, merchant_of(principal))
        report_actions.withdraw(session, row, actor=principal.account_id, now=service_now(request))
        out = _report_out(session, row)
        session.commit()
    return out


@router.post("/{report_id}/review", response_model=ReportOut, dependencies=[Depends(json_only)])
def review_report(
    report_id: str,
    body: ReviewIn,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("reports:review"))],
) -> ReportOut:
    """The operator approves or rejects (with a reason); the engine then waives the covered
    verdicts or applies the new deadline (see ``/workflows/orders/{id}/verdicts``)."""
    with domain_errors(session):
        row = report_actions.load(session, report_id, None)
        report_actions.review(
            session,
            config.rules(),
            row,
            approve=body.decision == "approve",
            reason=body.reason,
            actor=principal.account_id,
            now=service_now(request),
        )
        out = _report_out(session, row)
        session.commit()
    return out

"""Operator records: measures (impose, lift), the quarantine (replay) and the audit log."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from lvyue.api.deps import SessionDep
from lvyue.api.routes_quarantine import FixIn, fix_quarantined, replay_quarantined
from lvyue.api.routes_workflows.penalties import MeasureIn
from lvyue.store import AuditEntry, QuarantinedRow
from lvyue.web.flash import back_to, flash_message
from lvyue.web.lists import EXPORT_CAP, PAGE_SIZE, Sort, after, export, page_of
from lvyue.web.pages.common import form_errors, refusal_text, scope_of
from lvyue.web.render import page
from lvyue.web.security import Caller, acting, need, now_of
from lvyue.workflows.actions import measures as measure_actions
from lvyue.workflows.actions.common import NotFound
from lvyue.workflows.machine import Refusal
from lvyue.workflows.measures import MeasureKind

router = APIRouter()
Manage = Annotated[Caller, Depends(acting("penalties:manage"))]


@router.get("/measures", response_class=HTMLResponse)
def measures(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(need("penalties:manage"))],
) -> Response:
    rows = list(reversed(measure_actions.of_merchant(session, None)[-200:]))
    return page(request, "measures.html", caller, title="处置措施", measures=rows,
                kinds=list(MeasureKind), flash=flash_message(request, caller),
                error=flash_message(request, caller, "error"))  # fmt: skip


@router.post("/measures")
def impose(
    request: Request,
    session: SessionDep,
    caller: Manage,
    merchant_id: Annotated[str, Form()] = "",
    product_id: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    clause: Annotated[str, Form()] = "VF-7",
) -> Response:
    try:
        body = MeasureIn.model_validate(
            {
                "merchant_id": merchant_id,
                "product_id": product_id or None,
                "kind": kind,
                "reason": reason,
                "clause": clause or "VF-7",
            }
        )
        measure_actions.impose(
            session, merchant_id=body.merchant_id, product_id=body.product_id, kind=body.kind,
            reason=body.reason, clause=body.clause, until=body.until,
            actor=caller.principal.account_id, now=now_of(request),
        )  # fmt: skip
        session.commit()
    except ValidationError as error:
        return back_to("/console/measures", caller, error=form_errors(error))
    except (Refusal, NotFound) as error:
        session.rollback()
        return back_to("/console/measures", caller, error=refusal_text(error))
    return back_to("/console/measures", caller, done=f"已对 {merchant_id} 采取措施 {kind}")


@router.post("/measures/{measure_id}/lift")
def lift(measure_id: int, request: Request, session: SessionDep, caller: Manage) -> Response:
    try:
        row = measure_actions.load(session, measure_id, None)
        measure_actions.lift(session, row, actor=caller.principal.account_id, now=now_of(request))
        session.commit()
    except (Refusal, NotFound) as error:
        session.rollback()
        return back_to("/console/measures", caller, error=refusal_text(error))
    return back_to("/console/measures", caller, done=f"措施 {measure_id} 已解除")


@router.get("/quarantine", response_class=HTMLResponse)
def quarantine(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(need("quarantine:manage"))],
    status: Literal["open", "replayed", "discarded"] = "open",
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    query = select(QuarantinedRow).where(QuarantinedRow.status == status)
    order = Sort(QuarantinedRow.quarantine_id, QuarantinedRow.quarantine_id, descending=False)
    rows = session.scalars(after(query, order, cursor).limit(PAGE_SIZE + 1)).all()
    shown = page_of(rows, PAGE_SIZE, lambda r: (r.quarantine_id, r.quarantine_id))
    return page(request, "quarantine.html", caller, title="隔离区", rows=shown.rows,
                next_cursor=shown.next_cursor, status=status, flash=flash_message(request, caller),
                error=flash_message(request, caller, "error"))  # fmt: skip


@router.post("/quarantine/{quarantine_id}/replay")
def replay(
    quarantine_id: int,
    session: SessionDep,
    caller: Annotated[Caller, Depends(acting("quarantine:manage"))],
) -> Response:
    """The API's replay (the uploader's rights, audited), from a button."""
    answer = replay_quarantined(quarantine_id, session, caller.principal)
    if answer.replayed:
        return back_to("/console/quarantine", caller, done=f"#{quarantine_id} 已重放")
    return back_to("/console/quarantine", caller, error=f"#{quarantine_id}: {answer.error}")


@router.post("/quarantine/{quarantine_id}/fix")
def fix(
    quarantine_id: int,
    session: SessionDep,
    caller: Annotated[Caller, Depends(acting("quarantine:manage"))],
    payload: Annotated[str, Form(max_length=100_000)] = "",
) -> Response:
    """Replace the row with a corrected one (JSON), the API's ``PUT /quarantine/{id}``."""
    try:
        body = FixIn.model_validate_json(f'{{"payload": {payload or "null"}}}')
    except ValidationError as error:
        return back_to(
            "/console/quarantine", caller, error=f"#{quarantine_id}: {form_errors(error)}"
        )
    fix_quarantined(quarantine_id, body, session, caller.principal)
    return back_to("/console/quarantine", caller, done=f"#{quarantine_id} 已修正，可重放")


AUDIT_HEADER = ["entry_id", "at (北京时间)", "actor", "action", "entity", "entity_id",
                "merchant_id", "clause", "detail"]  # fmt: skip


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(need("audit:view"))],
    merchant: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    format: Literal["html", "csv", "xlsx"] = "html",
) -> Response:
    """Newest first; a merchant's own shop only (as ``GET /audit``)."""
    scope = scope_of(caller, merchant or None)
    query = select(AuditEntry)
    if scope is not None:
        query = query.where(AuditEntry.merchant_id == scope)
    if action:
        query = query.where(AuditEntry.action == action)
    query = after(query, Sort(AuditEntry.entry_id, AuditEntry.entry_id, descending=True), cursor)
    if format != "html":
        rows = session.scalars(query.limit(EXPORT_CAP)).all()
        cells = ([e.entry_id, e.at, e.actor, e.action, e.entity, e.entity_id, e.merchant_id,
                  e.clause, str(e.detail)] for e in rows)  # fmt: skip
        return export("audit", AUDIT_HEADER, cells, format)
    rows = session.scalars(query.limit(PAGE_SIZE + 1)).all()
    shown = page_of(rows, PAGE_SIZE, lambda e: (e.entry_id, e.entry_id))
    return page(request, "audit.html", caller, title="审计日志", entries=shown.rows,
                next_cursor=shown.next_cursor,
                filters={"merchant": merchant or "", "action": action or ""})  # fmt: skip

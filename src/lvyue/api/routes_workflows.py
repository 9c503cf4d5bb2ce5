"""Workflow routes: BTAS inspection, report centre, delayed-shipping tool, after-sales,
violations and measures, settlement and verdicts. Presentation only: each handler checks the
permission and the tenant, calls ``lvyue.workflows.actions`` and commits.

Refusals by a rule answer 422 (409 for a state conflict) with ``{"error", "clause",
"field"}``; another tenant's object is 404.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, HTTPException, Path, Query, Request, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from lvyue.api.auth import Principal, current_principal, forbidden, merchant_scope, require
from lvyue.api.deps import SessionDep, json_only
from lvyue.engine.online import evaluate_order
from lvyue.model import InspectionResult, ShipMode, format_instant
from lvyue.model.enums import AfterSaleType
from lvyue.store import AfterSale, AuditEntry
from lvyue.store.permissions import Role
from lvyue.store.workflow_tables import (
    DelayedShipping,
    Inspection,
    InspectionCode,
    Measure,
    Report,
    Violation,
)
from lvyue.workflows import config
from lvyue.workflows.actions import after_sales as aftersale_actions
from lvyue.workflows.actions import delayed_shipping as delayed_actions
from lvyue.workflows.actions import inspection as btas
from lvyue.workflows.actions import measures as measure_actions
from lvyue.workflows.actions import penalties as penalty_actions
from lvyue.workflows.actions import reports as report_actions
from lvyue.workflows.actions import violations as violation_actions
from lvyue.workflows.actions.common import NotFound
from lvyue.workflows.actions.facts import order_facts
from lvyue.workflows.actions.orders import load_order, order_context
from lvyue.workflows.fields import Ident, Name, Ref, Text
from lvyue.workflows.inspection import MACHINE as INSPECTION_MACHINE
from lvyue.workflows.machine import Refusal
from lvyue.workflows.measures import MeasureKind
from lvyue.workflows.reports import MAX_EVIDENCE_BYTES, ReportDraft
from lvyue.workflows.settlement import settlement

router = APIRouter()

MeasureId = Annotated[int, Path(ge=1, le=2**31 - 1)]


# -- plumbing -------------------------------------------------------------------------------


def _now(request: Request) -> datetime:
    """The service clock (tests pin it through ``app.state.clock``)."""
    clock: Callable[[], datetime] | None = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else datetime.now(UTC)


@contextmanager
def _domain(session: Session) -> Iterator[None]:
    """Map the workflows' refusals to HTTP; nothing of a refused request is kept."""
    try:
        yield
    except NotFound as error:
        session.rollback()
        raise HTTPException(404, detail=str(error)) from None
    except Refusal as error:
        session.rollback()
        raise HTTPException(error.status, detail=error.as_dict()) from None


def require_any(*permissions: str) -> Callable[[Principal], Principal]:
    """The caller if it holds one of ``permissions`` (e.g. the merchant's or the agency's)."""

    def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.permissions & set(permissions):
            raise forbidden(permissions[0])
        return principal

    return dependency


def _actor(principal: Principal) -> btas.Actor:
    agency = principal.organisation if principal.role == Role.INSPECTION_AGENCY else None
    return btas.Actor(principal.account_id, principal.merchant_id, agency)


def _iso(moment: datetime | None) -> str | None:
    return format_instant(moment) if moment is not None else None


def _merchant_of(principal: Principal) -> str:
    if principal.merchant_id is None:
        raise HTTPException(404, detail="not found")
    return principal.merchant_id


# -- BTAS inspection (BT-1..BT-12) -------------------------------------------------------------


class InspectionIn(BaseModel):
    item_id: Ident = Field(description="the item (a second-hand listing is one item)")
    category: Name
    agency: Ident = Field(description="the inspection agency's organisation code")
    order_id: Ident | None = Field(None, description="for an item already sold (BT-2)")


class ParcelIn(BaseModel):
    carrier: Ident
    waybill: Ident
    packing_video: Ref | None = Field(None, description="BT-9 packing-video reference")


class ResultIn(BaseModel):
    result: InspectionResult
    report_ref: Ref = Field(description="the agency's inspection report")
    evidence: list[Ref] = Field(default_factory=list, max_length=20)
    tag_ref: Ref | None = Field(
        None, description="anti-tamper tag / traceability label (BT-7), required on pass"
    )


class AgencyShipIn(ParcelIn):
    order_id: Ident | None = None


class ShipWithCodeIn(ParcelIn):
    inspection_code: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9-]*$")] | None = None
    item_id: Ident | None = Field(None, description="default: the order's product")


class VerifyIn(BaseModel):
    code: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
    item_id: Ident
    merchant_id: Ident


class InspectionOut(BaseModel):
    inspection_id: str
    merchant_id: str
    item_id: str
    category: str
    agency: str
    order_id: str | None
    state: str
    carrier: str | None
    waybill: str | None
    packing_video: str | None
    report_ref: str | None
    evidence: list[str]
    resubmit_deadline: str | None
    code: str | None = Field(description="the inspection code, once passed (BT-10)")
    tag_ref: str | None
    code_bound_to: str | None
    allowed_events: list[str]


class ShipmentOut(BaseModel):
    order_id: str
    carrier: str
    waybill: str
    ship_time: str
    inspection_code: str | None
    packing_video: str | None


class VerifyOut(BaseModel):
    authentic: bool
    code_id: str | None


def _inspection_out(session: Session, row: Inspection) -> InspectionOut:
    code = session.scalar(
        select(InspectionCode).where(InspectionCode.inspection_id == row.inspection_id)
    )
    return InspectionOut(
        inspection_id=row.inspection_id,
        merchant_id=row.merchant_id,
        item_id=row.item_id,
        category=row.category,
        agency=row.agency,
        order_id=row.order_id,
        state=row.state,
        carrier=row.carrier,
        waybill=row.waybill,
        packing_video=row.send_video,
        report_ref=row.report_ref,
        evidence=list(row.evidence or []),
        resubmit_deadline=_iso(row.resubmit_deadline),
        code=code.code if code else None,
        tag_ref=code.tag_ref if code else None,
        code_bound_to=code.bound_order_id if code else None,
        allowed_events=INSPECTION_MACHINE.events_from(row.state),
    )


def _shipment_out(shipment: Any) -> ShipmentOut:
    return ShipmentOut(
        order_id=shipment.order_id,
        carrier=shipment.carrier,
        waybill=shipment.waybill,
        ship_time=format_instant(shipment.ship_time),
        inspection_code=shipment.inspection_code,
        packing_video=shipment.packing_video,
    )


Manage = Annotated[Principal, Depends(require("inspection:manage"))]
Inspect = Annotated[Principal, Depends(require("inspection:inspect"))]
SeeInspections = Annotated[
    Principal, Depends(require_any("inspection:manage", "inspection:inspect"))
]
btas_router = APIRouter(prefix="/btas", tags=["btas"], dependencies=[Depends(json_only)])


@btas_router.post("/inspections", status_code=201, response_model=InspectionOut)
def create_inspection(
    body: InspectionIn, request: Request, session: SessionDep, principal: Manage
) -> InspectionOut:
    """Create an inspection order (送检单, BT-4) for one item."""
    _merchant_of(principal)
    with _domain(session):
        row = btas.create(
            session,
            _actor(principal),
            item_id=body.item_id,
            category=body.category,
            agency=body.agency,
            order_id=body.order_id,
            now=_now(request),
        )
        out = _inspection_out(session, row)
        session.commit()
    return out


@btas_router.get("/inspections", response_model=list[InspectionOut])
def list_inspections(
    session: SessionDep,
    principal: SeeInspections,
    state: Annotated[str | None, Query(max_length=32)] = None,
) -> list[InspectionOut]:
    """The caller's inspections: a merchant's own, an agency's received ones."""
    actor = _actor(principal)
    query = select(Inspection).order_by(Inspection.created_at, Inspection.inspection_id)
    if actor.merchant_id is not None:
        query = query.where(Inspection.merchant_id == actor.merchant_id)
    elif actor.agency is not None:
        query = query.where(Inspection.agency == actor.agency)
    else:
        raise HTTPException(404, detail="not found")
    if state is not None:
        query = query.where(Inspection.state == state)
    return [_inspection_out(session, row) for row in session.scalars(query.limit(1000))]


@btas_router.get("/inspections/{inspection_id}", response_model=InspectionOut)
def get_inspection(
    inspection_id: str, session: SessionDep, principal: SeeInspections
) -> InspectionOut:
    with _domain(session):
        return _inspection_out(session, btas.load(session, inspection_id, _actor(principal)))


def _inspection_step(
    session: Session,
    inspection_id: str,
    principal: Principal,
    act: Callable[[Inspection, btas.Actor], object],
) -> InspectionOut:
    with _domain(session):
        actor = _actor(principal)
        row = btas.load(session, inspection_id, actor)
        act(row, actor)
        out = _inspection_out(session, row)
        session.commit()
    return out


@btas_router.post("/inspections/{inspection_id}/send", response_model=InspectionOut)
def send_inspection(
    inspection_id: str, body: ParcelIn, request: Request, session: SessionDep, principal: Manage
) -> InspectionOut:
    """The merchant sends the item to the agency with tracking and packing video (BT-9)."""
    now = _now(request)
    return _inspection_step(
        session,
        inspection_id,
        principal,
        lambda row, actor: btas.send(
            session,
            row,
            actor,
            now,
            carrier=body.carrier,
            waybill=body.waybill,
            packing_video=body.packing_video,
        ),
    )


@btas_router.post("/inspections/{inspection_id}/receive", response_model=InspectionOut)
def receive_inspection(
    inspection_id: str, request: Request, session: SessionDep, principal: Inspect
) -> InspectionOut:
    """The agency confirms it received the item."""
    now = _now(request)
    return _inspection_step(
        session,
        inspection_id,
        principal,
        lambda row, actor: btas.step(session, row, "receive", actor, now),
    )


@btas_router.post("/inspections/{inspection_id}/result", response_model=InspectionOut)
def inspection_result(
    inspection_id: str, body: ResultIn, request: Request, session: SessionDep, principal: Inspect
) -> InspectionOut:
    """Pass (issues the item's one code, BT-10) or fail (with a re-submission deadline)."""
    now = _now(request)
    return _inspection_step(
        session,
        inspection_id,
        principal,
        lambda row, actor: btas.record_result(
            session,
            row,
            actor,
            now,
            config.signer(),
            passed=body.result is InspectionResult.PASS,
            report_ref=body.report_ref,
            evidence=list(body.evidence),
            tag_ref=body.tag_ref,
        ),
    )


@btas_router.post("/inspections/{inspection_id}/resubmit", response_model=InspectionOut)
def resubmit_inspection(
    inspection_id: str, request: Request, session: SessionDep, principal: Manage
) -> InspectionOut:
    """Send a failed item again, before its re-submission deadline."""
    now = _now(request)
    return _inspection_step(
        session,
        inspection_id,
        principal,
        lambda row, actor: btas.resubmit(session, row, actor, now),
    )


@btas_router.post("/inspections/{inspection_id}/cancel", response_model=InspectionOut)
def cancel_inspection(
    inspection_id: str, request: Request, session: SessionDep, principal: Manage
) -> InspectionOut:
    """The merchant cancels an inspection order before sending the item."""
    now = _now(request)
    return _inspection_step(
        session,
        inspection_id,
        principal,
        lambda row, actor: btas.step(session, row, "cancel", actor, now),
    )


@btas_router.post("/inspections/{inspection_id}/return", response_model=InspectionOut)
def return_inspection(
    inspection_id: str, body: ParcelIn, request: Request, session: SessionDep, principal: Inspect
) -> InspectionOut:
    """The agency returns the sealed, passed item to the merchant (pre-inspection, BT-3)."""
    now = _now(request)
    parcel = btas.Parcel(body.carrier, body.waybill, body.packing_video)
    return _inspection_step(
        session,
        inspection_id,
        principal,
        lambda row, actor: btas.return_to_merchant(session, row, actor, now, parcel=parcel),
    )


@btas_router.post("/inspections/{inspection_id}/ship", status_code=201, response_model=ShipmentOut)
def agency_ship(
    inspection_id: str,
    body: AgencyShipIn,
    request: Request,
    session: SessionDep,
    principal: Inspect,
) -> ShipmentOut:
    """The agency ships the passed item to the consumer, code bound (BT-2)."""
    with _domain(session):
        actor = _actor(principal)
        row = btas.load(session, inspection_id, actor)
        shipment = btas.ship_to_consumer(
            session,
            row,
            actor,
            _now(request),
            order_id=body.order_id,
            parcel=btas.Parcel(body.carrier, body.waybill, body.packing_video),
        )
        out = _shipment_out(shipment)
        session.commit()
    return out


@btas_router.post("/orders/{order_id}/ship", status_code=201, response_model=ShipmentOut)
def ship_with_code(
    order_id: str,
    body: ShipWithCodeIn,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("orders:ship"))],
) -> ShipmentOut:
    """Bind the inspection code and ship (绑码发货, BT-8); refused naming the clause when the
    category needs inspection and the code is missing, forged, another item's or used."""
    with _domain(session):
        order = load_order(session, order_id, _merchant_of(principal))
        shipment = btas.ship_with_code(
            session,
            config.rules(),
            config.signer(),
            order,
            _actor(principal),
            _now(request),
            code=body.inspection_code,
            item_id=body.item_id,
            parcel=btas.Parcel(body.carrier, body.waybill, body.packing_video),
        )
        out = _shipment_out(shipment)
        session.commit()
    return out


@btas_router.post("/codes/verify", response_model=VerifyOut)
def verify_code(
    body: VerifyIn, principal: Annotated[Principal, Depends(current_principal)]
) -> VerifyOut:
    """Is this code authentic for this item of this merchant? Checked by signature alone."""
    signer = config.signer()
    authentic = signer.is_authentic(body.code, body.item_id, body.merchant_id)
    code_id = body.code.split("-")[1] if authentic else None
    return VerifyOut(authentic=authentic, code_id=code_id)


# -- Report centre (SF-8) -----------------------------------------------------------------------


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
        reviewed_at=_iso(row.reviewed_at),
        review_reason=row.review_reason,
        evidence=report_actions.evidence_count(session, row.report_id),
    )


File_ = Annotated[Principal, Depends(require("reports:file"))]
SeeReports = Annotated[Principal, Depends(require_any("reports:file", "reports:review"))]
reports_router = APIRouter(prefix="/reports", tags=["reports"])


@reports_router.post(
    "", status_code=201, response_model=ReportOut, dependencies=[Depends(json_only)]
)
def file_report(
    body: ReportDraft, request: Request, session: SessionDep, principal: File_
) -> ReportOut:
    """File a report (报备): period ≤ 21 days, latest ship date ≤ 7 days after it, ≤ 10 areas."""
    with _domain(session):
        row = report_actions.file(
            session,
            body,
            merchant_id=_merchant_of(principal),
            actor=principal.account_id,
            now=_now(request),
        )
        out = _report_out(session, row)
        session.commit()
    return out


@reports_router.get("", response_model=list[ReportOut])
def list_reports(
    session: SessionDep,
    principal: SeeReports,
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
    return [_report_out(session, r) for r in session.scalars(query.limit(1000))]


@reports_router.get("/{report_id}", response_model=ReportOut)
def get_report(report_id: str, session: SessionDep, principal: SeeReports) -> ReportOut:
    with _domain(session):
        return _report_out(session, report_actions.load(session, report_id, _tenant(principal)))


def _tenant(principal: Principal) -> str | None:
    """None for operators (every merchant), else the caller's merchant (404 if it has none)."""
    return None if principal.is_operator else _merchant_of(principal)


@reports_router.post("/{report_id}/evidence", status_code=201, response_model=EvidenceOut)
async def upload_evidence(
    report_id: str,
    request: Request,
    session: SessionDep,
    principal: File_,
    file: Annotated[UploadFile, File(description="jpeg, png, pdf or mp4; at most 10 MiB")],
) -> EvidenceOut:
    """Attach an evidence file (凭证) to a pending report."""
    data = await file.read(MAX_EVIDENCE_BYTES + 1)
    with _domain(session):
        row = report_actions.load(session, report_id, _merchant_of(principal))
        evidence = report_actions.add_evidence(
            session,
            row,
            filename=(file.filename or "evidence").replace("\x00", ""),
            content_type=file.content_type or "",
            data=data,
            actor=principal.account_id,
            now=_now(request),
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


@reports_router.post(
    "/{report_id}/withdraw", response_model=ReportOut, dependencies=[Depends(json_only)]
)
def withdraw_report(
    report_id: str, request: Request, session: SessionDep, principal: File_
) -> ReportOut:
    with _domain(session):
        row = report_actions.load(session, report_id, _merchant_of(principal))
        report_actions.withdraw(session, row, actor=principal.account_id, now=_now(request))
        out = _report_out(session, row)
        session.commit()
    return out


@reports_router.post(
    "/{report_id}/review", response_model=ReportOut, dependencies=[Depends(json_only)]
)
def review_report(
    report_id: str,
    body: ReviewIn,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("reports:review"))],
) -> ReportOut:
    """The operator approves or rejects (with a reason); the engine then waives the covered
    verdicts or applies the new deadline (see ``/workflows/orders/{id}/verdicts``)."""
    with _domain(session):
        row = report_actions.load(session, report_id, None)
        report_actions.review(
            session,
            row,
            approve=body.decision == "approve",
            reason=body.reason,
            actor=principal.account_id,
            now=_now(request),
        )
        out = _report_out(session, row)
        session.commit()
    return out


# -- Delayed-shipping tool (SF-4, VF-3) -------------------------------------------------------


class DelayedIn(BaseModel):
    product_id: Ident
    category: Name
    ship_mode: ShipMode = ShipMode.SPOT


class DelayedOut(BaseModel):
    product_id: str
    merchant_id: str
    category: str
    ship_mode: str
    clause: str
    order_ids: list[str]
    set_at: str


def _delayed_out(row: DelayedShipping) -> DelayedOut:
    return DelayedOut(
        product_id=row.product_id,
        merchant_id=row.merchant_id,
        category=row.category,
        ship_mode=row.ship_mode,
        clause=row.clause,
        order_ids=list(row.order_ids),
        set_at=format_instant(row.set_at),
    )


delayed_router = APIRouter(prefix="/delayed-shipping", tags=["delayed-shipping"])


@delayed_router.post(
    "", status_code=201, response_model=DelayedOut, dependencies=[Depends(json_only)]
)
def set_delayed_shipping(
    body: DelayedIn,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("orders:ship"))],
) -> DelayedOut:
    """Set the delayed-shipping tool on a product, if an announcement window allows it."""
    with _domain(session):
        row = delayed_actions.set_tool(
            session,
            config.rules(),
            merchant_id=_merchant_of(principal),
            product_id=body.product_id,
            category=body.category,
            ship_mode=body.ship_mode,
            actor=principal.account_id,
            now=_now(request),
        )
        out = _delayed_out(row)
        session.commit()
    return out


@delayed_router.get("", response_model=list[DelayedOut])
def list_delayed_shipping(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("orders:view"))],
    merchant_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[DelayedOut]:
    scope = merchant_scope(principal, merchant_id)
    return [_delayed_out(r) for r in delayed_actions.of_merchant(session, scope)]


# -- After-sales (SF-9) ------------------------------------------------------------------------


class AfterSaleIn(BaseModel):
    order_id: Ident
    type: AfterSaleType


class DecisionIn(BaseModel):
    agree: bool


class AfterSaleOut(BaseModel):
    aftersale_id: str
    order_id: str
    merchant_id: str
    type: str
    state: str
    created_at: str
    merchant_handled_at: str | None
    return_shipped_at: str | None
    merchant_received_at: str | None
    refunded_at: str | None
    deadline: str | None = Field(description="the running limit of the current state")
    deadline_clause: str | None


def _aftersale_out(session: Session, loaded: aftersale_actions.Loaded) -> AfterSaleOut:
    r = loaded.request
    due = aftersale_actions.due(session, config.rules(), loaded)
    return AfterSaleOut(
        aftersale_id=r.aftersale_id,
        order_id=r.order_id,
        merchant_id=r.merchant_id,
        type=r.type,
        state=loaded.status.state,
        created_at=format_instant(r.created_at),
        merchant_handled_at=_iso(r.merchant_handled_at),
        return_shipped_at=_iso(r.return_shipped_at),
        merchant_received_at=_iso(r.merchant_received_at),
        refunded_at=_iso(r.refunded_at),
        deadline=_iso(due.deadline) if due else None,
        deadline_clause=due.clause if due else None,
    )


Handle = Annotated[Principal, Depends(require("after_sales:handle"))]
Consumer = Annotated[Principal, Depends(require("after_sales:request"))]
SeeAfterSales = Annotated[
    Principal, Depends(require_any("after_sales:handle", "after_sales:request"))
]
aftersales_router = APIRouter(
    prefix="/workflows/after-sales", tags=["after-sales"], dependencies=[Depends(json_only)]
)


def _consumer_order_check(principal: Principal, order_consumer: object) -> None:
    """A consumer acts only on its own orders (the order's ``consumer_id`` column)."""
    if order_consumer != principal.account_id:
        raise HTTPException(404, detail="not found")


def _load_request(
    session: Session, aftersale_id: str, principal: Principal
) -> aftersale_actions.Loaded:
    if principal.role == Role.CONSUMER:
        loaded = aftersale_actions.load(session, aftersale_id, None)
        _consumer_order_check(principal, loaded.order.extra.get("consumer_id"))
        return loaded
    return aftersale_actions.load(session, aftersale_id, _tenant(principal))


@aftersales_router.post("", status_code=201, response_model=AfterSaleOut)
def request_after_sale(
    body: AfterSaleIn, request: Request, session: SessionDep, principal: Consumer
) -> AfterSaleOut:
    """A consumer requests a refund, a return or an exchange on its order."""
    with _domain(session):
        order = load_order(session, body.order_id)
        _consumer_order_check(principal, order.extra.get("consumer_id"))
        loaded = aftersale_actions.request(
            session, order, kind=body.type, actor=principal.account_id, now=_now(request)
        )
        out = _aftersale_out(session, loaded)
        session.commit()
    return out


@aftersales_router.get("", response_model=list[AfterSaleOut])
def list_after_sales(
    session: SessionDep,
    principal: Handle,
    state: Annotated[str | None, Query(max_length=32)] = None,
) -> list[AfterSaleOut]:
    """The merchant's after-sales requests with the running deadline of each."""
    query = select(AfterSale.aftersale_id).where(AfterSale.merchant_id == _merchant_of(principal))
    out = []
    with _domain(session):
        for aftersale_id in session.scalars(query.order_by(AfterSale.created_at).limit(1000)):
            loaded = aftersale_actions.load(session, aftersale_id, principal.merchant_id)
            if state is None or loaded.status.state == state:
                out.append(_aftersale_out(session, loaded))
        session.commit()  # states derived for ingested requests are kept
    return out


@aftersales_router.get("/{aftersale_id}", response_model=AfterSaleOut)
def get_after_sale(
    aftersale_id: str, session: SessionDep, principal: SeeAfterSales
) -> AfterSaleOut:
    with _domain(session):
        out = _aftersale_out(session, _load_request(session, aftersale_id, principal))
        session.commit()
    return out


def _aftersale_step(
    session: Session,
    aftersale_id: str,
    principal: Principal,
    act: Callable[[aftersale_actions.Loaded], None],
) -> AfterSaleOut:
    with _domain(session):
        loaded = _load_request(session, aftersale_id, principal)
        act(loaded)
        out = _aftersale_out(session, loaded)
        session.commit()
    return out


@aftersales_router.post("/{aftersale_id}/decision", response_model=AfterSaleOut)
def decide_after_sale(
    aftersale_id: str, body: DecisionIn, request: Request, session: SessionDep, principal: Handle
) -> AfterSaleOut:
    """The merchant agrees or rejects; agreeing to a refund-only request refunds it."""
    now = _now(request)
    return _aftersale_step(
        session,
        aftersale_id,
        principal,
        lambda loaded: aftersale_actions.decide(
            session, loaded, agree=body.agree, actor=principal.account_id, now=now
        ),
    )


@aftersales_router.post("/{aftersale_id}/return-shipped", response_model=AfterSaleOut)
def return_shipped(
    aftersale_id: str, request: Request, session: SessionDep, principal: Consumer
) -> AfterSaleOut:
    """The consumer uploaded the return tracking number."""
    now = _now(request)
    return _aftersale_step(
        session,
        aftersale_id,
        principal,
        lambda loaded: aftersale_actions.act(
            session, loaded, "ship_return", actor=principal.account_id, now=now
        ),
    )


@aftersales_router.post("/{aftersale_id}/receive", response_model=AfterSaleOut)
def receive_return(
    aftersale_id: str, request: Request, session: SessionDep, principal: Handle
) -> AfterSaleOut:
    """The merchant confirms receipt of the return."""
    now = _now(request)
    return _aftersale_step(
        session,
        aftersale_id,
        principal,
        lambda loaded: aftersale_actions.act(
            session, loaded, "receive", actor=principal.account_id, now=now
        ),
    )


@aftersales_router.post("/{aftersale_id}/complete", response_model=AfterSaleOut)
def complete_after_sale(
    aftersale_id: str, request: Request, session: SessionDep, principal: Handle
) -> AfterSaleOut:
    """The merchant refunds a return or re-ships an exchange."""
    now = _now(request)
    return _aftersale_step(
        session,
        aftersale_id,
        principal,
        lambda loaded: aftersale_actions.finish(
            session, loaded, actor=principal.account_id, now=now
        ),
    )


# -- Violations and measures (SF-10, VF-7) ----------------------------------------------------


class ViolationOut(BaseModel):
    violation_id: int
    merchant_id: str
    order_id: str
    aftersale_id: str
    check: str
    clause: str
    deadline: str | None
    detected_at: str
    source: str


class MeasureIn(BaseModel):
    merchant_id: Ident
    product_id: Ident | None = None
    kind: MeasureKind
    reason: Text
    clause: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")] = (
        "VF-7"
    )
    until: datetime | None = Field(None, description="ISO 8601 with an offset")


class MeasureOut(BaseModel):
    measure_id: int
    merchant_id: str
    product_id: str | None
    kind: str
    reason: str
    clause: str
    state: str
    until: str | None
    created_at: str
    lifted_at: str | None


def _violation_out(row: Violation) -> ViolationOut:
    return ViolationOut(
        violation_id=row.violation_id,
        merchant_id=row.merchant_id,
        order_id=row.order_id,
        aftersale_id=row.aftersale_id,
        check=row.check,
        clause=row.clause,
        deadline=_iso(row.deadline),
        detected_at=format_instant(row.detected_at),
        source=row.source,
    )


def _measure_out(row: Measure) -> MeasureOut:
    return MeasureOut(
        measure_id=row.measure_id,
        merchant_id=row.merchant_id,
        product_id=row.product_id,
        kind=row.kind,
        reason=row.reason,
        clause=row.clause,
        state=row.state,
        until=_iso(row.until),
        created_at=format_instant(row.created_at),
        lifted_at=_iso(row.lifted_at),
    )


ViewPenalties = Annotated[Principal, Depends(require("penalties:view"))]
ManagePenalties = Annotated[Principal, Depends(require("penalties:manage"))]
MerchantFilter = Annotated[str | None, Query(max_length=64)]
penalties_router = APIRouter(tags=["penalties"], dependencies=[Depends(json_only)])


@penalties_router.get("/violations", response_model=list[ViolationOut])
def list_violations(
    session: SessionDep, principal: ViewPenalties, merchant_id: MerchantFilter = None
) -> list[ViolationOut]:
    """Recorded violations (违规) with the clause behind each."""
    scope = merchant_scope(principal, merchant_id)
    return [_violation_out(r) for r in violation_actions.of_merchant(session, scope)]


class PenaltyOut(BaseModel):
    order_id: str
    merchant_id: str
    product_id: str | None
    day: str = Field(description="the Beijing day of the violation")
    week: str
    points: float = Field(description="A-class violation points (DR-6)")
    deduction_yuan: float = Field(description="deposit deduction (保证金扣除)")
    product_banned: bool
    capped: str = Field(description="which caps limited this row: points, yuan")
    clauses: str


@penalties_router.get("/penalties", response_model=list[PenaltyOut])
def list_penalties(
    request: Request,
    session: SessionDep,
    principal: ViewPenalties,
    merchant_id: MerchantFilter = None,
) -> list[PenaltyOut]:
    """Late-shipment penalties of the recorded violations, with the caps applied (DR-6)."""
    scope = merchant_scope(principal, merchant_id)
    rows = penalty_actions.of_merchant(session, config.rules(), scope, _now(request))
    return [PenaltyOut.model_validate(r) for r in rows]


@penalties_router.post("/measures", status_code=201, response_model=MeasureOut)
def impose_measure(
    body: MeasureIn, request: Request, session: SessionDep, principal: ManagePenalties
) -> MeasureOut:
    """An operator measure of VF-7 against a merchant or one of its products."""
    if body.until is not None and body.until.tzinfo is None:
        raise HTTPException(422, detail={"error": "until needs a UTC offset", "field": "until"})
    with _domain(session):
        row = measure_actions.impose(
            session,
            merchant_id=body.merchant_id,
            product_id=body.product_id,
            kind=body.kind,
            reason=body.reason,
            clause=body.clause,
            until=body.until,
            actor=principal.account_id,
            now=_now(request),
        )
        out = _measure_out(row)
        session.commit()
    return out


@penalties_router.get("/measures", response_model=list[MeasureOut])
def list_measures(
    session: SessionDep, principal: ViewPenalties, merchant_id: MerchantFilter = None
) -> list[MeasureOut]:
    """Measures against the merchant and its products, active and lifted."""
    scope = merchant_scope(principal, merchant_id)
    return [_measure_out(r) for r in measure_actions.of_merchant(session, scope)]


@penalties_router.post("/measures/{measure_id}/lift", response_model=MeasureOut)
def lift_measure(
    measure_id: MeasureId, request: Request, session: SessionDep, principal: ManagePenalties
) -> MeasureOut:
    with _domain(session):
        row = measure_actions.load(session, measure_id, None)
        measure_actions.lift(session, row, actor=principal.account_id, now=_now(request))
        out = _measure_out(row)
        session.commit()
    return out


# -- Per order: verdicts, settlement, audit ---------------------------------------------------


class VerdictOut(BaseModel):
    order_id: str
    aftersale_id: str
    check: str
    status: str
    deadline: str | None
    done_at: str | None
    clauses: str
    detail: str


class SettlementOut(BaseModel):
    order_id: str
    settles_at: str | None = Field(description="None until receipt is confirmed")
    clause: str | None


class AuditOut(BaseModel):
    at: str
    actor: str
    action: str
    entity: str
    entity_id: str
    clause: str | None
    detail: dict[str, Any]


ViewOrders = Annotated[Principal, Depends(require("orders:view"))]
orders_router = APIRouter(prefix="/workflows", tags=["workflows"])


@orders_router.get("/orders/{order_id}/verdicts", response_model=list[VerdictOut])
def order_verdicts(
    order_id: str,
    request: Request,
    session: SessionDep,
    principal: ViewOrders,
    as_of: datetime | None = None,
) -> list[VerdictOut]:
    """The engine's verdicts on the order now (or ``as_of``), approved reports included."""
    with _domain(session):
        order = load_order(session, order_id, _tenant(principal))
        moment = as_of if as_of is not None and as_of.tzinfo else _now(request)
        verdicts = evaluate_order(order_facts(session, order), moment, config.rules())
    return [
        VerdictOut(
            order_id=v.order_id,
            aftersale_id=v.aftersale_id,
            check=v.check.value,
            status=v.status.value,
            deadline=_iso(v.deadline),
            done_at=_iso(v.done_at),
            clauses=v.clauses,
            detail=v.detail,
        )
        for v in verdicts
    ]


@orders_router.get("/orders/{order_id}/settlement", response_model=SettlementOut)
def order_settlement(order_id: str, session: SessionDep, principal: ViewOrders) -> SettlementOut:
    """The order's settlement date from the rulebook (DR-5; VF-6 for Valentine flowers)."""
    with _domain(session):
        order = load_order(session, order_id, _tenant(principal))
        found = settlement(config.rules(), order_id, order_context(session, order))
    return SettlementOut(order_id=order_id, settles_at=_iso(found.settles_at), clause=found.clause)


@orders_router.get("/audit", response_model=list[AuditOut])
def workflow_audit(
    session: SessionDep,
    principal: Annotated[Principal, Depends(current_principal)],
    entity: Annotated[str, Query(max_length=64)],
    entity_id: Annotated[str, Query(max_length=200)],
) -> list[AuditOut]:
    """The audit trail of one object: every state change with actor, time and clause."""
    query = select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
    if not principal.is_operator:
        query = query.where(AuditEntry.merchant_id == _merchant_of(principal))
    rows = session.scalars(query.order_by(AuditEntry.at, AuditEntry.entry_id))
    return [
        AuditOut(
            at=format_instant(r.at),
            actor=r.actor,
            action=r.action,
            entity=r.entity,
            entity_id=r.entity_id,
            clause=r.clause,
            detail=r.detail,
        )
        for r in rows
    ]


for _sub in (
    btas_router,
    reports_router,
    delayed_router,
    aftersales_router,
    penalties_router,
    orders_router,
):
    router.include_router(_sub)

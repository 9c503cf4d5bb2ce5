"""BTAS inspection routes (BT-1..BT-12): inspection orders, results, codes, shipping."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from lvyue.api.auth import Principal, current_principal, require
from lvyue.api.deps import SessionDep, json_only
from lvyue.api.idempotency import IdemKey
from lvyue.api.routes_workflows.common import (
    PageDep,
    actor_of,
    create_once,
    domain_errors,
    iso,
    merchant_of,
    require_any,
    service_now,
)
from lvyue.model import InspectionResult, format_instant
from lvyue.store.workflow_tables import Inspection, InspectionCode
from lvyue.workflows import config
from lvyue.workflows import evidence as bt9
from lvyue.workflows.actions import inspection
from lvyue.workflows.actions import inspection_steps as steps
from lvyue.workflows.actions.orders import load_order
from lvyue.workflows.fields import Ident, Name, Ref
from lvyue.workflows.inspection import MACHINE as INSPECTION_MACHINE


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
    send_record: str = Field(
        description="BT-9 packing record of the send-out: kept | missing (a pre-inspection "
        "sent without one: shown for a dispute, never a block or a violation) | not_due"
    )


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
        resubmit_deadline=iso(row.resubmit_deadline),
        code=code.code if code else None,
        tag_ref=code.tag_ref if code else None,
        code_bound_to=code.bound_order_id if code else None,
        allowed_events=INSPECTION_MACHINE.events_from(row.state),
        send_record=bt9.send_record(session, row),
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
router = APIRouter(prefix="/btas", tags=["btas"], dependencies=[Depends(json_only)])


@router.post("/inspections", status_code=201, response_model=InspectionOut)
def create_inspection(
    body: InspectionIn,
    request: Request,
    session: SessionDep,
    principal: Manage,
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """Create an inspection order (送检单, BT-4) for one item."""
    merchant_of(principal)

    def create() -> BaseModel:
        row = inspection.create(
            session,
            actor_of(principal),
            item_id=body.item_id,
            category=body.category,
            agency=body.agency,
            order_id=body.order_id,
            now=service_now(request),
        )
        return _inspection_out(session, row)

    return create_once(request, session, principal, idempotency_key, body, create)


@router.get("/inspections", response_model=list[InspectionOut])
def list_inspections(
    session: SessionDep,
    principal: SeeInspections,
    response: Response,
    paging: PageDep,
    state: Annotated[str | None, Query(max_length=32)] = None,
) -> list[InspectionOut]:
    """The caller's inspections: a merchant's own, an agency's received ones."""
    query = steps.visible(actor_of(principal))
    if query is None:
        raise HTTPException(404, detail="not found")
    if state is not None:
        query = query.where(Inspection.state == state)
    rows = paging.of(list(session.scalars(query)), response)
    return [_inspection_out(session, row) for row in rows]


@router.get("/inspections/{inspection_id}", response_model=InspectionOut)
def get_inspection(
    inspection_id: str, session: SessionDep, principal: SeeInspections
) -> InspectionOut:
    with domain_errors(session):
        return _inspection_out(
            session, inspection.load(session, inspection_id, actor_of(principal))
        )


def parcel_of(body: ParcelIn) -> inspection.Parcel:
    return inspection.Parcel(body.carrier, body.waybill, body.packing_video)


def result_of(body: ResultIn) -> steps.Result:
    return steps.Result(body.result is InspectionResult.PASS, body.report_ref,
                        tuple(body.evidence), body.tag_ref)  # fmt: skip


def _inspection_step(
    session: Session, request: Request, inspection_id: str, principal: Principal, what: steps.Step
) -> InspectionOut:
    with domain_errors(session):
        actor, now = actor_of(principal), service_now(request)
        row = steps.take(session, inspection_id, actor, now, what)
        out = _inspection_out(session, row)
        session.commit()
    return out


@router.post("/inspections/{inspection_id}/send", response_model=InspectionOut)
def send_inspection(
    inspection_id: str, body: ParcelIn, request: Request, session: SessionDep, principal: Manage
) -> InspectionOut:
    """The merchant sends the item to the agency with tracking and packing video (BT-9)."""
    what = steps.Send(parcel_of(body))
    return _inspection_step(session, request, inspection_id, principal, what)


@router.post("/inspections/{inspection_id}/receive", response_model=InspectionOut)
def receive_inspection(
    inspection_id: str, request: Request, session: SessionDep, principal: Inspect
) -> InspectionOut:
    """The agency confirms it received the item."""
    what = steps.Plain("receive")
    return _inspection_step(session, request, inspection_id, principal, what)


@router.post("/inspections/{inspection_id}/result", response_model=InspectionOut)
def inspection_result(
    inspection_id: str, body: ResultIn, request: Request, session: SessionDep, principal: Inspect
) -> InspectionOut:
    """Pass (issues the item's one code, BT-10) or fail (with a re-submission deadline)."""
    what = steps.Record(result_of(body))
    return _inspection_step(session, request, inspection_id, principal, what)


@router.post("/inspections/{inspection_id}/resubmit", response_model=InspectionOut)
def resubmit_inspection(
    inspection_id: str, request: Request, session: SessionDep, principal: Manage
) -> InspectionOut:
    """Send a failed item again, before its re-submission deadline."""
    what = steps.Plain("resubmit")
    return _inspection_step(session, request, inspection_id, principal, what)


@router.post("/inspections/{inspection_id}/cancel", response_model=InspectionOut)
def cancel_inspection(
    inspection_id: str, request: Request, session: SessionDep, principal: Manage
) -> InspectionOut:
    """The merchant cancels an inspection order before sending the item."""
    what = steps.Plain("cancel")
    return _inspection_step(session, request, inspection_id, principal, what)


@router.post("/inspections/{inspection_id}/return", response_model=InspectionOut)
def return_inspection(
    inspection_id: str, body: ParcelIn, request: Request, session: SessionDep, principal: Inspect
) -> InspectionOut:
    """The agency returns the sealed, passed item to the merchant (pre-inspection, BT-3)."""
    what = steps.ReturnItem(parcel_of(body))
    return _inspection_step(session, request, inspection_id, principal, what)


@router.post("/inspections/{inspection_id}/ship", status_code=201, response_model=ShipmentOut)
def agency_ship(
    inspection_id: str,
    body: AgencyShipIn,
    request: Request,
    session: SessionDep,
    principal: Inspect,
) -> ShipmentOut:
    """The agency ships the passed item to the consumer, code bound (BT-2)."""
    with domain_errors(session):
        actor = actor_of(principal)
        row = inspection.load(session, inspection_id, actor)
        shipment = inspection.ship_to_consumer(
            session,
            row,
            actor,
            service_now(request),
            order_id=body.order_id,
            parcel=parcel_of(body),
        )
        out = _shipment_out(shipment)
        session.commit()
    return out


@router.post("/orders/{order_id}/ship", status_code=201, response_model=ShipmentOut)
def ship_with_code(
    order_id: str,
    body: ShipWithCodeIn,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("orders:ship"))],
) -> ShipmentOut:
    """Bind the inspection code and ship (绑码发货, BT-8); refused naming the clause when the
    category needs inspection and the code is missing, forged, another item's or used."""
    with domain_errors(session):
        order = load_order(session, order_id, merchant_of(principal))
        shipment = inspection.ship_with_code(
            session,
            config.rules(),
            config.signer(),
            order,
            actor_of(principal),
            service_now(request),
            code=body.inspection_code,
            item_id=body.item_id,
            parcel=parcel_of(body),
        )
        out = _shipment_out(shipment)
        session.commit()
    return out


@router.post("/codes/verify", response_model=VerifyOut)
def verify_code(
    body: VerifyIn, principal: Annotated[Principal, Depends(current_principal)]
) -> VerifyOut:
    """Is this code authentic for this item of this merchant? Checked by signature alone."""
    authentic = steps.is_authentic(body.code, body.item_id, body.merchant_id)
    code_id = body.code.split("-")[1] if authentic else None
    return VerifyOut(authentic=authentic, code_id=code_id)

"""Violations, DR-6 penalties and VF-7 measures routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from lvyue.api.auth import Principal, merchant_scope, require
from lvyue.api.deps import SessionDep, json_only
from lvyue.api.idempotency import IdemKey
from lvyue.api.routes_workflows.common import (
    PageDep,
    create_once,
    domain_errors,
    iso,
    service_now,
)
from lvyue.model import format_instant
from lvyue.store.workflow_tables import Measure, Violation
from lvyue.workflows import config
from lvyue.workflows.actions import measures as measure_actions
from lvyue.workflows.actions import penalties as penalty_actions
from lvyue.workflows.actions import violations as violation_actions
from lvyue.workflows.fields import Ident, Text
from lvyue.workflows.measures import MeasureKind


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
    merchant_id: str | None = Field(description="empty for a measure on a creator (VF-9)")
    creator_id: str | None = None
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
        deadline=iso(row.deadline),
        detected_at=format_instant(row.detected_at),
        source=row.source,
    )


def _measure_out(row: Measure) -> MeasureOut:
    return MeasureOut(
        measure_id=row.measure_id,
        merchant_id=row.merchant_id,
        creator_id=row.creator_id,
        product_id=row.product_id,
        kind=row.kind,
        reason=row.reason,
        clause=row.clause,
        state=row.state,
        until=iso(row.until),
        created_at=format_instant(row.created_at),
        lifted_at=iso(row.lifted_at),
    )


ViewPenalties = Annotated[Principal, Depends(require("penalties:view"))]
ManagePenalties = Annotated[Principal, Depends(require("penalties:manage"))]
MerchantFilter = Annotated[str | None, Query(max_length=64)]
router = APIRouter(tags=["penalties"], dependencies=[Depends(json_only)])


@router.get("/violations", response_model=list[ViolationOut])
def list_violations(
    session: SessionDep,
    principal: ViewPenalties,
    response: Response,
    paging: PageDep,
    merchant_id: MerchantFilter = None,
) -> list[ViolationOut]:
    """Recorded violations (违规) with the clause behind each, a page at a time."""
    scope = merchant_scope(principal, merchant_id)
    rows = paging.of(violation_actions.of_merchant(session, scope), response)
    return [_violation_out(r) for r in rows]


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


@router.get("/penalties", response_model=list[PenaltyOut])
def list_penalties(
    request: Request,
    session: SessionDep,
    principal: ViewPenalties,
    response: Response,
    paging: PageDep,
    merchant_id: MerchantFilter = None,
) -> list[PenaltyOut]:
    """Late-shipment penalties of the recorded violations, with the caps applied (DR-6); the
    caps are computed over all of them, then a page is returned."""
    scope = merchant_scope(principal, merchant_id)
    rows = penalty_actions.of_merchant(session, config.rules(), scope, service_now(request))
    return [PenaltyOut.model_validate(r) for r in paging.of(rows, response)]


@router.post("/measures", status_code=201, response_model=MeasureOut)
def impose_measure(
    body: MeasureIn,
    request: Request,
    session: SessionDep,
    principal: ManagePenalties,
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """An operator measure of VF-7 against a merchant or one of its products."""
    if body.until is not None and body.until.tzinfo is None:
        raise HTTPException(422, detail={"error": "until needs a UTC offset", "field": "until"})

    def create() -> BaseModel:
        row = measure_actions.impose(
            session,
            merchant_id=body.merchant_id,
            product_id=body.product_id,
            kind=body.kind,
            reason=body.reason,
            clause=body.clause,
            until=body.until,
            actor=principal.account_id,
            now=service_now(request),
        )
        return _measure_out(row)

    return create_once(request, session, principal, idempotency_key, body, create)


@router.get("/measures", response_model=list[MeasureOut])
def list_measures(
    session: SessionDep,
    principal: ViewPenalties,
    response: Response,
    paging: PageDep,
    merchant_id: MerchantFilter = None,
) -> list[MeasureOut]:
    """Measures against the merchant and its products, active and lifted, a page at a time."""
    scope = merchant_scope(principal, merchant_id)
    rows = paging.of(measure_actions.of_merchant(session, scope), response)
    return [_measure_out(r) for r in rows]


MeasureId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("/measures/{measure_id}/lift", response_model=MeasureOut)
def lift_measure(
    measure_id: MeasureId, request: Request, session: SessionDep, principal: ManagePenalties
) -> MeasureOut:
    with domain_errors(session):
        row = measure_actions.load(session, measure_id, None)
        measure_actions.lift(session, row, actor=principal.account_id, now=service_now(request))
        out = _measure_out(row)
        session.commit()
    return out

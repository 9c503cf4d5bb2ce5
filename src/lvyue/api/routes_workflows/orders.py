"""Per-order routes: the engine's verdicts, the settlement date, the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from lvyue.api.auth import Principal, require
from lvyue.api.deps import SessionDep
from lvyue.api.routes_workflows.common import (
    domain_errors,
    iso,
    merchant_of,
    service_now,
    tenant_of,
)
from lvyue.engine.online import evaluate_order
from lvyue.model import format_instant
from lvyue.store import AuditEntry
from lvyue.workflows import config
from lvyue.workflows.actions.orders import load_order, order_context
from lvyue.workflows.actions.stored_facts import order_facts
from lvyue.workflows.settlement import settlement


class VerdictOut(BaseModel):
    order_id: str
    aftersale_id: str
    check: str
    duty: str = Field(description="whose duty: merchant, carrier_for_merchant, consumer, platform")
    status: str
    deadline: str | None
    done_at: str | None
    clauses: str
    reason: str
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
router = APIRouter(prefix="/workflows", tags=["workflows"])


@router.get("/orders/{order_id}/verdicts", response_model=list[VerdictOut])
def order_verdicts(
    order_id: str,
    request: Request,
    session: SessionDep,
    principal: ViewOrders,
    as_of: datetime | None = None,
) -> list[VerdictOut]:
    """The engine's verdicts on the order now (or ``as_of``), approved reports included."""
    if as_of is not None and as_of.tzinfo is None:
        raise HTTPException(422, detail={"error": "as_of needs a UTC offset", "field": "as_of"})
    with domain_errors(session):
        order = load_order(session, order_id, tenant_of(principal))
        moment = as_of or service_now(request)
        verdicts = evaluate_order(order_facts(session, order), moment, config.rules())
    return [
        VerdictOut(
            order_id=v.order_id,
            aftersale_id=v.aftersale_id,
            check=v.check.value,
            duty=v.duty.value,
            status=v.status.value,
            deadline=iso(v.deadline),
            done_at=iso(v.done_at),
            clauses=v.clauses,
            reason=v.reason,
            detail=v.detail,
        )
        for v in verdicts
    ]


@router.get("/orders/{order_id}/settlement", response_model=SettlementOut)
def order_settlement(order_id: str, session: SessionDep, principal: ViewOrders) -> SettlementOut:
    """The order's settlement date from the rulebook (DR-5; VF-6 for Valentine flowers)."""
    with domain_errors(session):
        order = load_order(session, order_id, tenant_of(principal))
        found = settlement(config.rules(), order_id, order_context(session, order))
    return SettlementOut(order_id=order_id, settles_at=iso(found.settles_at), clause=found.clause)


@router.get("/audit", response_model=list[AuditOut])
def workflow_audit(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("audit:view"))],
    entity: Annotated[str, Query(max_length=64)],
    entity_id: Annotated[str, Query(max_length=200)],
) -> list[AuditOut]:
    """The audit trail of one object: every state change with actor, time and clause
    (``audit:view``; a merchant's account sees its own shop's entries only)."""
    query = select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
    if not principal.is_operator:
        query = query.where(AuditEntry.merchant_id == merchant_of(principal))
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

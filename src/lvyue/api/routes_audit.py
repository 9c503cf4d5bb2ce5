"""The audit log (GN-3): every state change and rule-driven decision, with actor and clause."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select

from lvyue.api.auth import Principal, current_principal, merchant_scope, require
from lvyue.api.deps import SessionDep
from lvyue.model import format_instant
from lvyue.store import AuditEntry

router = APIRouter(tags=["audit"], dependencies=[Depends(current_principal)])


class AuditOut(BaseModel):
    entry_id: int
    at: str
    actor: str
    action: str
    entity: str
    entity_id: str
    merchant_id: str | None
    clause: str | None
    detail: dict[str, Any]


@router.get("/audit")
def audit_log(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("audit:view"))],
    merchant_id: Annotated[str | None, Query(max_length=64)] = None,
    entity: Annotated[str | None, Query(max_length=64)] = None,
    entity_id: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[AuditOut]:
    """Newest first. A merchant sees the entries about its own shop only."""
    scope = merchant_scope(principal, merchant_id)
    query = select(AuditEntry)
    if scope is not None:
        query = query.where(AuditEntry.merchant_id == scope)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    query = query.order_by(AuditEntry.entry_id.desc()).limit(limit).offset(offset)
    return [
        AuditOut(
            entry_id=e.entry_id,
            at=format_instant(e.at),
            actor=e.actor,
            action=e.action,
            entity=e.entity,
            entity_id=e.entity_id,
            merchant_id=e.merchant_id,
            clause=e.clause,
            detail=e.detail,
        )
        for e in session.scalars(query)
    ]

"""The quarantine: rows ingestion refused, listed, fixed and replayed by an operator."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select

from lvyue.api.auth import (
    Principal,
    current_principal,
    forbidden,
    merchant_scope,
    own_merchant,
    require,
)
from lvyue.api.deps import SessionDep, json_only
from lvyue.model import format_instant
from lvyue.model.rows import describe
from lvyue.store import Account, QuarantinedRow, audit, utcnow
from lvyue.store.write import RowRejected, Scope, replay

router = APIRouter(
    prefix="/quarantine",
    tags=["quarantine"],
    dependencies=[Depends(current_principal), Depends(json_only)],
)
Status = Literal["open", "replayed", "discarded"]
QuarantineId = Annotated[int, Path(ge=1, le=2_147_483_647)]


class QuarantineOut(BaseModel):
    quarantine_id: int
    source: str
    merchant_id: str | None
    payload: dict[str, Any]
    error: str
    status: str
    received_by: str | None
    received_at: str
    resolved_by: str | None
    resolved_at: str | None


class FixIn(BaseModel):
    payload: dict[str, Any] = Field(description="the corrected row, replacing the stored one")


class ReplayOut(BaseModel):
    quarantine_id: int
    replayed: bool
    outcome: str | None = None
    error: str | None = None


def _out(row: QuarantinedRow) -> QuarantineOut:
    return QuarantineOut(
        quarantine_id=row.quarantine_id,
        source=row.source,
        merchant_id=row.merchant_id,
        payload=row.payload,
        error=row.error,
        status=row.status,
        received_by=row.received_by,
        received_at=format_instant(row.received_at),
        resolved_by=row.resolved_by,
        resolved_at=None if row.resolved_at is None else format_instant(row.resolved_at),
    )


Operator = Annotated[Principal, Depends(require("quarantine:manage"))]


def reader(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """Operators read every row; a merchant account that ships (orders:ship) reads the
    rows it sent, to see why they were refused. Fixing and replaying stay with operators."""
    if "quarantine:manage" in principal.permissions:
        return principal
    if "orders:ship" in principal.permissions and principal.merchant_id is not None:
        return principal
    raise forbidden("quarantine:manage")


Reader = Annotated[Principal, Depends(reader)]


def _get(session: SessionDep, quarantine_id: int) -> QuarantinedRow:
    row = session.get(QuarantinedRow, quarantine_id)
    if row is None:
        raise HTTPException(404, detail="not found")
    return row


def _open(session: SessionDep, quarantine_id: int) -> QuarantinedRow:
    """The row, if it still waits for a fix, a replay or a discard (else 409)."""
    row = _get(session, quarantine_id)
    if row.status != "open":
        raise HTTPException(409, detail=f"status: the row is {row.status}, not open")
    return row


def _audit(
    session: SessionDep,
    principal: Principal,
    row: QuarantinedRow,
    action: str,
    detail: dict[str, Any] | None = None,
) -> None:
    audit(
        session,
        actor=principal.account_id,
        action=action,
        entity="quarantine",
        entity_id=str(row.quarantine_id),
        merchant_id=row.merchant_id,
        detail=detail,
    )


@router.get("")
def list_quarantine(
    session: SessionDep,
    principal: Reader,
    status: Status = "open",
    source: Annotated[str | None, Query(max_length=32)] = None,
    merchant_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[QuarantineOut]:
    """Quarantined rows, oldest first (a merchant: those of its own shop)."""
    scope = merchant_scope(principal, merchant_id)  # a non-operator reader has a merchant
    query = select(QuarantinedRow).where(QuarantinedRow.status == status)
    if source is not None:
        query = query.where(QuarantinedRow.source == source)
    if scope is not None:
        query = query.where(QuarantinedRow.merchant_id == scope)
    query = query.order_by(QuarantinedRow.quarantine_id).limit(limit).offset(offset)
    return [_out(row) for row in session.scalars(query)]


@router.get("/{quarantine_id}")
def get_quarantined(
    quarantine_id: QuarantineId, session: SessionDep, principal: Reader
) -> QuarantineOut:
    row = _get(session, quarantine_id)
    own_merchant(principal, row.merchant_id)
    return _out(row)


@router.put("/{quarantine_id}")
def fix_quarantined(
    quarantine_id: QuarantineId, body: FixIn, session: SessionDep, principal: Operator
) -> QuarantineOut:
    """Replace an open row's payload with a corrected one (replay it afterwards)."""
    row = _open(session, quarantine_id)
    _audit(session, principal, row, "quarantine.fix", {"before": row.payload})
    row.payload = body.payload
    session.commit()
    return _out(row)


def _uploader_scope(session: SessionDep, row: QuarantinedRow) -> Scope:
    """Replay with the rights of whoever sent the row, never more."""
    from lvyue.tracking.carriers import CARRIERS

    account = session.get(Account, row.received_by) if row.received_by else None
    carrier = account.organisation if account and account.organisation in CARRIERS else None
    return Scope(merchant_id=row.merchant_id, carrier=carrier)


@router.post("/{quarantine_id}/replay")
def replay_quarantined(
    quarantine_id: QuarantineId, session: SessionDep, principal: Operator
) -> ReplayOut:
    """Apply the (fixed) row again; if it is still bad, the new error is stored and returned."""
    row = _open(session, quarantine_id)
    try:
        outcome = replay(session, row, _uploader_scope(session, row), principal.account_id)
    except (ValidationError, RowRejected, ValueError) as error:
        message = describe(error) if isinstance(error, ValidationError) else str(error)
        row.error = f"replay: {message}"
        session.commit()
        return ReplayOut(quarantine_id=quarantine_id, replayed=False, error=row.error)
    _audit(session, principal, row, "quarantine.replay", {"outcome": outcome})
    session.commit()
    return ReplayOut(quarantine_id=quarantine_id, replayed=True, outcome=outcome)


@router.delete("/{quarantine_id}")
def discard_quarantined(
    quarantine_id: QuarantineId, session: SessionDep, principal: Operator
) -> QuarantineOut:
    """Give up on a row (kept, marked discarded, for the record)."""
    row = _open(session, quarantine_id)
    row.status, row.resolved_by, row.resolved_at = "discarded", principal.account_id, utcnow()
    _audit(session, principal, row, "quarantine.discard")
    session.commit()
    return _out(row)

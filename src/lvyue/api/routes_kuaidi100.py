"""The Kuaidi100 subscription push (快递100 订阅推送), in Kuaidi100's own format.

Form fields ``param`` (JSON) and ``sign`` (MD5 of param + salt, checked with the salt of the
integration, ``LVYUE_KUAIDI100_SALT``). A verified push is acknowledged with exactly
``{"result":true,"returnCode":"200","message":"成功"}``. A verified push we cannot read is
kept in quarantine and acknowledged too (retrying would not fix it; an operator will). The
events' natural keys make repeated or reordered pushes give the same state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from lvyue.api.auth import Principal, current_principal, forbidden, write_scope
from lvyue.api.deps import SessionDep, content_type
from lvyue.store import audit
from lvyue.store.ingest import (
    Outcome,
    RowRejected,
    Scope,
    apply_tracking,
    quarantine,
    register_replayer,
)
from lvyue.store.retry import retrying
from lvyue.store.rows import TrackingRow
from lvyue.tracking.kuaidi100 import ACK, PushError, SignatureError, decode_push

router = APIRouter(
    prefix="/carriers/kuaidi100", tags=["tracking"], dependencies=[Depends(current_principal)]
)
SOURCE = "kuaidi100"


def _apply_push(session: Session, form: Mapping[str, Any], scope: Scope, actor: str) -> Outcome:
    """Apply every scan of a push; the push is one unit (all of it or none)."""
    update = decode_push({k: str(v) for k, v in form.items()}, salt=None)
    outcomes = [
        apply_tracking(
            session,
            TrackingRow(
                carrier=event.carrier,
                waybill=event.waybill,
                time=event.time,
                kind=event.kind,
                location=event.location or None,
                text=event.text or None,
            ),
            scope,
        )
        for event in update.events
    ]
    return (
        "created" if "created" in outcomes else "updated" if "updated" in outcomes else "unchanged"
    )


register_replayer(SOURCE, _apply_push)


def _refuse(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"result": False, "returnCode": str(status), "message": message}, status_code=status
    )


@router.post(
    "/push",
    dependencies=[
        Depends(content_type("application/x-www-form-urlencoded", "multipart/form-data"))
    ],
    responses={200: {"content": {"application/json": {"example": ACK}}}},
)
def kuaidi100_push(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(current_principal)],
    param: Annotated[str, Form(max_length=1_000_000)],
    sign: Annotated[str, Form(max_length=64)] = "",
) -> JSONResponse:
    """Receive one push. Authenticate with the carrier integration's bearer token."""
    if "tracking:push" not in principal.permissions:
        raise forbidden("tracking:push")
    salt: str | None = request.app.state.kuaidi100_salt
    if not salt:
        return _refuse(403, "push not configured: set LVYUE_KUAIDI100_SALT")
    form = {"param": param, "sign": sign}
    scope = write_scope(principal)
    try:
        decode_push(form, salt=salt)
    except SignatureError as error:
        return _refuse(403, str(error))  # possibly forged: keep nothing
    except PushError:
        pass  # readable signature, unreadable content: quarantined below
    retrying(session, lambda: _receive(session, form, scope, principal.account_id))
    return JSONResponse(ACK)


def _receive(session: Session, form: Mapping[str, str], scope: Scope, actor: str) -> None:
    """Store a verified push, or quarantine it whole with the reason; commit either way."""
    try:
        with session.begin_nested():
            outcome = _apply_push(session, form, scope, actor)
    except (PushError, RowRejected) as error:
        quarantine(session, SOURCE, form, str(error), scope, actor)
        outcome = "quarantined"  # type: ignore[assignment]
    audit(
        session,
        actor=actor,
        action="tracking.push",
        entity="waybill",
        entity_id=SOURCE,
        detail={"outcome": outcome},
    )
    session.commit()

"""The Kuaidi100 subscription push (快递100 订阅推送), in Kuaidi100's own format.

Form fields ``param`` (JSON) and ``sign`` (upper-case MD5 of param + salt). Kuaidi100 cannot
send a bearer token, so the callback URL it is given names a subscription
(``/carriers/kuaidi100/push/{subscription_id}``), whose salt authenticates the push and whose
carrier account it acts as; an operator creates subscriptions. The older bearer-token route
(``/carriers/kuaidi100/push``, salt ``LVYUE_KUAIDI100_SALT``) stays for integrations that can.

A verified push is acknowledged with exactly ``{"result":true,"returnCode":"200",
"message":"成功"}``. A verified push we cannot read or store (bad JSON, a time out of range,
a waybill or scan text that does not fit, another carrier's scans) is kept whole in quarantine
with the reason and acknowledged too (retrying would not fix it; an operator will). The
events' natural keys make repeated or reordered pushes give the same state.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from lvyue.api.auth import (
    Principal,
    current_principal,
    forbidden,
    principal_of,
    require,
    write_scope,
)
from lvyue.api.deps import SessionDep, content_type, json_only
from lvyue.api.routes_workflows.common import service_now
from lvyue.model.clock import business_now
from lvyue.model.rows import TrackingRow, describe
from lvyue.store import audit
from lvyue.store.retry import retrying
from lvyue.store.scans import apply_scans
from lvyue.store.subscriptions import (
    NotACarrier,
    create_subscription,
    revoke_subscription,
    subscriber,
)
from lvyue.store.write import (
    Outcome,
    RowRejected,
    Scope,
    flag_for_review,
    held_scans,
    quarantine,
    register_replayer,
)
from lvyue.store.write import scan_key as _scan_key
from lvyue.tracking.kuaidi100 import ACK, PushError, SignatureError, decode_push

PREFIX = "/carriers/kuaidi100"
router = APIRouter(prefix=PREFIX, tags=["tracking"], dependencies=[Depends(current_principal)])
# Authenticated by the signature alone (Kuaidi100 sends no token): no bearer dependency.
signed = APIRouter(prefix=PREFIX, tags=["tracking"])
SOURCE = "kuaidi100"
_FORM = Depends(content_type("application/x-www-form-urlencoded", "multipart/form-data"))
_ACK_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"example": ACK}}}
}
Param = Annotated[str, Form(max_length=1_000_000)]
Sign = Annotated[str, Form(max_length=64)]


def _apply_push(
    session: Session,
    form: Mapping[str, Any],
    scope: Scope,
    actor: str,
    *,
    now: datetime | None = None,
    reviewed: bool = False,
) -> Outcome:
    """Apply every scan of a push; the push is one unit (all of it or none), except a scan
    held for its time (``refusals.scan_hold``): kept alone for review, the others applied
    (Kuaidi100 repeats a waybill's whole history in each push: one held scan must not hold
    back every later one)."""
    update = decode_push({k: str(v) for k, v in form.items()}, salt=None)
    try:
        rows = [
            TrackingRow(
                carrier=event.carrier,
                waybill=event.waybill,
                time=event.time,
                kind=event.kind,
                location=event.location or None,
                text=event.text or None,
            )
            for event in update.events
        ]
    except ValidationError as error:
        raise PushError(describe(error)) from None
    held = {} if reviewed else held_scans(session, rows, now or business_now())
    for row in rows:
        if _scan_key(row) in held:
            payload = row.model_dump(mode="json", exclude_none=True)
            flag_for_review(session, "tracking", payload, held[_scan_key(row)], scope, actor)
    kept = [row for row in rows if _scan_key(row) not in held]
    outcomes = apply_scans(session, kept, scope)  # set-based: one INSERT for the push
    return (
        "created" if "created" in outcomes else "updated" if "updated" in outcomes else "unchanged"
    )


def _replay_push(session: Session, form: Mapping[str, Any], scope: Scope, actor: str) -> Outcome:
    """An operator's replay of a quarantined push is the review: its scans apply as they are."""
    return _apply_push(session, form, scope, actor, reviewed=True)


def register() -> None:
    """Let quarantined pushes be replayed (create_app calls this; nothing on import)."""
    register_replayer(SOURCE, _replay_push)


def _refuse(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"result": False, "returnCode": str(status), "message": message}, status_code=status
    )


def _reason(error: Exception) -> str:
    """Why a push is quarantined, on one line, storable anywhere (no NUL)."""
    if isinstance(error, DataError):
        text = str(error.orig).splitlines()[0] if error.orig else "a value does not fit"
        text = f"a value does not fit the database: {text}"
    else:
        text = str(error)
    return text.replace("\x00", "\\x00")[:2000]


def _receive(
    session: Session, form: Mapping[str, str], scope: Scope, actor: str, now: datetime
) -> None:
    """Store a verified push, or quarantine it whole with the reason; commit either way."""
    try:
        with session.begin_nested():
            outcome: str = _apply_push(session, form, scope, actor, now=now)
    except (PushError, RowRejected, DataError) as error:
        quarantine(session, SOURCE, form, _reason(error), scope, actor)
        outcome = "quarantined"
    audit(
        session,
        actor=actor,
        action="tracking.push",
        entity="waybill",
        entity_id=SOURCE,
        detail={"outcome": outcome},
    )
    session.commit()


def _accept(
    session: Session,
    form: Mapping[str, str],
    salt: str,
    scope: Scope,
    actor: str,
    refused: int,
    now: datetime,
) -> JSONResponse:
    """Verify the signature (``refused`` if it does not match: possibly forged, keep nothing),
    then store or quarantine the push and acknowledge it."""
    try:
        decode_push(form, salt=salt)
    except SignatureError as error:
        return _refuse(refused, str(error))
    except PushError:
        pass  # readable signature, unreadable content: quarantined by _receive
    retrying(session, lambda: _receive(session, form, scope, actor, now))
    return JSONResponse(ACK)


@router.post("/push", dependencies=[_FORM], responses=_ACK_DOC)
def kuaidi100_push(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(current_principal)],
    param: Param,
    sign: Sign = "",
) -> JSONResponse:
    """Receive one push with the carrier integration's bearer token (salt of the service)."""
    if "tracking:push" not in principal.permissions:
        raise forbidden("tracking:push")
    salt: str | None = request.app.state.kuaidi100_salt
    if not salt:
        return _refuse(403, "push not configured: set LVYUE_KUAIDI100_SALT")
    form = {"param": param, "sign": sign}
    scope = write_scope(principal)
    now = service_now(request)
    return _accept(session, form, salt, scope, principal.account_id, 403, now)


@signed.post("/push/{subscription_id}", dependencies=[_FORM], responses=_ACK_DOC)
def kuaidi100_subscription_push(
    subscription_id: Annotated[str, Path(max_length=64)],
    request: Request,
    session: SessionDep,
    param: Param,
    sign: Sign = "",
) -> JSONResponse:
    """Receive one push as Kuaidi100 sends it: no token, ``sign`` = MD5(param + the
    subscription's salt). Unknown subscription or wrong signature: 401, nothing kept."""
    found = subscriber(session, subscription_id)
    if found is None:
        return _refuse(401, "unknown or revoked subscription")
    subscription, account = found
    principal = principal_of(session, account)
    if "tracking:push" not in principal.permissions:
        return _refuse(401, "the subscription's account may not push scans")
    form = {"param": param, "sign": sign}
    scope = write_scope(principal)
    now = service_now(request)
    return _accept(session, form, subscription.salt, scope, account.account_id, 401, now)


class SubscriptionIn(BaseModel):
    account_id: str = Field(min_length=1, max_length=64, description="a carrier account")


class SubscriptionOut(BaseModel):
    subscription_id: str
    account_id: str
    salt: str = Field(description="give it to Kuaidi100 as the subscription's salt")
    callback: str = Field(description="the callback URL's path, for Kuaidi100's callbackurl")


@router.post("/subscriptions", status_code=201, dependencies=[Depends(json_only)])
def add_subscription(
    body: SubscriptionIn,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("merchants:manage"))],
) -> SubscriptionOut:
    """Create a push subscription acting as a carrier account (operators)."""
    try:
        made = create_subscription(session, body.account_id, principal.account_id)
    except NotACarrier as error:
        raise HTTPException(422, detail=str(error)) from None
    audit(
        session,
        actor=principal.account_id,
        action="subscription.create",
        entity="account",
        entity_id=body.account_id,
    )
    session.commit()
    return SubscriptionOut(
        subscription_id=made.subscription_id,
        account_id=made.account_id,
        salt=made.salt,
        callback=f"{PREFIX}/push/{made.subscription_id}",
    )


@router.delete("/subscriptions/{subscription_id}", status_code=204)
def remove_subscription(
    subscription_id: Annotated[str, Path(max_length=64)],
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("merchants:manage"))],
) -> None:
    """Revoke a subscription: its pushes are refused from now on (operators)."""
    if not revoke_subscription(session, subscription_id):
        raise HTTPException(404, detail="not found")
    audit(
        session,
        actor=principal.account_id,
        action="subscription.revoke",
        entity="subscription",
        entity_id=subscription_id,
    )
    session.commit()

"""API tokens of every account kind: expiry, rotation, revocation (issue 12 item 10).

Console log-in sessions are another thing (``lvyue.web``): these are the bearer tokens of
integrations and scripts. Each lives ``TOKEN_TTL`` (90 days) unless issued for less; any
account lists, rotates and revokes its own; a main account manages its shop's accounts'
tokens, an operator every account's (operators, agencies, carriers, consumers, main accounts).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from lvyue.api.auth import Principal, current_principal, forbidden, own_merchant
from lvyue.api.deps import DbId, SessionDep, json_only
from lvyue.model import format_instant
from lvyue.store import Account, audit
from lvyue.store.accounts import (
    MAX_TOKEN_TTL,
    TOKEN_TTL,
    end_console_sessions,
    issue_token_row,
    revoke_token,
    revoke_tokens,
    token_state,
    tokens_of,
)
from lvyue.store.tables import ApiToken, utcnow

router = APIRouter(tags=["tokens"], dependencies=[Depends(current_principal), Depends(json_only)])
Caller = Annotated[Principal, Depends(current_principal)]
# Marks the operations that can revoke the token they are called with: generated-call tests
# walk them last, with a throw-away token, or not at all.
REVOKES_CALLER = {"x-revokes-caller": True}


class TokenOut(BaseModel):
    token_id: int
    account_id: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    state: str = Field(description="valid, expired or revoked")
    current: bool = Field(description="the token this request came with")


class NewTokenIn(BaseModel):
    expires_in_days: int = Field(default=TOKEN_TTL.days, ge=1, le=MAX_TOKEN_TTL.days)


class NewTokenOut(BaseModel):
    token_id: int
    account_id: str
    token: str = Field(description="Shown once: only its hash is stored")
    expires_at: str


class RevokedOut(BaseModel):
    account_id: str
    revoked: int
    console_sessions_ended: int = Field(description="its console log-ins, ended too")


NewToken = Annotated[NewTokenIn | None, Body()]


def _out(token: ApiToken, principal: Principal) -> TokenOut:
    return TokenOut(
        token_id=token.token_id,
        account_id=token.account_id,
        created_at=format_instant(token.created_at),
        expires_at=format_instant(token.expires_at) if token.expires_at else None,
        revoked_at=format_instant(token.revoked_at) if token.revoked_at else None,
        state=token_state(token, utcnow()),
        current=token.token_id == principal.token_id,
    )


def _issue(
    session: Session,
    principal: Principal,
    account: Account,
    body: NewTokenIn | None,
    action: str,
    not_after: datetime | None = None,
) -> NewTokenOut:
    ttl = timedelta(days=(body or NewTokenIn()).expires_in_days)
    issued = issue_token_row(session, account.account_id, ttl, not_after)
    expires = issued.row.expires_at
    assert expires is not None
    audit(
        session,
        actor=principal.account_id,
        action=action,
        entity="account",
        entity_id=account.account_id,
        merchant_id=account.merchant_id,
        detail={"token_id": issued.row.token_id, "expires_at": format_instant(expires)},
    )
    session.commit()
    return NewTokenOut(
        token_id=issued.row.token_id,
        account_id=account.account_id,
        token=issued.token,
        expires_at=format_instant(expires),
    )


def _managed(session: Session, principal: Principal, account_id: str) -> Account:
    """An account whose tokens the caller manages: an operator any (merchants:manage), a main
    account its own shop's (accounts:manage); 403 without the permission, 404 for others."""
    needed = "merchants:manage" if principal.is_operator else "accounts:manage"
    if needed not in principal.permissions:
        raise forbidden(needed)
    account = session.get(Account, account_id)
    if account is None:
        raise HTTPException(404, detail="not found")
    own_merchant(principal, account.merchant_id)
    return account


def _caller_account(session: Session, principal: Principal) -> Account:
    account = session.get(Account, principal.account_id)
    if account is None:  # deleted under the request: nothing to act on
        raise HTTPException(404, detail="not found")
    return account


@router.get("/tokens")
def my_tokens(session: SessionDep, principal: Caller) -> list[TokenOut]:
    """The caller's own API tokens (never the tokens themselves: only their hashes exist)."""
    return [_out(t, principal) for t in tokens_of(session, principal.account_id)]


@router.post("/tokens/rotate", status_code=201, openapi_extra=REVOKES_CALLER)
def rotate(session: SessionDep, principal: Caller, body: NewToken = None) -> NewTokenOut:
    """A new token for the caller; the one this request came with is revoked at once. The new
    one expires no later than it (a token issued for a day cannot rotate itself into a year):
    asking for more days than it has left is 422; otherwise the expiry is cut to the old
    token's."""
    account = _caller_account(session, principal)
    not_after = None
    if principal.token_id is not None:
        current = session.get(ApiToken, principal.token_id)
        if current is not None:
            not_after = current.expires_at
            _within(body, not_after)
            revoke_token(current)
    return _issue(session, principal, account, body, "token.rotate", not_after)


def _within(body: NewTokenIn | None, not_after: datetime | None) -> None:
    if body is None or not_after is None or "expires_in_days" not in body.model_fields_set:
        return
    left = not_after - utcnow()
    whole_days = left.days + (1 if left % timedelta(days=1) else 0)
    if body.expires_in_days > whole_days:  # within the last (started) day: cut to the expiry
        raise HTTPException(
            422,
            detail="expires_in_days: a rotated token expires no later than the token it "
            f"replaces ({format_instant(not_after)})",
        )


@router.post("/tokens/{token_id}/revoke", openapi_extra=REVOKES_CALLER)
def revoke_mine(token_id: DbId, session: SessionDep, principal: Caller) -> TokenOut:
    """Revoke one of the caller's own tokens (404 for anybody else's)."""
    token = session.get(ApiToken, token_id)
    if token is None or token.account_id != principal.account_id:
        raise HTTPException(404, detail="not found")
    if revoke_token(token):
        audit(
            session,
            actor=principal.account_id,
            action="token.revoke",
            entity="account",
            entity_id=principal.account_id,
            merchant_id=principal.merchant_id,
            detail={"token_id": token_id},
        )
    out = _out(token, principal)
    session.commit()
    return out


@router.get("/accounts/{account_id}/tokens")
def account_tokens(account_id: str, session: SessionDep, principal: Caller) -> list[TokenOut]:
    """The API tokens of an account the caller manages."""
    account = _managed(session, principal, account_id)
    return [_out(t, principal) for t in tokens_of(session, account.account_id)]


@router.post("/accounts/{account_id}/tokens", status_code=201)
def new_token(
    account_id: str, session: SessionDep, principal: Caller, body: NewToken = None
) -> NewTokenOut:
    """Issue another token for an account the caller manages (shown once)."""
    account = _managed(session, principal, account_id)
    return _issue(session, principal, account, body, "token.issue")


@router.post("/accounts/{account_id}/tokens/revoke", openapi_extra=REVOKES_CALLER)
def revoke_account_tokens(account_id: str, session: SessionDep, principal: Caller) -> RevokedOut:
    """Revoke every token of an account the caller manages (e.g. a leaked integration key)
    and end its console log-ins."""
    account = _managed(session, principal, account_id)
    revoked = revoke_tokens(session, account.account_id)
    ended = end_console_sessions(session, account.account_id)
    audit(
        session,
        actor=principal.account_id,
        action="token.revoke_all",
        entity="account",
        entity_id=account.account_id,
        merchant_id=account.merchant_id,
        detail={"revoked": revoked, "console_sessions_ended": ended},
    )
    session.commit()
    return RevokedOut(account_id=account.account_id, revoked=revoked, console_sessions_ended=ended)

"""Accounts, tokens, positions (岗位) and permissions (LD-9, GN-4)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import select

from lvyue.api.auth import (
    AGGREGATORS,
    Principal,
    current_principal,
    known_carriers,
    own_merchant,
    require,
)
from lvyue.api.deps import DbId, SessionDep, json_only
from lvyue.model import MerchantType, format_instant
from lvyue.model.cells import PLAIN
from lvyue.store import Account, Position, audit
from lvyue.store.accounts import (
    AccountError,
    assign_positions,
    create_account,
    create_merchant,
    end_console_sessions,
    issue_token_row,
    position_permissions,
    revoke_tokens,
    set_position,
)
from lvyue.store.permissions import GRANTABLE, MERCHANT_ROLES, PERMISSIONS, ROLE_PERMISSIONS, Role

# Authentication first: no unauthenticated caller learns anything, not even a 415 or 422.
router = APIRouter(tags=["accounts"], dependencies=[Depends(current_principal), Depends(json_only)])

Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=PLAIN)]


class MeOut(BaseModel):
    account_id: str
    role: Role
    merchant_id: str | None
    organisation: str | None
    permissions: list[str]


class AccountOut(BaseModel):
    account_id: str
    name: str
    role: Role
    merchant_id: str | None
    organisation: str | None
    active: bool


class IssuedToken(BaseModel):
    account: AccountOut
    token: str = Field(description="Shown once: only its hash is stored")
    expires_at: str | None = Field(None, description="the token is refused from then on")


class MerchantIn(BaseModel):
    merchant_id: Ident
    name: Name
    merchant_type: MerchantType
    industry: Annotated[str, Field(max_length=100, pattern=PLAIN)] | None = None
    main_account_id: Ident
    main_account_name: Name


class PlatformAccountIn(BaseModel):
    account_id: Ident
    name: Name
    role: Role = Field(description="operator, inspection_agency, carrier, consumer or creator")
    organisation: Annotated[str, Field(max_length=64, pattern=PLAIN)] | None = Field(
        None, description="agency name, the carrier's Kuaidi100 code, or a creator's creator_id"
    )


class SubAccountIn(BaseModel):
    account_id: Ident
    name: Name
    position_ids: list[DbId] = Field(default_factory=list, max_length=50)


class PositionIn(BaseModel):
    name: Name
    permissions: list[str] = Field(max_length=len(GRANTABLE) + 1)


class PositionOut(BaseModel):
    position_id: int
    merchant_id: str
    name: str
    permissions: list[str]


class PositionsIn(BaseModel):
    position_ids: list[DbId] = Field(max_length=50)


class PermissionMatrix(BaseModel):
    permissions: dict[str, str]
    roles: dict[str, list[str]]
    grantable_to_sub_accounts: list[str]


def _out(account: Account) -> AccountOut:
    return AccountOut(
        account_id=account.account_id,
        name=account.name,
        role=Role(account.role),
        merchant_id=account.merchant_id,
        organisation=account.organisation,
        active=account.active,
    )


def _issued(
    session: SessionDep,
    principal: Principal,
    account: Account,
    *,
    action: str,
    entity: str = "account",
    entity_id: str | None = None,
    merchant_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> IssuedToken:
    """Issue a token for ``account``, audit ``action`` (on the account unless told otherwise)
    and commit both: every route that hands out a token ends this way."""
    issued = issue_token_row(session, account.account_id)
    audit(
        session,
        actor=principal.account_id,
        action=action,
        entity=entity,
        entity_id=entity_id or account.account_id,
        merchant_id=merchant_id,
        detail=detail,
    )
    session.commit()
    expires = format_instant(issued.row.expires_at) if issued.row.expires_at else None
    return IssuedToken(account=_out(account), token=issued.token, expires_at=expires)


def _bad(error: AccountError) -> HTTPException:
    return HTTPException(409 if "already exists" in str(error) else 422, detail=str(error))


@router.get("/me")
def me(principal: Annotated[Principal, Depends(current_principal)]) -> MeOut:
    """The calling account and its effective permissions."""
    return MeOut(
        account_id=principal.account_id,
        role=principal.role,
        merchant_id=principal.merchant_id,
        organisation=principal.organisation,
        permissions=sorted(principal.permissions),
    )


@router.get("/permissions")
def permission_matrix(_: Annotated[Principal, Depends(current_principal)]) -> PermissionMatrix:
    """Every permission, what each role holds, and what a main account may grant."""
    return PermissionMatrix(
        permissions=PERMISSIONS,
        roles={role.value: sorted(perms) for role, perms in ROLE_PERMISSIONS.items()},
        grantable_to_sub_accounts=sorted(GRANTABLE),
    )


@router.post("/merchants", status_code=201)
def add_merchant(
    body: MerchantIn,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("merchants:manage"))],
) -> IssuedToken:
    """Register a merchant with its main account; the main account's token is returned once."""
    try:
        create_merchant(
            session, body.merchant_id, body.name, body.merchant_type.value, industry=body.industry
        )
        session.flush()
        account = create_account(
            session,
            account_id=body.main_account_id,
            name=body.main_account_name,
            role=Role.MERCHANT_MAIN,
            merchant_id=body.merchant_id,
            created_by=principal.account_id,
        )
    except AccountError as error:
        raise _bad(error) from None
    return _issued(
        session,
        principal,
        account,
        action="merchant.create",
        entity="merchant",
        entity_id=body.merchant_id,
        merchant_id=body.merchant_id,
    )


@router.post("/accounts", status_code=201)
def add_platform_account(
    body: PlatformAccountIn,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("merchants:manage"))],
) -> IssuedToken:
    """An operator creates an operator, inspection-agency, carrier, consumer or creator (达人)
    account."""
    if body.role in MERCHANT_ROLES:
        raise HTTPException(422, detail="role: merchant accounts are created with their merchant")
    if body.role == Role.INSPECTION_AGENCY and not (body.organisation or "").strip():
        raise HTTPException(422, detail="organisation: an agency account needs its agency")
    if body.role == Role.CARRIER and body.organisation not in AGGREGATORS | known_carriers():
        raise HTTPException(
            422,
            detail=f"organisation: a carrier account needs a carrier code or {sorted(AGGREGATORS)}"
            f", not {body.organisation!r}",
        )
    try:
        account = create_account(
            session,
            account_id=body.account_id,
            name=body.name,
            role=body.role,
            organisation=body.organisation,
            created_by=principal.account_id,
        )
    except AccountError as error:
        raise _bad(error) from None
    return _issued(
        session, principal, account, action="account.create", detail={"role": body.role.value}
    )


@router.get("/accounts")
def list_accounts(
    session: SessionDep, principal: Annotated[Principal, Depends(require("accounts:manage"))]
) -> list[AccountOut]:
    """The accounts of the caller's merchant."""
    rows = session.scalars(
        select(Account)
        .where(Account.merchant_id == principal.merchant_id)
        .order_by(Account.account_id)
    ).all()
    return [_out(row) for row in rows]


@router.post("/sub-accounts", status_code=201)
def add_sub_account(
    body: SubAccountIn,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("accounts:manage"))],
) -> IssuedToken:
    """A main account creates a sub-account holding the given positions; its token is returned
    once. Its id is in the shop's namespace, ``<merchant_id>.<name>``: an id outside it is
    refused the same way whether it exists or not, so no shop can probe or squat another's."""
    prefix = f"{principal.merchant_id}."
    if not body.account_id.startswith(prefix) or body.account_id == prefix:
        raise HTTPException(
            422, detail=f"account_id: a sub-account's id starts with {prefix!r}, e.g. {prefix}clerk"
        )
    try:
        account = create_account(
            session,
            account_id=body.account_id,
            name=body.name,
            role=Role.MERCHANT_SUB,
            merchant_id=principal.merchant_id,
            created_by=principal.account_id,
        )
        assign_positions(session, account, body.position_ids)
    except AccountError as error:
        raise _bad(error) from None
    return _issued(
        session,
        principal,
        account,
        action="account.create",
        merchant_id=principal.merchant_id,
        detail={"role": Role.MERCHANT_SUB.value, "positions": body.position_ids},
    )


def _own_account(session: SessionDep, principal: Principal, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise HTTPException(404, detail="not found")
    own_merchant(principal, account.merchant_id)
    return account


@router.put("/accounts/{account_id}/positions")
def set_account_positions(
    account_id: str,
    body: PositionsIn,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("accounts:manage"))],
) -> AccountOut:
    """Give one of the merchant's sub-accounts exactly these positions."""
    account = _own_account(session, principal, account_id)
    try:
        assign_positions(session, account, body.position_ids)
    except AccountError as error:
        raise _bad(error) from None
    audit(
        session,
        actor=principal.account_id,
        action="account.positions",
        entity="account",
        entity_id=account_id,
        merchant_id=account.merchant_id,
        detail={"positions": body.position_ids},
    )
    session.commit()
    return _out(account)


@router.post("/accounts/{account_id}/deactivate")
def deactivate_account(
    account_id: str,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("accounts:manage"))],
) -> AccountOut:
    """Switch off one of the merchant's sub-accounts and revoke its tokens at once."""
    account = _own_account(session, principal, account_id)
    if account.role != Role.MERCHANT_SUB:
        raise HTTPException(422, detail="account_id: only sub-accounts can be deactivated here")
    account.active = False
    revoked = revoke_tokens(session, account_id)
    end_console_sessions(session, account_id)  # and its console log-ins
    audit(
        session,
        actor=principal.account_id,
        action="account.deactivate",
        entity="account",
        entity_id=account_id,
        merchant_id=account.merchant_id,
        detail={"revoked": revoked},
    )
    session.commit()
    return _out(account)


def _position_out(session: SessionDep, position: Position) -> PositionOut:
    return PositionOut(
        position_id=position.position_id,
        merchant_id=position.merchant_id,
        name=position.name,
        permissions=position_permissions(session, position.position_id),
    )


@router.get("/positions")
def list_positions(
    session: SessionDep, principal: Annotated[Principal, Depends(require("accounts:manage"))]
) -> list[PositionOut]:
    rows = session.scalars(
        select(Position)
        .where(Position.merchant_id == principal.merchant_id)
        .order_by(Position.position_id)
    ).all()
    return [_position_out(session, row) for row in rows]


@router.put("/positions", status_code=200)
def put_position(
    body: PositionIn,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("accounts:manage"))],
) -> PositionOut:
    """Create or redefine a position (岗位) by name with exactly these permissions."""
    assert principal.merchant_id is not None  # accounts:manage is a merchant main's permission
    try:
        position = set_position(session, principal.merchant_id, body.name, body.permissions)
    except AccountError as error:
        raise _bad(error) from None
    audit(
        session,
        actor=principal.account_id,
        action="position.set",
        entity="position",
        entity_id=str(position.position_id),
        merchant_id=principal.merchant_id,
        detail={"name": body.name, "permissions": sorted(body.permissions)},
    )
    session.commit()
    return _position_out(session, position)

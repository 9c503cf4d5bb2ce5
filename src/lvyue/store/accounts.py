"""Accounts, tokens and positions (岗位): the tenancy and permission data behind the API."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lvyue.store.creator_tables import Creator
from lvyue.store.permissions import GRANTABLE, MERCHANT_ROLES, ROLE_PERMISSIONS, Role
from lvyue.store.tables import (
    Account,
    AccountPosition,
    ApiToken,
    ConsoleSession,
    Merchant,
    Position,
    PositionPermission,
    utcnow,
)

TOKEN_PREFIX = "lvy_"
# API tokens (not console log-in sessions) live 90 days unless issued for less (or, at most,
# a year): long enough for an integration, short enough that a leaked token dies by itself.
TOKEN_TTL = timedelta(days=90)
MAX_TOKEN_TTL = timedelta(days=365)
Link = TypeVar("Link")
Key = TypeVar("Key", str, int)


class AccountError(ValueError):
    """A request about accounts that cannot be honoured (the message says why)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Issued:
    token: str  # shown once
    row: ApiToken


def issue_token_row(
    session: Session,
    account_id: str,
    ttl: timedelta = TOKEN_TTL,
    not_after: datetime | None = None,
) -> Issued:
    """A new bearer token for the account, valid for ``ttl`` (at most a year) and never past
    ``not_after`` (a rotation: the token it replaces); only its hash is stored, so show it
    now or never."""
    if not timedelta(0) < ttl <= MAX_TOKEN_TTL:
        raise AccountError(f"a token lives between 1 second and {MAX_TOKEN_TTL.days} days")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + ttl
    if not_after is not None:
        expires = min(expires, not_after)
    row = ApiToken(account_id=account_id, token_hash=hash_token(token), expires_at=expires)
    session.add(row)
    session.flush()
    return Issued(token, row)


def issue_token(session: Session, account_id: str, ttl: timedelta = TOKEN_TTL) -> str:
    return issue_token_row(session, account_id, ttl).token


TokenState = Literal["valid", "unknown", "revoked", "expired", "inactive"]


def token_state(token: ApiToken, now: datetime) -> TokenState:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is None or token.expires_at <= now:
        return "expired"
    return "valid"


def authenticate(
    session: Session, token: str, now: datetime | None = None
) -> tuple[TokenState, Account | None, ApiToken | None]:
    """The account and token row behind a bearer token, with why it is refused if it is."""
    found = session.execute(
        select(Account, ApiToken)
        .join(ApiToken, ApiToken.account_id == Account.account_id)
        .where(ApiToken.token_hash == hash_token(token))
    ).one_or_none()
    if found is None:
        return "unknown", None, None
    account, row = found
    state = token_state(row, now or utcnow())
    if state == "valid" and not account.active:
        state = "inactive"
    return state, account, row


def account_for_token(session: Session, token: str) -> Account | None:
    """The active account holding this unrevoked, unexpired token, if any."""
    state, account, _ = authenticate(session, token)
    return account if state == "valid" else None


def revoke_token(token: ApiToken) -> bool:
    """Revoke one token; False if it already was."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    return True


def revoke_tokens(session: Session, account_id: str) -> int:
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.account_id == account_id, ApiToken.revoked_at.is_(None))
    ).all()
    for token in tokens:
        token.revoked_at = utcnow()
    return len(tokens)


def end_console_sessions(session: Session, account_id: str) -> int:
    """Log the account out of the console everywhere (its cookie sessions are deleted)."""
    ended = session.execute(delete(ConsoleSession).where(ConsoleSession.account_id == account_id))
    return int(getattr(ended, "rowcount", 0) or 0)


def tokens_of(session: Session, account_id: str) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.account_id == account_id).order_by(ApiToken.token_id)
        )
    )


# An account id with a "." is in a shop's namespace, ``<merchant_id>.<name>``: only that shop's
# accounts live there (a main account, its sub-accounts), so no shop can probe or squat ids in
# another's, and no platform account can sit in one. A merchant id has no "." (docs/decisions/
# service-platform-issues-order-ids.md).
NAMESPACE = "."


def namespace_of(account_id: str) -> str | None:
    """The shop whose namespace ``account_id`` is in, if any."""
    owner, dot, _ = account_id.partition(NAMESPACE)
    return owner if dot else None


def create_merchant(
    session: Session,
    merchant_id: str,
    name: str,
    merchant_type: str,
    *,
    industry: str | None = None,
) -> Merchant:
    if NAMESPACE in merchant_id:
        raise AccountError(f"merchant_id: {merchant_id!r} has a {NAMESPACE!r} (it names a shop)")
    if session.get(Merchant, merchant_id) is not None:
        raise AccountError(f"merchant {merchant_id!r} already exists")
    merchant = Merchant(
        merchant_id=merchant_id, name=name, merchant_type=merchant_type, industry=industry
    )
    session.add(merchant)
    return merchant


def create_account(
    session: Session,
    *,
    account_id: str,
    name: str,
    role: Role,
    merchant_id: str | None = None,
    organisation: str | None = None,
    created_by: str | None = None,
) -> Account:
    """A new account; merchant roles need a merchant, other roles must not have one."""
    if (role in MERCHANT_ROLES) != (merchant_id is not None):
        need = "needs" if role in MERCHANT_ROLES else "has no"
        raise AccountError(f"role {role} {need} merchant")
    owner = namespace_of(account_id)
    if owner is not None and owner != merchant_id:
        whose = f"the shop {owner!r}" if merchant_id is None else f"{owner!r}, not {merchant_id!r}"
        raise AccountError(f"account_id: {account_id!r} is in the namespace of {whose}")
    if role == Role.CREATOR and (not organisation or session.get(Creator, organisation) is None):
        raise AccountError(
            f"organisation: a creator account belongs to a registered creator (POST /creators), "
            f"not {organisation!r}"
        )
    if session.get(Account, account_id) is not None:
        raise AccountError(f"account {account_id!r} already exists")
    account = Account(
        account_id=account_id,
        name=name,
        role=role.value,
        merchant_id=merchant_id,
        organisation=organisation,
        created_by=created_by,
    )
    session.add(account)
    session.flush()
    return account


def permissions_of(session: Session, account: Account) -> frozenset[str]:
    """The role's fixed permissions, plus (sub-accounts) what their positions grant."""
    fixed = ROLE_PERMISSIONS[Role(account.role)]
    if account.role != Role.MERCHANT_SUB:
        return fixed
    granted = session.scalars(
        select(PositionPermission.permission)
        .join(AccountPosition, AccountPosition.position_id == PositionPermission.position_id)
        .where(AccountPosition.account_id == account.account_id)
    ).all()
    return fixed | frozenset(granted)


def set_position(
    session: Session, merchant_id: str, name: str, permissions: Iterable[str]
) -> Position:
    """Create or redefine a merchant's position with exactly these permissions."""
    wanted = set(permissions)
    refused = sorted(wanted - GRANTABLE)
    if refused:
        raise AccountError(f"permissions cannot be granted to sub-accounts: {', '.join(refused)}")
    position = session.scalars(
        select(Position).where(Position.merchant_id == merchant_id, Position.name == name)
    ).one_or_none()
    if position is None:
        position = Position(merchant_id=merchant_id, name=name)
        session.add(position)
        session.flush()
    existing = session.scalars(
        select(PositionPermission).where(PositionPermission.position_id == position.position_id)
    ).all()
    position_id = position.position_id
    _sync_links(
        session,
        existing,
        wanted,
        key=lambda row: row.permission,
        make=lambda permission: PositionPermission(position_id=position_id, permission=permission),
    )
    return position


def _sync_links(
    session: Session,
    current: Sequence[Link],
    wanted: set[Key],
    *,
    key: Callable[[Link], Key],
    make: Callable[[Key], Link],
) -> None:
    """Make a link table hold exactly ``wanted``: drop the rows not wanted, add the missing."""
    for row in current:
        if key(row) not in wanted:
            session.delete(row)
    have = {key(row) for row in current}
    for value in sorted(wanted - have):
        session.add(make(value))
    session.flush()


def position_permissions(session: Session, position_id: int) -> list[str]:
    return sorted(
        session.scalars(
            select(PositionPermission.permission).where(
                PositionPermission.position_id == position_id
            )
        ).all()
    )


def assign_positions(session: Session, account: Account, position_ids: Iterable[int]) -> None:
    """Give a sub-account exactly these positions (all of its own merchant)."""
    if account.role != Role.MERCHANT_SUB:
        raise AccountError("positions are held by sub-accounts only")
    ids = set(position_ids)
    found = session.scalars(
        select(Position.position_id).where(
            Position.position_id.in_(ids), Position.merchant_id == account.merchant_id
        )
    ).all()
    missing = sorted(ids - set(found))
    if missing:
        raise AccountError(f"no such position: {', '.join(map(str, missing))}")
    current = session.scalars(
        select(AccountPosition).where(AccountPosition.account_id == account.account_id)
    ).all()
    _sync_links(
        session,
        current,
        ids,
        key=lambda row: row.position_id,
        make=lambda position_id: AccountPosition(
            account_id=account.account_id, position_id=position_id
        ),
    )

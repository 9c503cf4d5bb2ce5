"""Bearer-token authentication, permissions and tenancy for every route (LD-9, GN-4).

@router.get("/things/{merchant_id}")
def things(principal: Annotated[Principal, Depends(require("orders:view"))], ...):
    own_merchant(principal, merchant_id)   # 404 for another merchant's object
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from lvyue.api.deps import refuse_unknown_query
from lvyue.api.principals import Principals
from lvyue.store import Order
from lvyue.store.accounts import authenticate, permissions_of
from lvyue.store.permissions import PERMISSIONS, Role, granted_by
from lvyue.store.tables import Account, utcnow
from lvyue.store.write import Scope

_bearer = HTTPBearer(auto_error=False, description="A token printed once when it was issued")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account, its role, its merchant (None outside merchants)."""

    account_id: str
    role: Role
    merchant_id: str | None
    permissions: frozenset[str]
    organisation: str | None = None
    token_id: int | None = None  # the API token this call came with (None: another way in)

    @property
    def is_operator(self) -> bool:
        return self.role == Role.OPERATOR


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, detail=message, headers={"WWW-Authenticate": "Bearer"})


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind the bearer token, or 401; then its query parameters must be ones the
    route takes (422 naming the others). Looked up off the event loop in a session of its
    own, and remembered for a moment (``api.principals``)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing bearer token")
    principals: Principals[Principal] = request.app.state.principals
    principal = await principals.of(credentials.credentials)
    refuse_unknown_query(request)
    return principal


def principal_of(session: Session, account: Account, token_id: int | None = None) -> Principal:
    """The principal an account acts as (its role's and positions' permissions): one
    definition for tokens, Kuaidi100's signed pushes and console log-ins."""
    return Principal(
        account_id=account.account_id,
        role=Role(account.role),
        merchant_id=account.merchant_id,
        permissions=permissions_of(session, account),
        organisation=account.organisation,
        token_id=token_id,
    )


def principal_loader(factory: sessionmaker[Session]) -> Callable[[str], tuple[Principal, float]]:
    """``Principals``' loader: a token's principal and the seconds it stays valid, or 401."""

    def load(token: str) -> tuple[Principal, float]:
        with factory() as session:
            state, account, row = authenticate(session, token)
            if state != "valid" or account is None or row is None:
                # Only the holder learns why: an expired token is renewed, a revoked one not.
                raise _unauthorized(_REFUSALS.get(state, "invalid token"))
            principal = principal_of(session, account, row.token_id)
            assert row.expires_at is not None  # a valid token has an expiry (token_state)
            return principal, (row.expires_at - utcnow()).total_seconds()

    return load


def bears_valid_token(
    factory: sessionmaker[Session], headers: Iterable[tuple[bytes, bytes]]
) -> bool:
    """Whether a request's ``Authorization`` names a valid bearer token (before routing:
    lvyue.api.limits lets only such a request send an evidence-sized body)."""
    value = dict(headers).get(b"authorization", b"").decode("latin-1")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    with factory() as session:
        return authenticate(session, token.strip())[0] == "valid"


_REFUSALS = {
    "unknown": "invalid token",
    "revoked": "revoked token",
    "expired": "expired token: ask for a new one (tokens live 90 days; rotate before)",
    "inactive": "the account is deactivated",
}


def forbidden(permission: str) -> HTTPException:
    """403 naming the missing permission and who can grant it (LD-9)."""
    return HTTPException(
        403,
        detail={
            "error": "permission_denied",
            "permission": permission,
            "meaning": PERMISSIONS.get(permission, permission),
            "granted_by": granted_by(permission),
            "message": f"missing permission {permission}; ask {granted_by(permission)}",
        },
    )


def require(permission: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: the caller if it holds ``permission``, else 401/403."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if permission not in principal.permissions:
            raise forbidden(permission)
        return principal

    return dependency


def own_merchant(principal: Principal, merchant_id: str | None) -> None:
    """Operators see every merchant; a merchant account only its own. Anything else is 404, so
    that another merchant's objects cannot even be shown to exist."""
    if principal.is_operator:
        return
    if principal.merchant_id is None or principal.merchant_id != merchant_id:
        raise HTTPException(404, detail="not found")


def merchant_scope(principal: Principal, requested: str | None = None) -> str | None:
    """The merchant a listing is limited to: the caller's own, or (operators) the one asked for,
    or None for all."""
    if principal.is_operator:
        return requested
    if principal.merchant_id is None:
        raise HTTPException(404, detail="not found")
    if requested is not None and requested != principal.merchant_id:
        raise HTTPException(404, detail="not found")
    return principal.merchant_id


def own_order(session: Session, principal: Principal, order_id: str) -> Order:
    """The order if the caller may see it (its own shop's, or any for an operator), else 404."""
    order = session.get(Order, order_id)
    if order is None:
        raise HTTPException(404, detail="not found")
    own_merchant(principal, order.merchant_id)
    return order


def write_scope(principal: Principal) -> Scope:
    """What a caller may write: its own merchant's facts; a carrier account its own carrier's
    scans, or every carrier's for a known aggregator (Kuaidi100). A carrier account whose
    organisation is neither (a typo) writes nothing: it used to push for every carrier."""
    may_ship = "orders:ship" in principal.permissions
    return Scope(
        merchant_id=principal.merchant_id, carrier=_carrier_scope(principal), may_ship=may_ship
    )


# Organisations that push scans of every carrier (their subscriptions cover all of them).
AGGREGATORS = frozenset({"kuaidi100"})


def known_carriers() -> frozenset[str]:
    from lvyue.tracking.carriers import CARRIERS

    return frozenset(CARRIERS)


def _carrier_scope(principal: Principal) -> str | None:
    """The one carrier a carrier account writes for (None: any, for an aggregator)."""
    organisation = principal.organisation or ""
    if principal.role != Role.CARRIER or organisation in AGGREGATORS:
        return None
    if organisation not in known_carriers():
        raise HTTPException(
            403,
            detail={
                "error": "unknown_carrier",
                "field": "organisation",
                "message": f"this carrier account's organisation {organisation!r} is no carrier "
                "code and no known aggregator: an operator must correct it",
            },
        )
    return organisation

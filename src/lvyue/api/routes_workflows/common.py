"""Plumbing shared by the workflow routes: the service clock, error mapping, callers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from lvyue.api.auth import Principal, current_principal, forbidden
from lvyue.api.idempotency import fingerprint_of, run_once
from lvyue.model import format_instant
from lvyue.model.clock import business_now
from lvyue.store.permissions import Role
from lvyue.workflows.actions import inspection
from lvyue.workflows.actions.common import NotFound
from lvyue.workflows.machine import Refusal

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """One page of a list endpoint: ``limit`` rows from ``offset`` (the same query names and
    bounds as /orders, /audit and /quarantine); the total is in ``X-Total-Count``."""

    limit: int
    offset: int

    def of(self, rows: Sequence[T], response: Response) -> list[T]:
        response.headers["X-Total-Count"] = str(len(rows))
        return list(rows[self.offset : self.offset + self.limit])


def page(
    limit: Annotated[int, Query(ge=1, le=500, description="rows per page")] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="rows to skip")] = 0,
) -> Page:
    return Page(limit, offset)


PageDep = Annotated[Page, Depends(page)]


def service_now(request: Request) -> datetime:
    """The service clock (tests pin it through ``app.state.clock``)."""
    clock: Callable[[], datetime] | None = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else business_now()


@contextmanager
def domain_errors(session: Session) -> Iterator[None]:
    """Map the workflows' refusals to HTTP; nothing of a refused request is kept."""
    try:
        yield
    except NotFound as error:
        session.rollback()
        raise HTTPException(404, detail=str(error)) from None
    except Refusal as error:
        session.rollback()
        raise HTTPException(error.status, detail=error.as_dict()) from None


def create_once(
    request: Request,
    session: Session,
    principal: Principal,
    key: str | None,
    body: BaseModel,
    create: Callable[[], BaseModel],
) -> JSONResponse:
    """Run ``create`` and commit (201), or replay the stored answer of the same
    ``Idempotency-Key`` (the service's ``run_once``); refusals roll everything back."""

    def act() -> tuple[int, BaseModel]:
        with domain_errors(session):
            return 201, create()

    return run_once(session, principal, key, fingerprint_of(request, body), act)


def require_any(*permissions: str) -> Callable[[Principal], Awaitable[Principal]]:
    """The caller if it holds one of ``permissions`` (e.g. the merchant's or the agency's)."""

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.permissions & set(permissions):
            raise forbidden(permissions[0])
        return principal

    return dependency


def actor_of(principal: Principal) -> inspection.Actor:
    # An agency account without its organisation acts for no agency ("" matches none): as
    # None it read and acted on every merchant's inspection, as an operator does.
    agency = principal.organisation or "" if principal.role == Role.INSPECTION_AGENCY else None
    return inspection.Actor(principal.account_id, principal.merchant_id, agency)


def iso(moment: datetime | None) -> str | None:
    return format_instant(moment) if moment is not None else None


def merchant_of(principal: Principal) -> str:
    if principal.merchant_id is None:
        raise HTTPException(404, detail="not found")
    return principal.merchant_id


def tenant_of(principal: Principal) -> str | None:
    """None for operators (every merchant), else the caller's merchant (404 if it has none)."""
    return None if principal.is_operator else merchant_of(principal)

"""Request-scoped dependencies shared by every router: the database session, content types."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.dependencies.utils import get_flat_params
from fastapi.params import Query
from fastapi.routing import APIRoute
from pydantic import Field
from sqlalchemy.orm import Session

from lvyue.store import SessionFactory


def get_session(request: Request) -> Iterator[Session]:
    """A session per request. Handlers commit explicitly; anything uncommitted is rolled back."""
    factory: SessionFactory = request.app.state.session_factory
    session = factory()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]

# A database integer id as the client may send it: beyond 32 bits it cannot exist (and SQLite
# would overflow), so it is a validation error rather than a lookup.
DbId = Annotated[int, Field(ge=1, le=2_147_483_647)]


def content_type(*allowed: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency refusing (415) a request body whose media type is not one of ``allowed``.

    Requests without a body (no Content-Length or zero, no chunked transfer) pass."""

    async def check(request: Request) -> None:  # async: no thread for a header check
        has_body = request.headers.get("content-length", "0") != "0" or (
            "chunked" in request.headers.get("transfer-encoding", "")
        )
        if request.method not in ("POST", "PUT", "PATCH") or not has_body:
            return
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in allowed:
            raise HTTPException(
                415, detail=f"Content-Type must be {' or '.join(allowed)}, not {media or 'none'}"
            )

    return check


json_only = content_type("application/json")


_DECLARED: dict[int, frozenset[str]] = {}


def _declared_query(route: APIRoute) -> frozenset[str]:
    names = _DECLARED.get(id(route))
    if names is None:
        fields = get_flat_params(route.dependant)
        names = frozenset(f.alias for f in fields if isinstance(f.field_info, Query))
        _DECLARED[id(route)] = names
    return names


def refuse_unknown_query(request: Request) -> None:
    """422 naming each query parameter the route does not take (a ``cursor`` on a list that
    pages by ``offset`` used to be ignored silently: the caller got page 1 again and again).
    Called once the caller is authenticated (``auth.current_principal``), so that nobody
    without a token learns what a route takes."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params) - _declared_query(route))
    if unknown:
        takes = ", ".join(sorted(_declared_query(route))) or "none"
        raise HTTPException(
            422,
            detail=[
                {
                    "type": "unknown_parameter",
                    "loc": ["query", name[:100]],
                    "msg": f"unknown query parameter; this endpoint takes: {takes}",
                }
                for name in unknown[:20]
            ],
        )

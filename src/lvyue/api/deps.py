"""Request-scoped dependencies shared by every router: the database session, content types."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
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


def content_type(*allowed: str) -> Callable[[Request], None]:
    """A dependency refusing (415) a request body whose media type is not one of ``allowed``.

    Requests without a body (no Content-Length or zero, no chunked transfer) pass."""

    def check(request: Request) -> None:
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

"""``Idempotency-Key``: the same key with the same body returns the stored response; the same
key with another body is a 409. Keys are per account; the key row is written in the same
transaction as the change it guards, so a crash leaves neither."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from lvyue.api.auth import Principal
from lvyue.store import IdempotencyKey
from lvyue.store.retry import retrying

HEADER = "Idempotency-Key"
IdemKey = Annotated[str | None, Header(alias=HEADER, max_length=200)]


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\0".join([method.encode(), path.encode(), body])).hexdigest()


def fingerprint_of(request: Request, body: BaseModel | bytes) -> str:
    """``fingerprint`` of this request: its method, path and body (a model as its JSON)."""
    raw = body if isinstance(body, bytes) else body.model_dump_json().encode()
    return fingerprint(request.method, request.url.path, raw)


def _stored(row: IdempotencyKey, request_hash: str) -> JSONResponse:
    if row.request_hash != request_hash:
        raise HTTPException(409, detail=f"{HEADER} was already used with a different request")
    return JSONResponse(row.response, row.status_code, headers={"Idempotent-Replayed": "true"})


def run_once(
    session: Session,
    principal: Principal,
    key: str | None,
    request_hash: str,
    action: Callable[[], tuple[int, Any]],
) -> JSONResponse:
    """Run ``action`` (returning status and body) and commit, unless ``key`` was seen before.
    A run that lost a race with a concurrent request (same key, same natural key) is rolled
    back and run again: it then answers as the stored response, or as a repeat."""
    if key is not None and not 1 <= len(key) <= 200:
        raise HTTPException(422, detail=f"{HEADER}: 1 to 200 characters")
    return retrying(session, lambda: _run(session, principal, key, request_hash, action))


def _run(
    session: Session,
    principal: Principal,
    key: str | None,
    request_hash: str,
    action: Callable[[], tuple[int, Any]],
) -> JSONResponse:
    if key is not None:
        seen = session.get(IdempotencyKey, (principal.account_id, key))
        if seen is not None:
            return _stored(seen, request_hash)
    status, body = action()
    content = jsonable_encoder(body)
    if key is not None:
        session.add(
            IdempotencyKey(
                account_id=principal.account_id,
                key=key,
                request_hash=request_hash,
                status_code=status,
                response=content,
            )
        )
    session.commit()
    return JSONResponse(content, status)

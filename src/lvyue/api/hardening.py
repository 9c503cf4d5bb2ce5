"""Answers that never fail or leak by accident (issue 12 item 11): security headers on every
response, and text that is not Unicode (a lone surrogate such as ``\\ud800``, which JSON can
spell but UTF-8 cannot) refused with 422 instead of a 500."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lvyue.store.refusals import ECHO_CHARS, clip

# What every response carries unless the handler set its own (the console sets its own CSP).
SECURITY_HEADERS: dict[bytes, bytes] = {
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
    b"content-security-policy": (
        # Inline style attributes only (the console sizes its charts with them); no inline script.
        b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    b"cross-origin-opener-policy": b"same-origin",
    b"cross-origin-resource-policy": b"same-origin",
    b"permissions-policy": b"camera=(), microphone=(), geolocation=()",
    b"strict-transport-security": b"max-age=31536000",  # ignored over plain HTTP
    b"cache-control": b"no-store",  # answers carry tokens and shop data
}


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS.items() if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


class RefuseLoneSurrogates:
    """ASGI middleware: a JSON body spelling a lone surrogate (``"\\ud800"``) is answered 422
    before any handler sees it (pydantic refuses it in typed fields, but free-form rows and
    the database would fail on it later). Bodies without a ``\\ud`` escape pass untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        media = dict(scope.get("headers") or []).get(b"content-type", b"")
        if scope["type"] != "http" or b"json" not in media.lower():
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        if b"\\ud" in body.lower() and _lone_surrogate_in(body):
            await JSONResponse({"detail": NOT_UNICODE}, 422)(scope, receive, send)
            return
        pending = iter(messages)

        async def replay() -> Message:
            return next(pending, None) or await receive()

        await self.app(scope, replay, send)


def _lone_surrogate_in(body: bytes) -> bool:
    try:
        return _has_lone_surrogate(json.loads(body))
    except ValueError:
        return False  # not JSON: the handler answers that


class AsciiJSONResponse(JSONResponse):
    """JSON with every non-ASCII character escaped: renders even text that is not Unicode."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


NOT_UNICODE = (
    "text is not valid Unicode: a lone surrogate (\\ud800-\\udfff) cannot be stored; "
    "send the character itself or its surrogate pair"
)


def _brief(error: Any) -> Any:
    """A validation error without the echo of a whole object (a 50,000-column row) or of a
    long text: in ``input``, in the message that quotes it, in a location (a key)."""
    brief = dict(error)
    value = brief.get("input")
    if isinstance(value, dict | list):
        brief.pop("input")
    elif isinstance(value, str):
        brief["input"] = clip(value)
    brief["msg"] = clip(str(brief.get("msg", "")), 2 * ECHO_CHARS)
    brief["loc"] = [clip(p, 100) if isinstance(p, str) else p for p in brief.get("loc", ())]
    if len(repr(brief.get("ctx"))) > ECHO_CHARS:  # e.g. the error that quotes the input
        brief.pop("ctx")
    return jsonable_encoder(brief)


def install(app: FastAPI) -> None:
    """Add the headers (outermost, so that even a 500 carries them) and the refusal of text
    that is not Unicode."""
    app.add_middleware(RefuseLoneSurrogates)
    inner = app.build_middleware_stack
    # Starlette builds the stack on the first request with its error middleware outermost;
    # wrapping the built stack puts the headers on the answers that middleware makes too.
    setattr(app, "build_middleware_stack", lambda: SecurityHeaders(inner()))  # noqa: B010

    @app.exception_handler(RequestValidationError)
    def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes the input, and fails to encode a lone surrogate.
        return AsciiJSONResponse({"detail": [_brief(e) for e in error.errors()]}, 422)

    @app.exception_handler(UnicodeEncodeError)
    def not_unicode(_request: Request, _error: UnicodeEncodeError) -> JSONResponse:
        # Raised where the text is encoded (the database driver, the answer): nothing was kept.
        return JSONResponse({"detail": NOT_UNICODE}, 422)

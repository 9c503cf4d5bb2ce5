"""Refuse oversized request bodies (413) and query strings (414) before a handler reads them."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY = 16 * 1024 * 1024  # 16 MiB: a bulk CSV of ~100k orders
# No filter, cursor or page link of the API or console needs more (a cursor is 400 at most).
MAX_QUERY_BYTES = 8 * 1024


class QueryStringLimit:
    """ASGI middleware: 414 for a query string over :data:`MAX_QUERY_BYTES`, before
    authentication, routing or validation spend anything on it (or echo it back)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_QUERY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and len(scope.get("query_string", b"")) > self.max_bytes:
            refusal = f"query string over {self.max_bytes} bytes (414 URI Too Long)"
            await PlainTextResponse(refusal, 414)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class _TooLarge(HTTPException):
    """Raised from the body's stream. An HTTPException, so that FastAPI, parsing a JSON or
    form body, passes it on as the 413 it is (any other exception there becomes its 400
    "There was an error parsing the body")."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=_refusal(limit))


def _refusal(limit: int) -> str:
    return f"request body larger than {limit} bytes"


# A POST to a path matching the pattern may send up to the limit the callable answers (read
# per request, so a limit set in the environment applies at once).
Larger = Sequence[tuple[re.Pattern[str], Callable[[], int]]]
# Whether a request's caller may send the larger body: FastAPI reads a form before it
# authenticates, so without this anyone could make the service spool that much to disk.
Admits = Callable[[Scope], bool]


class BodySizeLimit:
    """ASGI middleware: 413 when Content-Length, or the bytes actually streamed, exceed the
    limit (a chunked upload cannot slip past by omitting the header). ``larger`` names the
    few routes that stream a bigger body on (the BT-9 evidence uploads), for the requests
    ``admits`` (a valid token) only."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = DEFAULT_MAX_BODY,
        larger: Larger = (),
        admits: Admits = lambda _scope: True,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger
        self.admits = admits

    async def _limit(self, scope: Scope) -> int:
        if scope.get("method") == "POST":
            for pattern, limit in self.larger:
                if pattern.fullmatch(scope.get("path", "")):
                    admitted = await run_in_threadpool(self.admits, scope)
                    return limit() if admitted else self.max_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = await self._limit(scope)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if started:
                raise
            await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = f'{{"detail":"{_refusal(limit)}"}}'.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

"""Flash messages after a form post: the redirect back, and what the page then shows.

A message travels in the query (``done=`` or ``error=``), URL-encoded, so a name holding "&",
"#" or "=" stays one message and cannot add parameters; and signed with the session's secret
(its CSRF token), so a link crafted by someone else ("?done=账号已冻结，请联系…") shows
nothing: the console says only what it said itself, to this session. Jinja escapes the text.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse

from lvyue.web.security import Caller

SIGNATURE = "sig"
KINDS = ("done", "error")


def _signature(caller: Caller, kind: str, message: str) -> str:
    text = f"{kind}\n{message}".encode()
    return hmac.new(caller.csrf.encode(), text, hashlib.sha256).hexdigest()[:32]


def back_to(
    path: str,
    caller: Caller,
    *,
    done: str | None = None,
    error: str | None = None,
    **query: str,
) -> RedirectResponse:
    """303 to ``path`` (a console path of ours, never one the client sent) with ``query`` and
    one signed message: ``error`` if given, else ``done``."""
    kind, message = ("error", error) if error is not None else ("done", done or "")
    params = {**query, kind: message, SIGNATURE: _signature(caller, kind, message)}
    separator = "&" if "?" in path else "?"
    return RedirectResponse(
        f"{path}{separator}{urlencode(params, quote_via=quote)}", status_code=303
    )


def flash_message(request: Request, caller: Caller | None, kind: str = "done") -> str | None:
    """The ``kind`` message of this request's query, if this session signed it."""
    message = request.query_params.get(kind)
    signature = request.query_params.get(SIGNATURE, "")
    if message is None or caller is None or kind not in KINDS:
        return None
    ok = hmac.compare_digest(signature, _signature(caller, kind, message))
    return message if ok else None

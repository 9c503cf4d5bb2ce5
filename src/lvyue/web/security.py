"""Console log-in: cookie sessions, CSRF tokens, the log-in throttle, and the caller.

The caller is the API's own ``Principal`` built the API's way (``principal_of``), so a page
and an API call can never disagree about what an account may do; only the credential differs
(a session cookie here, a bearer token there)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import delete
from sqlalchemy.orm import Session

from lvyue.api.auth import Principal, principal_of
from lvyue.api.deps import SessionDep
from lvyue.model.clock import business_now
from lvyue.store.permissions import PERMISSIONS, Role
from lvyue.store.tables import Account, ConsoleSession

COOKIE = "lvyue_console"
LOGIN_COOKIE = "lvyue_login_csrf"  # double-submit token of the log-in form (no session yet)
SESSION_LIFETIME = timedelta(hours=8)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(Exception):
    """No valid session: the page redirects to the log-in form."""


class PermissionMissing(Exception):
    """The caller lacks ``permission``: the page names it and who can grant it (LD-9)."""

    def __init__(self, permission: str) -> None:
        super().__init__(permission)
        self.permission = permission


class CsrfRefused(Exception):
    """A state-changing request without the session's CSRF token."""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def now_of(request: Request) -> datetime:
    """Business time, for deadlines, verdicts and workflow steps: the parent app's pinned
    clock in tests, else ``business_now`` (the demo clock when ``LVYUE_DEMO_CLOCK`` is set),
    exactly as the API's ``service_now`` reads it."""
    parent = getattr(request.app.state, "parent", request.app)
    clock: Callable[[], datetime] | None = getattr(parent.state, "clock", None)
    return clock() if clock is not None else business_now()


def wall_now() -> datetime:
    """Security time (sessions, log-in): always the wall clock, never the demo clock."""
    return datetime.now(UTC)


def open_session(session: Session, account: Account, now: datetime) -> str:
    """A new console session for ``account``; returns the cookie value (stored hashed)."""
    cookie = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            session_hash=_digest(cookie),
            account_id=account.account_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    return cookie


def close_session(session: Session, cookie: str) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.session_hash == _digest(cookie)))


class Caller:
    """The logged-in principal with its session's CSRF token and display name."""

    def __init__(self, principal: Principal, csrf: str, name: str) -> None:
        self.principal = principal
        self.csrf = csrf
        self.name = name

    def can(self, permission: str) -> bool:
        return permission in self.principal.permissions

    @property
    def is_operator(self) -> bool:
        return self.principal.role == Role.OPERATOR


def current_caller(request: Request, session: SessionDep) -> Caller:
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        raise LoginRequired
    row = session.get(ConsoleSession, _digest(cookie))
    if row is None or row.expires_at <= wall_now():
        raise LoginRequired
    account = session.get(Account, row.account_id)
    if account is None or not account.active:
        raise LoginRequired
    principal = principal_of(session, account)
    return Caller(principal, row.csrf_token, account.name)


CallerDep = Annotated[Caller, Depends(current_caller)]


def need(permission: str) -> Callable[[Caller], Caller]:
    """A page dependency: the caller if it holds ``permission`` (one of the API's)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def dependency(caller: CallerDep) -> Caller:
        if permission not in caller.principal.permissions:
            raise PermissionMissing(permission)
        return caller

    return dependency


def need_any(*permissions: str) -> Callable[[Caller], Caller]:
    """The caller if it holds one of ``permissions`` (the first is named when it holds none)."""

    def dependency(caller: CallerDep) -> Caller:
        if not caller.principal.permissions & set(permissions):
            raise PermissionMissing(permissions[0])
        return caller

    return dependency


async def _submitted_token(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    form = await request.form()
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else ""


def acting(*permissions: str) -> Callable[[Request, Caller], Awaitable[Caller]]:
    """A form-post dependency: the session's CSRF token, then one of ``permissions``."""
    check = need_any(*permissions)

    async def dependency(request: Request, caller: CallerDep) -> Caller:
        if not hmac.compare_digest(await _submitted_token(request), caller.csrf):
            raise CsrfRefused
        return check(caller)

    return dependency


async def check_csrf(request: Request, caller: CallerDep) -> Caller:
    """CSRF only (log-out: every logged-in caller may do it)."""
    if not hmac.compare_digest(await _submitted_token(request), caller.csrf):
        raise CsrfRefused
    return caller


class LoginThrottle:
    """At most ``limit`` failed log-ins per name, and ``4 × limit`` per client address, in a
    sliding ``window``; further attempts are refused (even with the right password) until the
    oldest failure leaves the window. Kept in the process: one uvicorn worker is the console's
    deployment (docs/decisions/console-server-rendered.md)."""

    def __init__(self, limit: int = 5, window: float = 900.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        seen = self._failures.setdefault(key, deque())
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        return seen

    def retry_after(self, name: str, address: str) -> float:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = time.monotonic()
        with self._lock:
            waits = [
                seen[0] + self.window - now
                for key, cap in ((f"name:{name}", self.limit), (f"addr:{address}", 4 * self.limit))
                if len(seen := self._recent(key, now)) >= cap
            ]
        return max(waits, default=0.0)

    def failed(self, name: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (f"name:{name}", f"addr:{address}"):
                self._recent(key, now).append(now)

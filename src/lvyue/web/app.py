"""The console: a sub-application mounted at ``/console`` of the service's FastAPI app.

It shares the parent's database session factory and clock; its errors render as pages (the
API's stay JSON)."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from lvyue.api.deps import SessionDep
from lvyue.store import audit
from lvyue.store.passwords import authenticate
from lvyue.store.permissions import PERMISSIONS, granted_by
from lvyue.web import pages
from lvyue.web.render import page
from lvyue.web.security import (
    COOKIE,
    LOGIN_COOKIE,
    SESSION_LIFETIME,
    CsrfRefused,
    LoginRequired,
    LoginThrottle,
    PermissionMissing,
    close_session,
    open_session,
    wall_now,
)

PREFIX = "/console"


def mount_console(parent: FastAPI) -> FastAPI:
    """Build the console over ``parent``'s database and mount it at ``/console``."""
    console = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    console.state.parent = parent
    console.state.session_factory = parent.state.session_factory
    console.state.throttle = LoginThrottle()
    console.mount("/static", StaticFiles(packages=[("lvyue.web", "static")]), name="static")
    _errors(console)
    _login_routes(console)
    for router in pages.routers():
        console.include_router(router)
    parent.mount(PREFIX, console)
    return console


def _cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        secure=True,
        httponly=True,
        samesite="strict",
    )


def _errors(console: FastAPI) -> None:
    @console.exception_handler(LoginRequired)
    def to_login(request: Request, _: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{PREFIX}/login?next={quote(target)}", status_code=303)

    @console.exception_handler(PermissionMissing)
    def refused(request: Request, error: PermissionMissing) -> Response:
        return page(
            request,
            "refused.html",
            None,
            status_code=403,
            title="无权限",
            heading="无权访问此页面 Permission denied",
            permission=error.permission,
            meaning=PERMISSIONS.get(error.permission, ""),
            granted_by=granted_by(error.permission),
        )

    @console.exception_handler(CsrfRefused)
    def csrf(request: Request, _: CsrfRefused) -> Response:
        message = "表单缺少有效的 CSRF token，请求未执行。Request refused: missing CSRF token."
        return page(request, "refused.html", None, 403, heading="请求被拒绝", message=message)

    @console.exception_handler(StarletteHTTPException)
    def http_error(request: Request, error: StarletteHTTPException) -> Response:
        heading = "页面不存在 Not found" if error.status_code == 404 else "请求未执行"
        message = error.detail if error.status_code != 404 else "没有这个页面或对象。"
        return page(
            request,
            "refused.html",
            None,
            error.status_code,
            heading=heading,
            message=message if isinstance(message, str) else str(message),
        )


def _safe_next(target: str) -> str:
    """Only a path inside the console (no scheme, no //host) after log-in."""
    ok = target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target
    return target if ok else PREFIX + "/"


def _login_routes(console: FastAPI) -> None:
    @console.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = PREFIX + "/") -> Response:
        token = secrets.token_urlsafe(32)
        response = page(request, "login.html", None, login_csrf=token, next=_safe_next(next))
        _cookie(response, LOGIN_COOKIE, token, 3600)
        return response

    @console.post("/login", response_class=HTMLResponse)
    def login(
        request: Request,
        session: SessionDep,
        name: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=256)],
        csrf_token: Annotated[str, Form(max_length=100)] = "",
        next: Annotated[str, Form(max_length=500)] = PREFIX + "/",
    ) -> Response:
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not secrets.compare_digest(expected, csrf_token):
            raise CsrfRefused
        throttle: LoginThrottle = request.app.state.throttle
        address = request.client.host if request.client else "unknown"
        wait = throttle.retry_after(name, address)
        if wait > 0:
            return _login_again(
                request, name, next, 429, f"尝试次数过多，请 {int(wait) + 1} 秒后再试。"
            )
        account = authenticate(session, name, password)
        if account is None:
            throttle.failed(name, address)
            return _login_again(request, name, next, 401, "账号或密码错误。")
        now = wall_now()  # a session's life is security time, never the demo clock
        cookie = open_session(session, account, now)
        audit(session, actor=account.account_id, action="console.login", entity="account",
              entity_id=account.account_id, merchant_id=account.merchant_id, at=now)  # fmt: skip
        session.commit()
        response = RedirectResponse(_safe_next(next), status_code=303)
        _cookie(response, COOKIE, cookie, int(SESSION_LIFETIME.total_seconds()))
        response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
        return response

    @console.post("/logout")
    async def logout(request: Request, session: SessionDep) -> Response:
        from lvyue.web.security import check_csrf, current_caller

        await check_csrf(request, current_caller(request, session))
        close_session(session, request.cookies.get(COOKIE, ""))
        session.commit()
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response


def _login_again(request: Request, name: str, next: str, status: int, error: str) -> Response:
    token = secrets.token_urlsafe(32)
    response = page(
        request, "login.html", None, status, login_csrf=token, next=_safe_next(next),
        name=name, error=error,
    )  # fmt: skip
    _cookie(response, LOGIN_COOKIE, token, 3600)
    return response

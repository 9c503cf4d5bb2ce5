"""The FastAPI application: routers of every capability over one database."""

from __future__ import annotations

import gc
import os

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.types import Scope

from lvyue.api import docs_ui, hardening
from lvyue.api.auth import bears_valid_token, principal_loader
from lvyue.api.group_commit import GroupCommit
from lvyue.api.limits import DEFAULT_MAX_BODY, BodySizeLimit, QueryStringLimit
from lvyue.api.principals import Principals, ttl_from_env
from lvyue.store import make_engine, make_session_factory
from lvyue.store.jobs import JobRunner


def create_app(
    database_url: str | None = None,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    kuaidi100_salt: str | None = None,
    token_cache_seconds: float | None = None,
) -> FastAPI:
    """The service over ``database_url`` (default ``LVYUE_DATABASE_URL`` or the SQLite file).

    The database must already be migrated (``lvyue db upgrade`` / ``lvyue.store.upgrade``).
    ``kuaidi100_salt`` defaults to ``LVYUE_KUAIDI100_SALT``; without one, pushes are refused.
    ``token_cache_seconds`` defaults to ``LVYUE_TOKEN_CACHE_SECONDS`` or 1 (api.principals).
    Raises :class:`lvyue.workflows.config.MissingSecret` without a usable
    ``LVYUE_INSPECTION_SECRET``: the service does not start with a guessable signing key."""
    from lvyue.api import (
        routes_accounts,
        routes_audit,
        routes_creators,
        routes_diagnosis,
        routes_evidence,
        routes_facts,
        routes_feedback,
        routes_indicators,
        routes_jobs,
        routes_kuaidi100,
        routes_live,
        routes_orders,
        routes_promotions,
        routes_quarantine,
        routes_tokens,
        routes_workflows,
    )
    from lvyue.workflows import config
    from lvyue.workflows import hooks as workflow_hooks

    config.inspection_secret()  # refuse to start rather than sign with a known key
    workflow_hooks.register()  # the capabilities plug in here, explicitly (never on import)
    routes_kuaidi100.register()
    app = FastAPI(
        title="lvyue 履约",
        summary="Fulfilment rules as data: accounts, ingestion, workflows, diagnosis.",
        version="0.1.0",
        docs_url=None,  # served from the package by docs_ui (no CDN)
        redoc_url=None,
    )
    engine = make_engine(database_url)
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    ttl = token_cache_seconds if token_cache_seconds is not None else ttl_from_env()
    app.state.principals = Principals(principal_loader(app.state.session_factory), ttl)
    app.state.scan_group = GroupCommit(app.state.session_factory, routes_facts.write_scan_group)
    app.state.job_runner = JobRunner(app.state.session_factory)  # large uploads, off requests
    app.state.job_runner.resume_queued()
    app.state.kuaidi100_salt = (
        kuaidi100_salt if kuaidi100_salt is not None else os.environ.get("LVYUE_KUAIDI100_SALT")
    )
    hardening.install(app)  # inside the limits: its check reads a JSON body whole
    larger = [(routes_evidence.UPLOADS, routes_evidence.upload_limit)]  # BT-9 videos stream

    def admits(scope: Scope) -> bool:  # only a valid token sends an evidence-sized body
        return bears_valid_token(app.state.session_factory, scope.get("headers") or ())

    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes, larger=larger, admits=admits)
    app.add_middleware(QueryStringLimit)
    docs_ui.install(app)

    @app.exception_handler(DataError)
    def value_does_not_fit(_request: Request, error: DataError) -> JSONResponse:
        # The database refused a value (out of range, NUL byte): the client's input, not a bug.
        reason = str(error.orig).splitlines()[0] if error.orig else "invalid value"
        return JSONResponse({"detail": f"a value does not fit the database: {reason}"}, 422)

    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        """Liveness; the only endpoint without authentication."""
        return {"status": "ok"}

    # Routes are matched in order: the ingestion paths (most requests at platform rate) first.
    app.include_router(routes_kuaidi100.signed)  # Kuaidi100's callback: signed, no token
    for module in (
        routes_facts,
        routes_kuaidi100,
        routes_accounts,
        routes_tokens,
        routes_orders,
        routes_quarantine,
        routes_audit,
        routes_workflows,
        routes_diagnosis,
        routes_indicators,
        routes_feedback,
        routes_creators,
        routes_promotions,
        routes_evidence,
        routes_live,
    ):
        app.include_router(module.router)
    app.include_router(routes_jobs.router)
    from lvyue.web import mount_console

    mount_console(app)  # the web console at /console (its own cookie sessions)
    return app


def serve_app() -> FastAPI:
    """The app as a server process runs it (``uvicorn --factory lvyue.api.app:serve_app``,
    ``lvyue serve``): ``create_app`` from the environment, then the heap it built frozen."""
    app = create_app()
    freeze_heap()
    return app


def freeze_heap() -> None:
    """Move what the process holds now (modules, the rulebook, the app) out of the garbage
    collector's view: a full collection then walks only what requests allocate. Measured
    (50 batches/s of 100 scans, open loop, two workers beside): p99 302 ms without, 31 and
    76 ms with — the slow requests came in bursts, every request of both server processes
    waiting out a full collection (docs/decisions/service-fast-path.md). For server and
    worker processes only: a process that builds many apps (tests) would keep them all."""
    gc.collect()
    gc.freeze()

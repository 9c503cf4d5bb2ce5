"""Ingestion of facts: orders, shipments, tracking events, after-sales (reads: routes_orders).

Single JSON objects are validated strictly (422 naming the field). Batches (JSON ``rows`` or
bulk CSV in the facts format) quarantine bad rows and commit the rest as one transaction.
Every write honours ``Idempotency-Key``; natural keys make replays change nothing anyway.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from lvyue.api.auth import (
    Principal,
    current_principal,
    forbidden,
    own_merchant,
    own_order,
    require,
    write_scope,
)
from lvyue.api.deps import SessionDep, content_type, json_only
from lvyue.api.group_commit import GroupCommit
from lvyue.api.idempotency import IdemKey, fingerprint_of, run_once
from lvyue.api.routes_jobs import JobAccepted, accepted
from lvyue.api.routes_workflows.common import create_once, service_now
from lvyue.model import AfterSaleType, MerchantType, ShipMode
from lvyue.model.cells import PLAIN
from lvyue.model.enums import AfterSaleReason, MerchantDecision
from lvyue.model.rows import (
    AfterSaleRow,
    Ident,
    Instant,
    OrderRow,
    ShipmentIn,
    Text,
    TrackingRow,
)
from lvyue.store import AfterSale, Order, audit
from lvyue.store.audit import audit_many
from lvyue.store.hooks import ShipRefused
from lvyue.store.jobs import create_job
from lvyue.store.shipping import ShipForbidden, Shipper, ship
from lvyue.store.write import (
    BatchResult,
    ClaimRefused,
    Outcome,
    RowRejected,
    ScanHeld,
    ScanWrite,
    apply_after_sale,
    apply_order,
    apply_tracking,
    flag_for_review,
    insert_plain_scans,
    write_rows,
)
from lvyue.workflows import config
from lvyue.workflows.actions import corrections

# Authentication first: no unauthenticated caller learns anything, not even a 415 or 422.
router = APIRouter(tags=["facts"], dependencies=[Depends(current_principal)])
Table = Literal["orders", "tracking", "after_sales"]
MAX_BATCH_ROWS = 50_000
MAX_ERRORS_SHOWN = 100
JOB_ROWS = 1_000  # a larger upload is a job (202), processed off the request
_STATUS = {"conflict": 409, "not_found": 404, "forbidden": 403, "invalid": 422}


class Applied(BaseModel):
    id: str
    outcome: Literal["created", "updated", "unchanged", "held"] = Field(
        description="held (202): a scan kept for an operator's review, not applied"
    )


class Held(Applied):
    """A scan kept for an operator's review (202), not applied."""

    detail: str = Field(description="why it is held")
    quarantine_id: int = Field(description="where it is held")


class BatchIn(BaseModel):
    rows: list[dict[str, Any]] = Field(max_length=MAX_BATCH_ROWS)


class BatchOut(BaseModel):
    table: str
    created: int
    updated: int
    unchanged: int
    quarantined: list[int] = Field(description="ids of the rows sent to quarantine")
    errors: list[str] = Field(description=f"why, row by row (the first {MAX_ERRORS_SHOWN})")
    unknown_columns: list[str] = Field(
        default_factory=list,
        description="columns the facts format does not know (misspelt?): kept as an order's "
        "extras, ignored in other tables",
    )


def _held(
    session: Session,
    table: str,
    payload: dict[str, Any],
    error: ClaimRefused,
    principal: Principal,
) -> HTTPException:
    """A refused claim: nothing of the request is kept but the flag for review (committed
    here); answered 409 alike whatever stood in the way, with the quarantine entry's id."""
    session.rollback()
    entry = flag_for_review(
        session, table, payload, error, write_scope(principal), principal.account_id
    )
    session.commit()
    return HTTPException(409, detail=f"{error} (quarantine {entry.quarantine_id})")


def _refused(error: RowRejected) -> HTTPException:
    if isinstance(error, ShipForbidden):
        return forbidden(error.permission)
    return HTTPException(_STATUS[error.kind], detail=str(error))


@dataclass(frozen=True)
class Created:
    """How a single row's creation is audited (its changes are audited where they happen)."""

    action: str  # order.create, aftersale.create, tracking.create
    entity: str
    table: str  # where a refused claim is kept for review (quarantine source)
    merchant_of: Callable[[], str | None]  # the shop whose audit trail shows it


def _apply_one(
    request: Request,
    session: Session,
    principal: Principal,
    key: str | None,
    body: BaseModel,
    row_id: str,
    apply: Callable[[], Outcome],
    created: Created,
) -> JSONResponse:
    """Apply one row under ``Idempotency-Key``; a refused row is the status its kind maps to;
    a created one is audited in the same transaction."""

    def act() -> tuple[int, Any]:
        try:
            outcome = apply()
        except ScanHeld as held:  # nothing written: keep the scan for review, say so (202)
            payload = body.model_dump(mode="json", exclude_none=True)
            scope, actor = write_scope(principal), principal.account_id
            entry = flag_for_review(session, created.table, payload, held, scope, actor)
            return 202, Held(
                id=row_id, outcome="held", detail=str(held), quarantine_id=entry.quarantine_id
            )
        except ClaimRefused as error:
            payload = body.model_dump(mode="json", exclude_none=True)
            raise _held(session, created.table, payload, error, principal) from None
        except RowRejected as error:
            raise _refused(error) from None
        if outcome == "created":
            via = f"{request.method} {request.url.path}"
            _audit_created(session, principal, created, row_id, via, service_now(request))
        return 201, Applied(id=row_id, outcome=outcome)

    return run_once(session, principal, key, fingerprint_of(request, body), act)


def _audit_created(
    session: Session, principal: Principal, created: Created, row_id: str, via: str, at: datetime
) -> None:
    audit(session, **_created_entry(principal, created, row_id, via, at))


def _created_entry(
    principal: Principal, created: Created, row_id: str, via: str, at: datetime
) -> dict[str, Any]:
    """The audit entry of a created row (``audit``'s keywords): one definition for the one-row
    path and the group."""
    return {"actor": principal.account_id, "action": created.action, "entity": created.entity,
            "entity_id": row_id, "merchant_id": created.merchant_of(), "detail": {"via": via},
            "at": at}  # fmt: skip


@router.post("/orders", status_code=201, response_model=Applied, dependencies=[Depends(json_only)])
def post_order(
    body: OrderRow,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("orders:ingest"))],
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """Create or update one order (natural key ``order_id``)."""
    return _apply_one(
        request,
        session,
        principal,
        idempotency_key,
        body,
        body.order_id,
        lambda: apply_order(session, body, write_scope(principal), principal.account_id),
        Created("order.create", "order", "orders", lambda: body.merchant_id),
    )


@router.post(
    "/orders/{order_id}/shipment",
    status_code=201,
    response_model=Applied,
    dependencies=[Depends(json_only)],
)
def ship_order(
    order_id: str,
    body: ShipmentIn,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("orders:ship"))],
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """Ship an order with carrier and waybill (发货) through the one ship use case
    (``store.shipping``): rules (e.g. BTAS codes, BT-8) refuse with the clause (422); the
    ship time is the server clock, or a claim at most an hour before it (else 422)."""
    order = own_order(session, principal, order_id)
    shipper = Shipper(principal.account_id, "merchant", principal.permissions)

    def act() -> tuple[int, Any]:
        try:
            outcome = ship(session, order, body, shipper, now=service_now(request))
        except ShipRefused as error:
            detail = {"clause": error.clause, "message": error.message}
            raise HTTPException(422, detail=detail) from None
        except ClaimRefused as error:
            payload = {"order_id": order_id, **body.model_dump(mode="json", exclude_none=True)}
            raise _held(session, "shipments", payload, error, principal) from None
        except RowRejected as error:
            raise _refused(error) from None
        return 201, Applied(id=order_id, outcome=outcome)

    return run_once(session, principal, idempotency_key, fingerprint_of(request, body), act)


@router.post(
    "/tracking",
    status_code=201,
    response_model=Applied,
    dependencies=[Depends(json_only)],
    responses={202: {"model": Held, "description": "held for review (its time)"}},
)
async def post_tracking(
    body: TrackingRow,
    request: Request,
    principal: Annotated[Principal, Depends(require("tracking:push"))],
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """One canonical scan (natural key carrier, waybill, time, kind). A new, plain scan is
    written with the others arriving at the same moment (``api.group_commit``); any other —
    a repeat, a refusal, a hold, an ``Idempotency-Key`` — is answered on its own."""
    row_id = f"{body.carrier}:{body.waybill}"
    if idempotency_key is None:
        scan = ScanWrite(body, write_scope(principal), service_now(request))
        scans: GroupCommit[GroupedScan] = request.app.state.scan_group
        if await scans.submit(GroupedScan(scan, principal, row_id, f"POST {request.url.path}")):
            return JSONResponse(Applied(id=row_id, outcome="created").model_dump(), 201)
    return await run_in_threadpool(_post_tracking, body, request, principal, idempotency_key)


def _post_tracking(
    body: TrackingRow, request: Request, principal: Principal, key: str | None
) -> JSONResponse:
    with request.app.state.session_factory() as session:
        return _apply_one(
            request,
            session,
            principal,
            key,
            body,
            f"{body.carrier}:{body.waybill}",
            lambda: apply_tracking(session, body, write_scope(principal), now=service_now(request)),
            _SCAN_CREATED,
        )


_SCAN_CREATED = Created("tracking.create", "waybill", "tracking", lambda: None)


@dataclass(frozen=True)
class GroupedScan:
    """A single scan waiting for its group (``api.group_commit``), with its audit entry's facts."""

    scan: ScanWrite
    principal: Principal
    row_id: str
    via: str


def write_scan_group(session: Session, group: Sequence[GroupedScan]) -> list[bool]:
    """The plain new scans of ``group`` stored and audited as ``post_tracking`` would."""
    written = insert_plain_scans(session, [g.scan for g in group])
    pairs = zip(group, written, strict=True)
    entries = [_created_entry(g.principal, _SCAN_CREATED, g.row_id, g.via, g.scan.now)
               for g, created in pairs if created]  # fmt: skip
    audit_many(session, entries)
    return written


@router.post(
    "/after-sales", status_code=201, response_model=Applied, dependencies=[Depends(json_only)]
)
def post_after_sale(
    body: AfterSaleRow,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("orders:ingest"))],
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """Create or update one after-sales record (natural key ``aftersale_id``)."""
    return _apply_one(
        request,
        session,
        principal,
        idempotency_key,
        body,
        body.aftersale_id,
        lambda: apply_after_sale(session, body, write_scope(principal), principal.account_id),
        Created(
            "aftersale.create",
            "after_sale",
            "after_sales",
            lambda: _merchant_of_order(session, body.order_id),
        ),
    )


def _merchant_of_order(session: Session, order_id: str) -> str | None:
    order = session.get(Order, order_id)
    return None if order is None else order.merchant_id


def _batch_permission(principal: Principal, table: Table) -> None:
    needed = "tracking:push" if table == "tracking" else "orders:ingest"
    if needed not in principal.permissions:
        raise forbidden(needed)


def _batch(
    request: Request,
    session: Session,
    principal: Principal,
    table: Table,
    rows: list[dict[str, Any]],
    first: int,
) -> tuple[int, Any]:
    result: BatchResult = write_rows(
        session, table, rows, write_scope(principal), principal.account_id, first_line=first
    )
    audit(
        session,
        actor=principal.account_id,
        action="ingest.batch",
        entity=table,
        entity_id=f"{len(rows)} rows",
        merchant_id=principal.merchant_id,
        detail={
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "quarantined": len(result.quarantined),
            "unknown_columns": result.unknown_columns,
        },
    )
    return 200, BatchOut(
        table=table,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        quarantined=result.quarantined,
        errors=result.errors[:MAX_ERRORS_SHOWN],
        unknown_columns=result.unknown_columns,
    )


def _upload(
    request: Request,
    session: Session,
    principal: Principal,
    key: str | None,
    request_hash: str,
    table: Table,
    rows: list[dict[str, Any]],
) -> JSONResponse:
    """A batch of up to ``JOB_ROWS`` rows is applied now (200); a larger one becomes a job
    (202), processed off the request in short transactions."""
    if len(rows) <= JOB_ROWS:
        return run_once(
            session,
            principal,
            key,
            request_hash,
            lambda: _batch(request, session, principal, table, rows, 1),
        )
    queued: list[int] = []

    def enqueue() -> tuple[int, Any]:
        job = create_job(session, table, rows, write_scope(principal), principal.account_id)
        queued.append(job.job_id)
        return 202, accepted(job)

    response = run_once(session, principal, key, request_hash, enqueue)
    for job_id in queued[-1:]:  # committed: hand it to the runner
        request.app.state.job_runner.submit(job_id)
    return response


@router.post(
    "/ingest/{table}",
    response_model=BatchOut,
    dependencies=[Depends(json_only)],
    responses={202: {"model": JobAccepted, "description": "a job (over 1,000 rows)"}},
)
def ingest_json(
    table: Table,
    body: BatchIn,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(current_principal)],
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """A batch of rows in the facts format as JSON objects; bad rows are quarantined, the
    rest committed together. Over 1,000 rows: 202 with a job (``GET /ingest/jobs/{id}``)."""
    _batch_permission(principal, table)
    digest = fingerprint_of(request, body)
    return _upload(request, session, principal, idempotency_key, digest, table, body.rows)


@router.post(
    "/ingest/{table}/csv",
    response_model=BatchOut,
    dependencies=[Depends(content_type("text/csv"))],
    responses={202: {"model": JobAccepted, "description": "a job (over 1,000 rows)"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def ingest_csv(
    table: Table,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(current_principal)],
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """A bulk CSV upload (UTF-8, header row) in the facts format; quarantine errors number
    the data rows from 1 (the first row under the header). Body size is limited (413). Over
    1,000 rows: 202 with a job (``GET /ingest/jobs/{id}``). Nothing runs on the event loop:
    parsing and the database work go to threads, so no upload holds up other requests."""
    _batch_permission(principal, table)
    raw = await request.body()
    rows = await run_in_threadpool(_read_csv, raw)
    digest = fingerprint_of(request, raw)
    return await run_in_threadpool(
        _upload, request, session, principal, idempotency_key, digest, table, rows
    )


def _read_csv(raw: bytes) -> list[dict[str, Any]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise HTTPException(422, detail=f"body: not UTF-8 (byte {error.start})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise HTTPException(422, detail="body: no header row")
    rows = []
    for row in reader:
        if None in row:
            raise HTTPException(422, detail=f"line {reader.line_num}: more fields than the header")
        rows.append({k: v for k, v in row.items() if k})
        if len(rows) > MAX_BATCH_ROWS:
            raise HTTPException(413, detail=f"more than {MAX_BATCH_ROWS} rows; split the file")
    return rows


class OrderCorrection(BaseModel):
    """A correction of recorded facts: only the fields given change."""

    reason: Annotated[str, Field(min_length=5, max_length=300, pattern=PLAIN)]
    pay_time: Instant | None = None
    promised_ship_time: Instant | None = None
    confirmed_receipt_time: Instant | None = None
    ship_time: Instant | None = Field(None, description="of the order's shipment")
    merchant_type: MerchantType | None = None
    category: Text | None = None
    ship_mode: ShipMode | None = None
    delayed_shipping: bool | None = None
    product_id: Ident | None = None


class CorrectedOut(BaseModel):
    order_id: str
    version: int
    changes: dict[str, list[Any]] = Field(description="field -> [old, new]")
    rejudged: list[dict[str, Any]] = Field(description="verdicts whose status or clauses moved")
    withdrawn_violations: int


@router.post(
    "/orders/{order_id}/corrections",
    status_code=201,
    response_model=CorrectedOut,
    dependencies=[Depends(json_only)],
)
def correct_order(
    order_id: str,
    body: OrderCorrection,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("facts:correct"))],
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """The platform corrects recorded facts of an order: a new version with who, when and
    why, its verdicts re-judged and audited (re-sending an order never changes them)."""
    order = own_order(session, principal, order_id)
    return _correct(request, session, principal, idempotency_key, body, order, CorrectedOut)


class AfterSaleCorrection(BaseModel):
    """A correction of a recorded after-sales record: only the fields given change."""

    reason: Annotated[str, Field(min_length=5, max_length=300, pattern=PLAIN)]
    type: AfterSaleType | None = None
    created_at: Instant | None = None
    merchant_handled_at: Instant | None = None
    merchant_decision: MerchantDecision | None = None
    return_shipped_at: Instant | None = None
    merchant_received_at: Instant | None = None
    return_signed_at: Instant | None = None
    refunded_at: Instant | None = None
    consumer_reason: AfterSaleReason | None = Field(
        None, description="the request's VF-8 reason (``reason`` in the facts format)"
    )


class AfterSaleCorrectedOut(CorrectedOut):
    aftersale_id: str


@router.post(
    "/after-sales/{aftersale_id}/corrections",
    status_code=201,
    response_model=AfterSaleCorrectedOut,
    dependencies=[Depends(json_only)],
)
def correct_after_sale(
    aftersale_id: Annotated[str, PathParam(max_length=64)],
    body: AfterSaleCorrection,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("facts:correct"))],
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """The platform corrects a recorded after-sales record (售后): a new version with who,
    when and why (``aftersale.correct``), its order's verdicts re-judged and audited — as for
    an order (re-sending the record never changes a recorded step)."""
    record = session.get(AfterSale, aftersale_id)
    if record is None:
        raise HTTPException(404, detail="not found")
    own_merchant(principal, record.merchant_id)
    return _correct(
        request, session, principal, idempotency_key, body, record, AfterSaleCorrectedOut
    )


# Body fields named apart from the facts format (the correction's own ``reason`` is why).
_FACT_NAMES = {"consumer_reason": "reason"}


def _correct(
    request: Request,
    session: Session,
    principal: Principal,
    idempotency_key: str | None,
    body: OrderCorrection | AfterSaleCorrection,
    record: corrections.Record,
    out: type[CorrectedOut],
) -> JSONResponse:
    """One correction use case (``corrections.correct``) for every kind of recorded fact."""
    given = body.model_dump(exclude={"reason"}, exclude_none=True)
    changes = {_FACT_NAMES.get(k, k): v.value if isinstance(v, Enum) else v
               for k, v in given.items()}  # fmt: skip

    def create() -> CorrectedOut:
        done = corrections.correct(
            session,
            config.rules(),
            record,
            changes,
            reason=body.reason,
            actor=principal.account_id,
            now=service_now(request),
        )
        ids = {"aftersale_id": record.aftersale_id} if isinstance(record, AfterSale) else {}
        return out(
            order_id=record.order_id,
            version=done.version,
            changes=done.changes,
            rejudged=done.rejudged,
            withdrawn_violations=done.withdrawn,
            **ids,
        )

    return create_once(request, session, principal, idempotency_key, body, create)

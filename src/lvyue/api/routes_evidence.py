"""BT-9 packing records as files: uploaded for a shipment (``orders:ship``) or an item's
send-out to the agency (``inspection:manage``) by the owning merchant, stored by
lvyue.store.evidence (checksum, size and type limits), kept as versions (a correction needs a
reason and keeps the earlier file), streamed back verified, and listed with an order and an
after-sales dispute. Another shop's order, inspection, after-sales request or file answers
exactly as a missing one (404 ``not found``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lvyue.api.auth import Principal, own_order, require
from lvyue.api.deps import SessionDep
from lvyue.api.evidence_out import EvidenceListOut, EvidenceOut, list_out
from lvyue.api.routes_workflows.common import (
    actor_of,
    domain_errors,
    require_any,
    service_now,
    tenant_of,
)
from lvyue.model.cells import CONTROL
from lvyue.store import AfterSale, Shipment
from lvyue.store.evidence import CHUNK, EvidenceRefused, evidence_store, max_bytes
from lvyue.store.evidence_files import NotReplaced, versions
from lvyue.workflows import evidence as bt9
from lvyue.workflows.actions import evidence as keeping
from lvyue.workflows.actions import inspection

router = APIRouter(tags=["evidence"])
SHIPMENT_VIDEO = "/orders/{order_id}/shipment/packing-video"
SEND_VIDEO = "/btas/inspections/{inspection_id}/packing-video"
FORM_ALLOWANCE = 64 * 1024  # multipart framing and the reason field around the file
# The uploads that stream past the service's 16 MiB body limit (up to the evidence limit).
UPLOADS = re.compile(r"/orders/[^/]+/shipment/packing-video(/corrections)?"
                     r"|/btas/inspections/[^/]+/packing-video(/corrections)?")  # fmt: skip
# Something said, and no control character (the audit trail a dispute reads; as PLAIN).
Reason = Annotated[
    str, Form(min_length=1, max_length=500, pattern=rf"^[^{CONTROL}]*[^{CONTROL}\s][^{CONTROL}]*$")
]
Ship = Annotated[Principal, Depends(require("orders:ship"))]
Manage = Annotated[Principal, Depends(require("inspection:manage"))]
View = Annotated[Principal, Depends(require("orders:view"))]
SeeSendOut = Annotated[
    Principal, Depends(require_any("inspection:manage", "inspection:inspect", "orders:view"))
]


def upload_limit() -> int:
    """The request-body limit of an evidence upload (lvyue.api.limits.BodySizeLimit)."""
    return max_bytes() + FORM_ALLOWANCE


def _chunks(upload: UploadFile) -> Iterator[bytes]:
    while chunk := upload.file.read(CHUNK):
        yield chunk


def _shipment(session: Session, principal: Principal, order_id: str) -> Shipment:
    order = own_order(session, principal, order_id)
    shipment = session.get(Shipment, order.order_id)
    if shipment is None:
        raise HTTPException(409, detail="the order is not shipped: ship it first (BT-9)")
    return shipment


def _keep(
    session: Session,
    request: Request,
    principal: Principal,
    subject: keeping.Subject,
    file: UploadFile,
    reason: str | None,
) -> EvidenceOut:
    """Store and record the upload (201 with the current version); refusals keep nothing."""
    if principal.merchant_id != subject.row.merchant_id:  # the owning merchant only
        raise HTTPException(404, detail="not found")
    try:
        kept = keeping.keep(session, evidence_store(), subject, _chunks(file),
                            file.content_type or "", by=principal.account_id,
                            now=service_now(request), reason=reason)  # fmt: skip
        session.commit()
    except EvidenceRefused as refused:
        session.rollback()
        raise HTTPException(refused.status, detail=str(refused)) from None
    except (NotReplaced, IntegrityError) as conflict:
        session.rollback()
        raise HTTPException(409, detail=f"{_brief(conflict)} (BT-9)") from None
    return EvidenceOut.of(kept.file, link=None)


def _brief(error: Exception) -> str:
    return str(error) if isinstance(error, NotReplaced) else "uploaded meanwhile: try again"


@router.post(SHIPMENT_VIDEO, status_code=201, response_model=EvidenceOut)
def upload_packing_video(
    order_id: str, file: UploadFile, request: Request, session: SessionDep, principal: Ship
) -> EvidenceOut:
    """The packing video (or monitoring record) of the order's shipment to the consumer
    (BT-9): an MP4, QuickTime or WebM video or a JPEG/PNG image within the size limit. A
    recorded one is not replaced (409; the same file again changes nothing): correct it."""
    subject = keeping.Subject(_shipment(session, principal, order_id))
    return _keep(session, request, principal, subject, file, None)


@router.post(SHIPMENT_VIDEO + "/corrections", status_code=201, response_model=EvidenceOut)
def correct_packing_video(
    order_id: str,
    file: UploadFile,
    reason: Reason,
    request: Request,
    session: SessionDep,
    principal: Ship,
) -> EvidenceOut:
    """Correct the shipment's recorded packing video: the file becomes a new version with
    the reason; the earlier file and its audit entry stay (the owning merchant only)."""
    subject = keeping.Subject(_shipment(session, principal, order_id))
    return _keep(session, request, principal, subject, file, reason.strip())


def _streamed(reference: str | None) -> StreamingResponse:
    """The stored file, verified before its first byte, streamed a chunk at a time."""
    try:
        opened = evidence_store().open(reference or "")
    except EvidenceRefused as refused:
        raise HTTPException(refused.status, detail=str(refused)) from None
    name = f"{opened.reference.removeprefix('sha256:')}"
    headers = {"Content-Length": str(opened.size),
               "Content-Disposition": f'inline; filename="{name}"'}  # fmt: skip
    return StreamingResponse(opened.chunks, media_type=opened.media_type, headers=headers)


@router.get(SHIPMENT_VIDEO, response_class=StreamingResponse)
def packing_video(order_id: str, session: SessionDep, principal: View) -> StreamingResponse:
    """The shipment's current packing video; 404 when none is stored (a free-text reference
    names no file), 409 when the file changed in the store."""
    subject = keeping.Subject(_shipment(session, principal, order_id))
    return _streamed(_current(session, subject))


def _current(session: Session, subject: keeping.Subject) -> str | None:
    """The subject's current recorded file: what its uploads recorded, never a reference
    read from a text column (a written one could name another shop's file)."""
    kept = versions(session, subject.kind, [subject.subject_id])
    return kept[-1].reference if kept else None


def _inspection(session: Session, principal: Principal, inspection_id: str) -> keeping.Subject:
    with domain_errors(session):
        return keeping.Subject(inspection.load(session, inspection_id, actor_of(principal)))


@router.post(SEND_VIDEO, status_code=201, response_model=EvidenceOut)
def upload_send_video(
    inspection_id: str, file: UploadFile, request: Request, session: SessionDep, principal: Manage
) -> EvidenceOut:
    """The packing video of the item's send-out to the agency (送检, BT-9)."""
    subject = _inspection(session, principal, inspection_id)
    return _keep(session, request, principal, subject, file, None)


@router.post(SEND_VIDEO + "/corrections", status_code=201, response_model=EvidenceOut)
def correct_send_video(
    inspection_id: str,
    file: UploadFile,
    reason: Reason,
    request: Request,
    session: SessionDep,
    principal: Manage,
) -> EvidenceOut:
    """Correct the send-out's packing video: a new version with the reason, the earlier kept."""
    subject = _inspection(session, principal, inspection_id)
    return _keep(session, request, principal, subject, file, reason.strip())


@router.get(SEND_VIDEO, response_class=StreamingResponse)
def send_video(inspection_id: str, session: SessionDep, principal: SeeSendOut) -> StreamingResponse:
    """The send-out's current packing video: the merchant's own, the agency it went to, or
    an operator."""
    return _streamed(_current(session, _inspection(session, principal, inspection_id)))


@router.get("/orders/{order_id}/evidence", response_model=EvidenceListOut)
def order_evidence(order_id: str, session: SessionDep, principal: View) -> EvidenceListOut:
    """The order's packings (send-out to the agency, shipment to the consumer) with every
    version of their records, and which BT-9 asks for but has none (``missing``)."""
    order = own_order(session, principal, order_id)
    return list_out(order.order_id, bt9.packings(session, order))


@router.get("/orders/{order_id}/evidence/{sha256}", response_class=StreamingResponse)
def order_evidence_file(
    order_id: str, sha256: str, session: SessionDep, principal: View
) -> StreamingResponse:
    """One file among the order's records (any version, either packing); a file that is not
    one of them answers as a missing one, whoever else recorded it."""
    return order_file(session, principal, order_id, sha256)


def order_file(
    session: Session, principal: Principal, order_id: str, sha256: str
) -> StreamingResponse:
    """A file of the order's packing records, streamed (the API's and the console's link)."""
    order = own_order(session, principal, order_id)
    for packing in bt9.packings(session, order):
        if any(f.reference == f"sha256:{sha256}" for f in packing.files):
            return _streamed(f"sha256:{sha256}")
    raise HTTPException(404, detail="not found")


@router.get("/workflows/after-sales/{aftersale_id}/evidence", response_model=EvidenceListOut)
def dispute_evidence(aftersale_id: str, session: SessionDep, principal: View) -> EvidenceListOut:
    """The evidence of an after-sales dispute: its order's packing records (BT-9; BT-11: the
    inspection result is not the only basis), for the merchant and the platform."""
    after_sale = session.get(AfterSale, aftersale_id)
    tenant = tenant_of(principal)
    if after_sale is None or tenant not in (None, after_sale.merchant_id):
        raise HTTPException(404, detail="not found")
    order = own_order(session, principal, after_sale.order_id)
    return list_out(order.order_id, bt9.packings(session, order), aftersale_id=aftersale_id)

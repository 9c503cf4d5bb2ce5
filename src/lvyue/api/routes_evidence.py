"""BT-9 packing videos as files: uploaded for a shipped order (``orders:ship``, the order's
own merchant), stored by lvyue.store.evidence (checksum, size and type limits) and linked to
the shipment (its ``packing_video`` becomes the file's ``sha256:`` reference, shown with the
order and in a dispute); read back, checksum verified, by whoever may see the order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, UploadFile
from fastapi.responses import Response

from lvyue.api.auth import Principal, own_order, require
from lvyue.api.deps import SessionDep
from lvyue.store import Shipment
from lvyue.store.audit import audit
from lvyue.store.evidence import EvidenceRefused, evidence_store

router = APIRouter(prefix="/orders", tags=["evidence"])
CHUNK = 1024 * 1024
PATH = "/{order_id}/shipment/packing-video"


def _chunks(upload: UploadFile) -> Iterator[bytes]:
    while chunk := upload.file.read(CHUNK):
        yield chunk


def _shipment(session: SessionDep, principal: Principal, order_id: str) -> Shipment:
    order = own_order(session, principal, order_id)
    shipment = session.get(Shipment, order.order_id)
    if shipment is None:
        raise HTTPException(409, detail="the order is not shipped: ship it first (BT-9)")
    return shipment


def _not_replacing(shipment: Shipment, reference: str) -> None:
    recorded = shipment.packing_video
    if recorded is not None and recorded != reference:
        detail = f"order {shipment.order_id!r} already has the packing video {recorded!r}"
        raise HTTPException(409, detail=f"{detail}: a recorded one is not replaced (BT-9)")


@router.post(PATH, status_code=201)
def upload_packing_video(
    order_id: str,
    file: UploadFile,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("orders:ship"))],
) -> dict[str, Any]:
    """Store the packing video (or monitoring record) of the order's shipment (BT-9): an
    MP4, QuickTime or WebM video or a JPEG/PNG image, within the size limit. A shipment's
    recorded reference is never replaced (as on re-sending the shipment): the merchant is
    judged on it, so a second, different upload is refused (409); the same file is no change."""
    shipment = _shipment(session, principal, order_id)
    try:
        stored = evidence_store().put(_chunks(file), file.content_type or "")
    except EvidenceRefused as refused:
        raise HTTPException(refused.status, detail=str(refused)) from None
    _not_replacing(shipment, stored.reference)
    shipment.packing_video = stored.reference
    audit(session, actor=principal.account_id, action="shipment.packing_video",
          entity="order", entity_id=shipment.order_id, merchant_id=shipment.merchant_id,
          clause="BT-9", detail={"reference": stored.reference, "size": stored.size,
                                 "media_type": stored.media_type})  # fmt: skip
    session.commit()
    return {"order_id": shipment.order_id, "reference": stored.reference,
            "size": stored.size, "media_type": stored.media_type}  # fmt: skip


@router.get(PATH, response_class=Response)
def packing_video(
    order_id: str,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("orders:view"))],
) -> Response:
    """The stored packing video of the order's shipment; 404 when it has none stored (a
    free-text reference names no file), 409 when the file changed on disk."""
    shipment = _shipment(session, principal, order_id)
    try:
        data, media_type = evidence_store().read(shipment.packing_video or "")
    except EvidenceRefused as refused:
        raise HTTPException(refused.status, detail=str(refused)) from None
    return Response(data, media_type=media_type)

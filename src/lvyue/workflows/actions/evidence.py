"""Keep a BT-9 packing record: store the file (lvyue.store.evidence), record it as its
subject's next version (lvyue.store.evidence_files), point the shipment or the send-out at it
and audit it — the one use case the API's upload and correction routes call."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from lvyue.store.audit import audit
from lvyue.store.evidence import EvidenceStore
from lvyue.store.evidence_files import (
    INSPECTION,
    SHIPMENT,
    EvidenceFile,
    NotReplaced,
    record,
    versions,
)
from lvyue.store.tables import Shipment
from lvyue.store.workflow_tables import Inspection
from lvyue.workflows.evidence import CLAUSE


@dataclass(frozen=True)
class Subject:
    """What a record is of: a shipment (its ``packing_video``) or a send-out to the agency
    (the inspection's ``send_video``)."""

    row: Shipment | Inspection

    @property
    def kind(self) -> str:
        return SHIPMENT if isinstance(self.row, Shipment) else INSPECTION

    @property
    def subject_id(self) -> str:
        row = self.row
        return row.order_id if isinstance(row, Shipment) else row.inspection_id

    @property
    def pointer(self) -> str | None:
        row = self.row
        return row.packing_video if isinstance(row, Shipment) else row.send_video

    def point_at(self, reference: str) -> None:
        if isinstance(self.row, Shipment):
            self.row.packing_video = reference
        else:
            self.row.send_video = reference

    @property
    def action(self) -> str:  # the audit action, as uploads were audited before versions
        return "shipment.packing_video" if self.kind == SHIPMENT else "inspection.send_video"

    @property
    def entity(self) -> str:
        return "order" if self.kind == SHIPMENT else "inspection"


@dataclass(frozen=True)
class Kept:
    file: EvidenceFile  # the subject's current version
    new: bool  # False: the upload was the current version already, nothing recorded


def keep(
    session: Session,
    store: EvidenceStore,
    subject: Subject,
    chunks: Iterable[bytes],
    content_type: str,
    *,
    by: str,
    now: datetime,
    reason: str | None = None,
) -> Kept:
    """Store and record one upload. Without ``reason`` it is the subject's first record (a
    different file from the recorded one is :class:`NotReplaced`, as is a different file
    over a reference written as text); with one it corrects the current record: a new
    version, the earlier file and its audit entry kept."""
    stored = store.put(chunks, content_type)
    earlier = subject.pointer
    kept = versions(session, subject.kind, [subject.subject_id])
    if reason is None and earlier and earlier != stored.reference and not kept:
        raise NotReplaced(f"{subject.kind} {subject.subject_id} already has the packing "
                          f"record {earlier!r}: correct it with a reason")  # fmt: skip
    row = record(session, subject=subject.kind, subject_id=subject.subject_id,
                 merchant_id=subject.row.merchant_id, stored=stored, by=by, at=now,
                 reason=reason)  # fmt: skip
    if row is None:
        return Kept(kept[-1], new=False)
    subject.point_at(stored.reference)
    detail: dict[str, object] = {
        "reference": stored.reference,
        "size": stored.size,
        "media_type": stored.media_type,
        "version": row.version,
    }
    if reason is not None:
        detail |= {"reason": reason, "replaces": earlier}
    audit(session, actor=by, action=subject.action + (".correct" if reason else ""),
          entity=subject.entity, entity_id=subject.subject_id,
          merchant_id=subject.row.merchant_id, clause=CLAUSE, detail=detail, at=now)  # fmt: skip
    return Kept(row, new=True)

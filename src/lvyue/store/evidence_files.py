"""Which stored evidence file is whose (BT-9): every upload is one version of one subject's
packing record, kept with who uploaded it and when.

A subject is a shipment to the consumer (``shipment``, by order id) or an item's send-out to
the inspection agency (``inspection``, by inspection id): the two moments the seed names
("在商品送往质检机构和订单生成后、发货给消费者时"). Version 1 is the first upload; a
later version exists only as a correction, with its reason, and never removes an earlier
one: the file and its audit entry stay (docs/decisions/evidence-versions.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lvyue.store.db import Base
from lvyue.store.evidence import Stored
from lvyue.store.types import UtcDateTime

SHIPMENT = "shipment"  # packed to ship to the consumer (发货给消费者); subject id: the order
INSPECTION = "inspection"  # packed to send to the agency (送往质检机构); the inspection
SUBJECTS = (INSPECTION, SHIPMENT)


class EvidenceFile(Base):
    """One version of one subject's packing video or monitoring record."""

    __tablename__ = "evidence_files"
    __table_args__ = (UniqueConstraint("subject", "subject_id", "version"),)

    evidence_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.merchant_id"), index=True)
    subject: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(71), index=True)  # sha256:<hex>
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)  # why it corrects the version before
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class NotReplaced(Exception):
    """A different file for a subject that has one: only a correction (with a reason)
    records it (409)."""


def versions(session: Session, subject: str, subject_ids: Sequence[str]) -> list[EvidenceFile]:
    """The subjects' versions, oldest first per subject."""
    if not subject_ids:
        return []
    query = select(EvidenceFile).where(
        EvidenceFile.subject == subject, EvidenceFile.subject_id.in_(subject_ids)
    )
    return list(session.scalars(query.order_by(EvidenceFile.subject_id, EvidenceFile.version)))


def record(
    session: Session,
    *,
    subject: str,
    subject_id: str,
    merchant_id: str,
    stored: Stored,
    by: str,
    at: datetime,
    reason: str | None = None,
) -> EvidenceFile | None:
    """Record ``stored`` as the subject's next version; None when it is the current version
    already (the same file again changes nothing). Without a ``reason`` only a first version
    is recorded (:class:`NotReplaced` otherwise); with one, a correction of the current."""
    existing = versions(session, subject, [subject_id])
    current = existing[-1] if existing else None
    if current is not None and current.reference == stored.reference:
        return None
    if current is not None and reason is None:
        raise NotReplaced(
            f"{subject} {subject_id} already has the evidence {current.reference} "
            f"(version {current.version}): correct it with a reason"
        )
    row = EvidenceFile(
        merchant_id=merchant_id,
        subject=subject,
        subject_id=subject_id,
        version=current.version + 1 if current else 1,
        reference=stored.reference,
        size=stored.size,
        media_type=stored.media_type,
        reason=reason,
        uploaded_by=by,
        uploaded_at=at,
    )
    session.add(row)
    session.flush()  # a concurrent upload of the same version fails here (unique)
    return row

"""What the API shows of BT-9 packing records: each version with its checksum, size, type,
uploader and time and a download link under the order (the same tenancy as the order)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from lvyue.model import format_instant
from lvyue.store.evidence_files import EvidenceFile
from lvyue.workflows.evidence import CLAUSE, Packing


class EvidenceOut(BaseModel):
    evidence_id: int
    subject: str = Field(description="shipment (to the consumer) | inspection (to the agency)")
    subject_id: str
    version: int = Field(description="1 the first upload; each later one a correction")
    reference: str
    sha256: str
    size: int
    media_type: str
    uploaded_by: str
    uploaded_at: str
    reason: str | None = Field(description="why this version corrects the one before")
    download: str | None = Field(description="the file, streamed and verified")

    @classmethod
    def of(cls, row: EvidenceFile, link: str | None) -> EvidenceOut:
        return cls(
            evidence_id=row.evidence_id,
            subject=row.subject,
            subject_id=row.subject_id,
            version=row.version,
            reference=row.reference,
            sha256=row.reference.removeprefix("sha256:"),
            size=row.size,
            media_type=row.media_type,
            uploaded_by=row.uploaded_by,
            uploaded_at=format_instant(row.uploaded_at),
            reason=row.reason,
            download=link,
        )


class PackingOut(BaseModel):
    stage: str = Field(description="send (送往质检机构) | ship (发货给消费者)")
    subject: str
    subject_id: str
    due: bool = Field(description="BT-9 asks a record of this packing (前置质检/查验场景)")
    missing: bool = Field(description="due and none recorded: shown, never a violation by itself")
    current: str | None = Field(description="the reference of the latest version")
    versions: list[EvidenceOut]


class EvidenceListOut(BaseModel):
    order_id: str
    aftersale_id: str | None = None
    clause: str = CLAUSE
    packings: list[PackingOut]


def list_out(
    order_id: str, packings: list[Packing], aftersale_id: str | None = None
) -> EvidenceListOut:
    def link(row: EvidenceFile) -> str:
        return f"/orders/{order_id}/evidence/{row.reference.removeprefix('sha256:')}"

    return EvidenceListOut(
        order_id=order_id,
        aftersale_id=aftersale_id,
        packings=[
            PackingOut(
                stage=p.stage,
                subject=p.subject,
                subject_id=p.subject_id,
                due=p.due,
                missing=p.missing,
                current=p.files[-1].reference if p.files else None,
                versions=[EvidenceOut.of(row, link(row)) for row in p.files],
            )
            for p in packings
        ],
    )

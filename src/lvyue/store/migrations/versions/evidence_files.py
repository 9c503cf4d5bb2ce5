"""evidence_files: each BT-9 packing record a version of its shipment's or send-out's evidence
(who uploaded it, when, size, type; a correction's reason). Uploads before this revision are
taken from their audit entries (``shipment.packing_video``), as version 1.

Revision ID: evidence_files
Revises: aftersale_intervention
Create Date: 2026-12-07 06:00:00

"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lvyue.store.types

revision: str = "evidence_files"
down_revision: str | Sequence[str] | None = "aftersale_intervention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "evidence_files",
        sa.Column("evidence_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=71), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", lvyue.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.merchant_id"]),
        sa.PrimaryKeyConstraint("evidence_id"),
        sa.UniqueConstraint("subject", "subject_id", "version"),
    )
    with op.batch_alter_table("evidence_files") as batch:
        batch.create_index("ix_evidence_files_merchant_id", ["merchant_id"], unique=False)
        batch.create_index("ix_evidence_files_reference", ["reference"], unique=False)
    op.bulk_insert(table, _earlier_uploads())


def _earlier_uploads() -> list[dict[str, object]]:
    """The first upload of each shipment before versions were kept (later ones were refused)."""
    audit = sa.table(
        "audit_log", sa.column("entry_id", sa.Integer()),
        sa.column("at", lvyue.store.types.UtcDateTime()), sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("entity_id", sa.String()), sa.column("merchant_id", sa.String()),
        sa.column("detail", sa.JSON()),
    )  # fmt: skip
    uploads = audit.c.action == "shipment.packing_video"
    rows = op.get_bind().execute(sa.select(audit).where(uploads).order_by(audit.c.entry_id))
    first: dict[str, dict[str, object]] = {}
    for row in rows:
        detail = json.loads(row.detail) if isinstance(row.detail, str) else dict(row.detail or {})
        if row.entity_id in first or not row.merchant_id or "reference" not in detail:
            continue
        first[row.entity_id] = {
            "merchant_id": row.merchant_id, "subject": "shipment", "subject_id": row.entity_id,
            "version": 1, "reference": detail["reference"], "size": int(detail.get("size", 0)),
            "media_type": str(detail.get("media_type", "")), "reason": None,
            "uploaded_by": row.actor, "uploaded_at": row.at,
        }  # fmt: skip
    return list(first.values())


def downgrade() -> None:
    op.drop_table("evidence_files")

"""Live verdicts and the marks of orders to judge again (issue 13 item 2).

Revision ID: live_verdicts
Revises: integrity_job_leases
Create Date: 2026-12-07 00:05:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lvyue.store.types import UtcDateTime

revision: str = "live_verdicts"
down_revision: str | Sequence[str] | None = "integrity_job_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "live_verdicts",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("aftersale_id", sa.String(length=64), nullable=False),
        sa.Column("check", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("duty", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deadline", UtcDateTime(), nullable=True),
        sa.Column("done_at", UtcDateTime(), nullable=True),
        sa.Column("clauses", sa.String(length=500), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("facts_at", UtcDateTime(), nullable=False),
        sa.Column("as_of", UtcDateTime(), nullable=False),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "aftersale_id", "check", name=op.f("pk_live_verdicts")),
    )
    op.create_index(
        "ix_live_verdicts_status_deadline", "live_verdicts", ["status", "deadline", "order_id"]
    )
    op.create_index(
        "ix_live_verdicts_merchant_status", "live_verdicts", ["merchant_id", "status", "deadline"]
    )
    op.create_table(
        "live_marks",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("dirty", sa.Boolean(), nullable=False),
        sa.Column("marked_at", UtcDateTime(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_live_marks")),
    )
    op.create_index("ix_live_marks_dirty", "live_marks", ["dirty", "marked_at"])
    op.create_index("ix_live_marks_due_at", "live_marks", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_live_marks_due_at", table_name="live_marks")
    op.drop_index("ix_live_marks_dirty", table_name="live_marks")
    op.drop_table("live_marks")
    op.drop_index("ix_live_verdicts_merchant_status", table_name="live_verdicts")
    op.drop_index("ix_live_verdicts_status_deadline", table_name="live_verdicts")
    op.drop_table("live_verdicts")

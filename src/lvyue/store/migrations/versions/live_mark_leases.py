"""The worker's marks carry a lease (who judges the order, until when) instead of a row lock
held for the whole round: a write arriving meanwhile marks the order again without waiting for
the round (docs/decisions/live-mark-leases.md).

Revision ID: live_mark_leases
Revises: creators_promotions
Create Date: 2026-12-07 18:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lvyue.store.types import UtcDateTime

revision: str = "live_mark_leases"
down_revision: str | Sequence[str] | None = "creators_promotions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("live_marks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("lease_until", UtcDateTime(), nullable=True))
        batch_op.create_index("ix_live_marks_lease_until", ["lease_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("live_marks", schema=None) as batch_op:
        batch_op.drop_index("ix_live_marks_lease_until")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")

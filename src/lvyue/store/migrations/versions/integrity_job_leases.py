"""Ingestion jobs hold a lease (who runs them, until when), renewed with every chunk, so that a
job whose process died is picked up again; after-sales records carry a version (corrections).

Revision ID: integrity_job_leases
Revises: hostile_a_job_may_ship
Create Date: 2026-12-06 23:59:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lvyue.store.types import UtcDateTime

revision: str = "integrity_job_leases"
down_revision: str | Sequence[str] | None = "hostile_a_job_may_ship"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("lease_until", UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("after_sales", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("after_sales", schema=None) as batch_op:
        batch_op.drop_column("version")
    with op.batch_alter_table("ingest_jobs", schema=None) as batch_op:
        batch_op.drop_column("attempts")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")

"""Ingestion jobs carry whether their sender holds orders:ship (rows with ship fields ship).

Revision ID: hostile_a_job_may_ship
Revises: integrity_ingest_jobs
Create Date: 2026-12-06 22:50:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "hostile_a_job_may_ship"
down_revision: str | Sequence[str] | None = "integrity_ingest_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("may_ship", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("ingest_jobs", schema=None) as batch_op:
        batch_op.drop_column("may_ship")

"""after_sales.merchant_decision: agreed | rejected (SF-9b: the consumer-return clock starts
at an agreement, never at a rejection).

Revision ID: fid_rules_merchant_decision
Revises: integrity_facts_0003
Create Date: 2026-12-06 21:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "fid_rules_merchant_decision"
down_revision: str | Sequence[str] | None = "integrity_facts_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("after_sales") as batch:
        batch.add_column(sa.Column("merchant_decision", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("after_sales") as batch:
        batch.drop_column("merchant_decision")

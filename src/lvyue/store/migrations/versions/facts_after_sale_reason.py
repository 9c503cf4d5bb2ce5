"""after_sales.reason: why the consumer asked (VF-8: 残次, 描述不符, …), as the facts format
and the API take it; stored so the verdicts and indicators read what was accepted.

Revision ID: facts_after_sale_reason
Revises: live_verdicts
Create Date: 2026-12-07 03:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "facts_after_sale_reason"
down_revision: str | Sequence[str] | None = "live_verdicts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("after_sales") as batch:
        batch.add_column(sa.Column("reason", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("after_sales") as batch:
        batch.drop_column("reason")

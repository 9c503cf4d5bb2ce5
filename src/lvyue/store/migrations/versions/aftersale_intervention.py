"""after_sales.intervention, intervened_at: the platform stepped into the request (平台介入,
VF-8a: 仅退款, 退货退款, 退货运费由商家承担), an operator's action recorded against it.

Revision ID: aftersale_intervention
Revises: facts_after_sale_reason
Create Date: 2026-12-07 06:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lvyue.store.types import UtcDateTime

# revision identifiers, used by Alembic.
revision: str = "aftersale_intervention"
down_revision: str | Sequence[str] | None = "facts_after_sale_reason"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("after_sales") as batch:
        batch.add_column(sa.Column("intervention", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("intervened_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("after_sales") as batch:
        batch.drop_column("intervened_at")
        batch.drop_column("intervention")

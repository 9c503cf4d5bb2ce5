"""reviews and complaints (VF-8: 差评率, 投诉率): written by a consumer about its own order or
fed by the platform, read by GET /indicators from the store.

Revision ID: feedback_reviews_complaints
Revises: evidence_files
Create Date: 2026-12-07 06:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lvyue.store.types import UtcDateTime

# revision identifiers, used by Alembic.
revision: str = "feedback_reviews_complaints"
down_revision: str | Sequence[str] | None = "evidence_files"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _common(name: str, key: str, *columns: sa.Column) -> None:  # type: ignore[type-arg]
    op.create_table(
        name,
        sa.Column(key, sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        *columns,
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.order_id"], name=op.f(f"fk_{name}_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.merchant_id"],
            name=op.f(f"fk_{name}_merchant_id_merchants"),
        ),
        sa.PrimaryKeyConstraint(key, name=op.f(f"pk_{name}")),
    )
    op.create_index(op.f(f"ix_{name}_order_id"), name, ["order_id"])
    op.create_index(op.f(f"ix_{name}_merchant_id"), name, ["merchant_id"])


def upgrade() -> None:
    _common("reviews", "review_id", sa.Column("product_id", sa.String(length=64), nullable=True),
            sa.Column("rating", sa.Float(), nullable=False))  # fmt: skip
    _common("complaints", "complaint_id", sa.Column("reason", sa.String(length=32), nullable=False))


def downgrade() -> None:
    op.drop_table("complaints")
    op.drop_table("reviews")

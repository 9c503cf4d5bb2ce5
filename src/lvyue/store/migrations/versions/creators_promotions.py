"""Creators (达人), the products they share and promotions in the store; a measure may be
against a creator (VF-9): wf_measures.creator_id, merchant_id empty for those.

Revision ID: creators_promotions
Revises: feedback_reviews_complaints
Create Date: 2026-12-07 06:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lvyue.store.types import UtcDateTime

# revision identifiers, used by Alembic.
revision: str = "creators_promotions"
down_revision: str | Sequence[str] | None = "feedback_reviews_complaints"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "creators",
        sa.Column("creator_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("creator_id", name=op.f("pk_creators")),
    )
    op.create_table(
        "creator_shares",
        sa.Column("creator_id", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["creator_id"], ["creators.creator_id"],
                                name=op.f("fk_creator_shares_creator_id_creators")),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.merchant_id"],
                                name=op.f("fk_creator_shares_merchant_id_merchants")),
        sa.PrimaryKeyConstraint("creator_id", "product_id", name=op.f("pk_creator_shares")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_creator_shares_merchant_id"), "creator_shares", ["merchant_id"], unique=False
    )
    op.create_table(
        "promotions",
        sa.Column("promotion_id", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("creator_id", sa.String(length=64), nullable=True),
        sa.Column("published_at", UtcDateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.merchant_id"],
                                name=op.f("fk_promotions_merchant_id_merchants")),
        sa.ForeignKeyConstraint(["creator_id"], ["creators.creator_id"],
                                name=op.f("fk_promotions_creator_id_creators")),
        sa.PrimaryKeyConstraint("promotion_id", name=op.f("pk_promotions")),
    )  # fmt: skip
    op.create_index(op.f("ix_promotions_merchant_id"), "promotions", ["merchant_id"])
    op.create_index(op.f("ix_promotions_creator_id"), "promotions", ["creator_id"])
    with op.batch_alter_table("wf_measures") as batch:
        batch.alter_column("merchant_id", existing_type=sa.String(length=64), nullable=True)
        batch.add_column(sa.Column("creator_id", sa.String(length=64), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_wf_measures_creator_id_creators"), "creators", ["creator_id"],
            ["creator_id"],
        )  # fmt: skip
        batch.create_index(batch.f("ix_wf_measures_creator_id"), ["creator_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("wf_measures") as batch:
        batch.drop_index(batch.f("ix_wf_measures_creator_id"))
        batch.drop_constraint(batch.f("fk_wf_measures_creator_id_creators"), type_="foreignkey")
        batch.drop_column("creator_id")
        batch.alter_column("merchant_id", existing_type=sa.String(length=64), nullable=False)
    op.drop_index(op.f("ix_promotions_creator_id"), table_name="promotions")
    op.drop_index(op.f("ix_promotions_merchant_id"), table_name="promotions")
    op.drop_table("promotions")
    op.drop_index(op.f("ix_creator_shares_merchant_id"), table_name="creator_shares")
    op.drop_table("creator_shares")
    op.drop_table("creators")

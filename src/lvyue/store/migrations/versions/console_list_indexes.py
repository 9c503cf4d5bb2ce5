"""Console lists: indexes for keyset pages of orders (newest payment first, per merchant or
all) and violations (newest detection first), so page N costs what page 1 costs at 1 M rows.

Revision ID: console_list_indexes
Revises: integrity_ingest_push_subs
Create Date: 2026-12-06 21:50:00

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "console_list_indexes"
down_revision: str | Sequence[str] | None = "integrity_ingest_push_subs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_orders_pay_time_order_id", "orders", ["pay_time", "order_id"]),
    ("ix_orders_merchant_pay_time", "orders", ["merchant_id", "pay_time", "order_id"]),
    ("ix_wf_violations_detected", "wf_violations", ["detected_at", "violation_id"]),
    ("ix_wf_violations_merchant_detected", "wf_violations",
     ["merchant_id", "detected_at", "violation_id"]),
)  # fmt: skip


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)

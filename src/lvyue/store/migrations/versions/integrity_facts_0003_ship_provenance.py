"""Ship-time provenance, order versions, one shipment per (carrier, waybill).

Revision ID: integrity_facts_0003
Revises: console_passwords
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lvyue.store.types import UtcDateTime

revision: str = "integrity_facts_0003"
down_revision: str | Sequence[str] | None = "console_passwords"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """A database holding one waybill on two orders fails here: resolve them first."""
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "ship_time_source", sa.String(length=16), nullable=False, server_default="server"
            )
        )
        batch_op.add_column(sa.Column("recorded_at", UtcDateTime(), nullable=True))
        batch_op.drop_index("ix_shipments_carrier_waybill")
        batch_op.create_index("ix_shipments_carrier_waybill", ["carrier", "waybill"], unique=True)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("version")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index("ix_shipments_carrier_waybill")
        batch_op.create_index("ix_shipments_carrier_waybill", ["carrier", "waybill"], unique=False)
        batch_op.drop_column("recorded_at")
        batch_op.drop_column("ship_time_source")

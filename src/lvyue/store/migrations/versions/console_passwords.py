"""Console log-in: account password hashes and console sessions.

Revision ID: console_passwords
Revises: integrity_auth_token_expiry
Create Date: 2026-12-06 21:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lvyue.store.types import UtcDateTime

# revision identifiers, used by Alembic.
revision: str = "console_passwords"
down_revision: str | Sequence[str] | None = "integrity_auth_token_expiry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
    op.create_table(
        "console_sessions",
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_console_sessions_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("session_hash", name=op.f("pk_console_sessions")),
    )
    op.create_index(
        op.f("ix_console_sessions_account_id"), "console_sessions", ["account_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_console_sessions_account_id"), table_name="console_sessions")
    op.drop_table("console_sessions")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("password_hash")

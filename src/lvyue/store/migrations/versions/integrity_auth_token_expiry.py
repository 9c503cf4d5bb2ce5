"""API tokens expire: ``api_tokens.expires_at``; tokens issued before get 90 days from now.

Revision ID: integrity_auth_token_expiry
Revises: 0002_workflows
Create Date: 2026-12-06 21:10:00

"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from lvyue.store.types import UtcDateTime

# revision identifiers, used by Alembic.
revision: str = "integrity_auth_token_expiry"
down_revision: str | Sequence[str] | None = "0002_workflows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", UtcDateTime(), nullable=True))
    tokens = sa.table("api_tokens", sa.column("expires_at", UtcDateTime()))
    grace = datetime.now(UTC) + timedelta(days=90)  # TOKEN_TTL, as if issued now
    op.execute(tokens.update().values(expires_at=grace))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")

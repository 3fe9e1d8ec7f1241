"""the caller's SMS receipt is claimed before it is sent; a logout ends every copy of the session

Revision ID: 0005_faults
Revises: 0004_user_disabled
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_faults"
down_revision = "0004_user_disabled"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("call", sa.Column("receipt_claimed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "user_account", sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("user_account", "session_epoch")
    op.drop_column("call", "receipt_claimed_at")

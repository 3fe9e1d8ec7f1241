"""the caller's SMS receipt is claimed before it is sent

Revision ID: 0002_receipt_claim
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_receipt_claim"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("call", sa.Column("receipt_claimed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("call", "receipt_claimed_at")

"""a dashboard user can be disabled

Revision ID: 0004_user_disabled
Revises: 0003_major_incident
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_user_disabled"
down_revision = "0003_major_incident"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("disabled_at")

"""a ticket may be flagged a major incident (it escalates at once)

Revision ID: 0003_major_incident
Revises: 0002_rota_overrides
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_major_incident"
down_revision = "0002_rota_overrides"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("major_incident", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        batch.drop_column("major_incident")

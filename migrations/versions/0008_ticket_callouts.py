"""a callout may come from the ticket itself (opened at night with a priority that pages, a major
incident, its own clock breached): no voicemail behind it, and its origin kept

Revision ID: 0008_ticket_callouts
Revises: 0007_pins_out_of_stored_org
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_ticket_callouts"
down_revision = "0007_pins_out_of_stored_org"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("callout") as batch:
        batch.alter_column("voicemail_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("origin", sa.String(20), server_default="voicemail", nullable=False))


def downgrade() -> None:
    # Callouts without a voicemail cannot survive the older schema.
    op.execute("DELETE FROM page WHERE callout_id IN (SELECT id FROM callout WHERE voicemail_id IS NULL)")
    op.execute("DELETE FROM callout WHERE voicemail_id IS NULL")
    with op.batch_alter_table("callout") as batch:
        batch.drop_column("origin")
        batch.alter_column("voicemail_id", existing_type=sa.Integer(), nullable=False)

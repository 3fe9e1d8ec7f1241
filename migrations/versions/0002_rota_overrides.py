"""rota overrides: desk changes of the rota, its timeline, gap alerts, calendar feeds

Revision ID: 0002_rota_overrides
Revises: 0001
Create Date: 2026-11-25 16:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_rota_overrides"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rota_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("cover", "swap", name="rotachangekind", native_enum=False, create_constraint=False, length=24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("made_by", sa.String(length=80), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "rota_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.String(length=10), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["change_id"], ["rota_change.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rota_override_change_id", "rota_override", ["change_id"], unique=False)
    op.create_index("ix_rota_override_ends_at", "rota_override", ["ends_at"], unique=False)
    op.create_table(
        "rota_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["change_id"], ["rota_change.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rota_event_at", "rota_event", ["at"], unique=False)
    op.create_table(
        "rota_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.String(length=10), nullable=False),
        sa.Column("gap_starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("position", "gap_starts_at", name="uq_rota_alert_gap"),
    )
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_calendar_feed_person_id", "calendar_feed", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_calendar_feed_person_id", table_name="calendar_feed")
    op.drop_table("calendar_feed")
    op.drop_table("rota_alert")
    op.drop_index("ix_rota_event_at", table_name="rota_event")
    op.drop_table("rota_event")
    op.drop_index("ix_rota_override_ends_at", table_name="rota_override")
    op.drop_index("ix_rota_override_change_id", table_name="rota_override")
    op.drop_table("rota_override")
    op.drop_table("rota_change")

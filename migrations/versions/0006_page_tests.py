"""tests of a person's page: by hand (`astreinte page test`, the dashboard) and every evening

Revision ID: 0006_page_tests
Revises: 0005_faults
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_page_tests"
down_revision = "0005_faults"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_test",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.String(40), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(80), nullable=True),
        sa.Column("night", sa.String(10), nullable=True),
        sa.Column("to_number", sa.String(20), nullable=False),
        sa.Column("channels", sa.String(16), nullable=False),
        sa.Column("sms_sid", sa.String(64), nullable=True),
        sa.Column("sms_status", sa.String(24), nullable=True),
        sa.Column("sms_error", sa.String(10), nullable=True),
        sa.Column("call_sid", sa.String(64), nullable=True),
        sa.Column("call_status", sa.String(24), nullable=True),
        sa.Column("call_error", sa.String(10), nullable=True),
        sa.Column("answered_by", sa.String(24), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("person_id", "night", name="uq_page_test_night"),
    )
    op.create_index("ix_page_test_person_id", "page_test", ["person_id"])
    op.create_index("ix_page_test_sms_sid", "page_test", ["sms_sid"])
    op.create_index("ix_page_test_call_sid", "page_test", ["call_sid"])
    op.create_index("ix_page_test_created_at", "page_test", ["created_at"])


def downgrade() -> None:
    op.drop_table("page_test")

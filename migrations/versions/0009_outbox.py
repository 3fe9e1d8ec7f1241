"""one outgoing message for everything sent (pages, the caller's SMS, alerts, page tests, e-mails),
carriers' health, people's e-mail

History is kept: every row of the local outbox becomes an outgoing message of the carrier `outbox`,
and every page already sent is mirrored as one (its carrier id, its status in the carrier's words under
`details`), so `astreinte outbox` and the metrics see the nights before the upgrade too. The page rows
stay: they keep the callout's bookkeeping (step, attempts, retry time).

Revision ID: 0009_outbox
Revises: 0008_ticket_callouts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_outbox"
down_revision = "0008_ticket_callouts"
branch_labels = None
depends_on = None

CHANNELS = ("sms", "voice", "web", "email")
STATES = (
    "pending",
    "sending",
    "sent",
    "delivered",
    "failed_temporary",
    "failed_permanent",
    "bundled",
    "maybe_sent",
    "cancelled",
)

# A page's status (Twilio's words, or ours) as a message state: the mirror of the history.
PAGE_STATES = {
    "pending": "pending",
    "sending": "sending",
    "outbox": "sent",
    "queued": "sent",
    "accepted": "sent",
    "initiated": "sent",
    "ringing": "sent",
    "sent": "sent",
    "in-progress": "delivered",
    "answered": "delivered",
    "completed": "delivered",
    "delivered": "delivered",
    "read": "delivered",
    "failed": "failed_permanent",
    "undelivered": "failed_permanent",
    "busy": "failed_permanent",
    "no-answer": "failed_permanent",
    "machine": "failed_permanent",
    "declined": "failed_permanent",
    "canceled": "cancelled",
    "cancelled": "cancelled",
}


def upgrade() -> None:
    op.add_column("person", sa.Column("email", sa.String(254), nullable=True))
    with op.batch_alter_table("page") as batch:  # an e-mail page carries an address
        batch.alter_column("to_number", type_=sa.String(254), existing_type=sa.String(20))
    message = op.create_table(
        "outgoing_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("person_id", sa.String(40), sa.ForeignKey("person.id"), nullable=True),
        sa.Column("channel", sa.Enum(*CHANNELS, native_enum=False, length=24), nullable=False),
        sa.Column("to_address", sa.String(254), nullable=False),
        sa.Column("carrier", sa.String(24), nullable=True),
        sa.Column("carrier_id", sa.String(64), nullable=True),
        sa.Column("state", sa.Enum(*STATES, native_enum=False, length=24), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("page_id", sa.Integer(), sa.ForeignKey("page.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_outgoing_message_person_id", "outgoing_message", ["person_id"])
    op.create_index("ix_outgoing_message_to_address", "outgoing_message", ["to_address"])
    op.create_index("ix_outgoing_message_carrier_id", "outgoing_message", ["carrier_id"])
    op.create_index("ix_outgoing_message_page_id", "outgoing_message", ["page_id"])
    op.create_index("ix_outgoing_message_created_at", "outgoing_message", ["created_at"])
    op.create_index("ix_outgoing_message_carrier_state", "outgoing_message", ["carrier", "state"])
    op.create_table(
        "carrier_health",
        sa.Column("carrier", sa.String(24), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("set_aside_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("probe_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("told_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("back_at", sa.DateTime(timezone=True), nullable=True),
    )
    _carry_history(message)
    op.drop_table("outbox_message")


def _carry_history(message: sa.Table) -> None:
    conn = op.get_bind()
    outbox = sa.table(
        "outbox_message",
        sa.column("sid", sa.String),
        sa.column("kind", sa.String),
        sa.column("to_number", sa.String),
        sa.column("body", sa.Text),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    page = sa.table(
        "page",
        sa.column("id", sa.Integer),
        sa.column("person_id", sa.String),
        sa.column("channel", sa.String),
        sa.column("to_number", sa.String),
        sa.column("status", sa.String),
        sa.column("twilio_sid", sa.String),
        sa.column("error_code", sa.String),
        sa.column("answered_by", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    said = {m.sid: m.body or "" for m in conn.execute(sa.select(outbox.c.sid, outbox.c.body))}
    paged = {}
    for p in conn.execute(sa.select(page).order_by(page.c.id)):
        paged.setdefault(p.twilio_sid, p.id)
        conn.execute(
            message.insert().values(
                kind="page",
                person_id=p.person_id,
                channel=p.channel,
                to_address=p.to_number,
                carrier=("outbox" if "local" in (p.twilio_sid or "") else "twilio") if p.twilio_sid else None,
                carrier_id=p.twilio_sid,
                state=PAGE_STATES.get(p.status, "sent")
                if paged[p.twilio_sid] == p.id or p.twilio_sid is None
                else "bundled",
                body=said.get(p.twilio_sid, "") if paged[p.twilio_sid] == p.id else "",
                details={"status": p.status, "error_code": p.error_code, "answered_by": p.answered_by},
                page_id=p.id,
                created_at=p.created_at,
                updated_at=p.updated_at,
            )
        )
    for m in conn.execute(sa.select(outbox)):
        if m.sid in paged:  # already mirrored from its page
            continue
        conn.execute(
            message.insert().values(
                kind="message",
                channel="voice" if m.kind == "call" else "sms",
                to_address=m.to_number,
                carrier="outbox",
                carrier_id=m.sid,
                state="sent",
                body=m.body or "",
                created_at=m.created_at,
                updated_at=m.created_at,
            )
        )


def downgrade() -> None:
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sid", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("to_number", sa.String(32), nullable=False),
        sa.Column("from_number", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    conn = op.get_bind()
    message = sa.table(
        "outgoing_message",
        sa.column("carrier", sa.String),
        sa.column("carrier_id", sa.String),
        sa.column("channel", sa.String),
        sa.column("to_address", sa.String),
        sa.column("body", sa.Text),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    rows = conn.execute(
        sa.select(message).where(
            message.c.carrier == "outbox", message.c.carrier_id.is_not(None), message.c.channel != "email"
        )
    ).all()
    seen: set[str] = set()
    outbox = sa.table(
        "outbox_message",
        sa.column("sid", sa.String),
        sa.column("kind", sa.String),
        sa.column("to_number", sa.String),
        sa.column("from_number", sa.String),
        sa.column("body", sa.Text),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    for r in rows:
        if r.carrier_id in seen:
            continue
        seen.add(r.carrier_id)
        conn.execute(
            outbox.insert().values(
                sid=r.carrier_id,
                kind="call" if r.channel == "voice" else "sms",
                to_number=r.to_address[:32],
                from_number="",
                body=r.body,
                created_at=r.created_at,
            )
        )
    op.drop_table("carrier_health")
    op.drop_table("outgoing_message")
    conn.execute(sa.text("DELETE FROM page WHERE channel = 'email'"))
    with op.batch_alter_table("page") as batch:
        batch.alter_column("to_number", type_=sa.String(20), existing_type=sa.String(254))
    op.drop_column("person", "email")

"""Every table of astreinte, as SQLAlchemy 2.0 typed models, and the session they live in.

Times are stored as timezone-aware UTC; local time (Europe/Paris) exists only at the edges.
"""

from __future__ import annotations

import enum
import os
import select
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, cast

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    Executable,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
    false,
)
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    mapped_column,
    relationship,
    scoped_session,
    sessionmaker,
)

import clock


class UTCDateTime(TypeDecorator[datetime]):
    """A DateTime that always comes back aware in UTC, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store aware instants only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else clock.as_utc(value)


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as their values (short strings), checked by the application, not a native DB enum:
    # adding a member needs no migration.
    return Enum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=24,
        values_callable=lambda e: [m.value for m in e],
    )


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


# --- organisation -------------------------------------------------------------------------------


class Organisation(Base):
    """The loaded organisation file: one row. `config` is the validated, normalised document."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    support_number: Mapped[str] = mapped_column(String(20))
    config: Mapped[dict[str, Any]]
    checksum: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime]


class Person(Base):
    """A technician or a manager who can be paged."""

    __tablename__ = "person"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254))  # where a page goes when no phone carrier can
    language: Mapped[str] = mapped_column(String(5), default="fr")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name else "?"


# --- clients and tickets ------------------------------------------------------------------------


class Client(Base):
    __tablename__ = "client"

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    site: Mapped[str | None] = mapped_column(String(300))
    pin_hash: Mapped[str] = mapped_column(String(200))
    astreinte: Mapped[bool] = mapped_column(Boolean, default=False)

    contacts: Mapped[list[Contact]] = relationship(back_populates="client", cascade="all, delete-orphan")
    services: Mapped[list[Service]] = relationship(back_populates="client", cascade="all, delete-orphan")
    tickets: Mapped[list[Ticket]] = relationship(back_populates="client")


class Contact(Base):
    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(200))

    client: Mapped[Client] = relationship(back_populates="contacts")


class Service(Base):
    """A contracted service (an SDSL link, a VoIP line…), covered by the astreinte or not."""

    __tablename__ = "service"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    ref: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    astreinte: Mapped[bool] = mapped_column(Boolean, default=False)

    client: Mapped[Client] = relationship(back_populates="services")


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLIENT_STANDBY = "client_standby"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        return self not in (TicketStatus.RESOLVED, TicketStatus.CLOSED)


class Ticket(Base):
    """A requête. The SLA clocks run from `opened_at`, paused while the client is on standby."""

    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(12), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"), index=True)
    priority: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[TicketStatus] = mapped_column(_enum(TicketStatus), default=TicketStatus.OPEN)
    opened_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
    taken_over_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    standby_since: Mapped[datetime | None]
    standby_seconds: Mapped[int] = mapped_column(Integer, default=0)
    # 001: "pour tous les incidents majeurs, une escalade sera répercutée immédiatement"
    major_incident: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    client: Mapped[Client] = relationship(back_populates="tickets")
    service: Mapped[Service | None] = relationship()
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.at, TicketEvent.id", cascade="all, delete-orphan"
    )


class TicketEvent(Base):
    """One line of a ticket's timeline: a call, a voicemail, a page, a takeover, a status change…"""

    __tablename__ = "ticket_event"
    __table_args__ = (Index("ix_ticket_event_ticket_at", "ticket_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=clock.now)
    kind: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str | None] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


# --- calls and voicemails -----------------------------------------------------------------------


class CallOutcome(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    FORWARDED = "forwarded"  # business hours, the desk answered
    DESK_MESSAGE = "desk_message"  # business hours, nobody answered, a message for the desk
    VOICEMAIL = "voicemail"  # after hours, a message on an eligible ticket
    REFUSED = "refused"  # after hours, refused: `reason` says why
    ABANDONED = "abandoned"  # hung up before the end: `reason` names the step
    CONNECTED = "connected"  # after hours, put through to the technician on call, who accepted


class RefusalReason(enum.StrEnum):
    UNKNOWN_TICKET = "unknown_ticket"
    TICKET_CLOSED = "ticket_closed"
    BAD_PIN = "bad_pin"
    LOCKED = "locked"
    NO_ASTREINTE_OPTION = "no_astreinte_option"
    SERVICE_NOT_COVERED = "service_not_covered"
    PRIORITY_WAITS = "priority_waits"
    NO_INPUT = "no_input"
    NO_CALLBACK_NUMBER = "no_callback_number"


class Call(Base):
    """One inbound call to the support number (page calls to technicians are `Page`s)."""

    __tablename__ = "call"
    __table_args__ = (
        Index("ix_call_started_id", "started_at", "id"),
        Index("ix_call_outcome_started", "outcome", "started_at"),
        Index("ix_call_reason_started", "reason", "started_at"),  # call log: refused calls by reason
        Index("ix_call_entered_started", "entered_ticket", "started_at"),  # call log: an unknown number keyed
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_number: Mapped[str] = mapped_column(String(32), index=True)
    to_number: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(default=clock.now)
    ended_at: Mapped[datetime | None]
    duration: Mapped[int | None] = mapped_column(Integer)  # seconds, from Twilio's CallDuration
    status: Mapped[str] = mapped_column(String(20), default="in-progress")  # Twilio's CallStatus
    after_hours: Mapped[bool] = mapped_column(Boolean, default=True)
    outcome: Mapped[CallOutcome] = mapped_column(_enum(CallOutcome), default=CallOutcome.IN_PROGRESS)
    reason: Mapped[str | None] = mapped_column(String(40))  # RefusalReason, or the abandoned step
    step: Mapped[str] = mapped_column(String(30), default="start")  # where the caller is in the IVR
    language: Mapped[str] = mapped_column(String(5), default="fr")
    tries: Mapped[int] = mapped_column(Integer, default=0)  # failed tries at the current step
    entered_ticket: Mapped[str | None] = mapped_column(String(20))  # digits keyed, before checking
    callback_number: Mapped[str | None] = mapped_column(String(20))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"), index=True)
    state: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # IVR scratch: entries awaiting a confirmation
    # No longer written: the receipt is an outgoing message sent once (oncall/retries.py). Kept until a
    # migration drops it.
    receipt_claimed_at: Mapped[datetime | None]

    ticket: Mapped[Ticket | None] = relationship()
    client: Mapped[Client | None] = relationship()
    voicemail: Mapped[Voicemail | None] = relationship(back_populates="call", uselist=False)


class VoicemailKind(enum.StrEnum):
    ASTREINTE = "astreinte"  # after hours, opens a callout
    DESK = "desk"  # business hours, the desk did not answer: kept for the desk, pages nobody


class Voicemail(Base):
    __tablename__ = "voicemail"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id"), unique=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    kind: Mapped[VoicemailKind] = mapped_column(_enum(VoicemailKind), default=VoicemailKind.ASTREINTE)
    recording_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    recording_url: Mapped[str | None] = mapped_column(String(500))  # never logged, never sent to a browser
    duration: Mapped[int | None] = mapped_column(Integer)
    recording_status: Mapped[str | None] = mapped_column(String(20))
    callback_number: Mapped[str | None] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(default=clock.now)
    purged_at: Mapped[datetime | None]  # RGPD retention: the media is gone, the row stays

    call: Mapped[Call] = relationship(back_populates="voicemail")
    ticket: Mapped[Ticket | None] = relationship()


class PinLock(Base):
    """Failed PIN attempts per key (`client:C1001`, `number:+33611223344`), and the lock they set."""

    __tablename__ = "pin_lock"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]


# --- callouts and pages -------------------------------------------------------------------------


class CalloutState(enum.StrEnum):
    PAGING = "paging"
    TAKEN_OVER = "taken_over"
    CANCELLED = "cancelled"


class Channel(enum.StrEnum):
    SMS = "sms"
    VOICE = "voice"
    WEB = "web"
    EMAIL = "email"
    LIVE = "live"  # the technician accepted the caller put through to them (live connect)


class Callout(Base):
    """The promise that someone takes over a voicemail within the takeover delay."""

    __tablename__ = "callout"
    __table_args__ = (Index("ix_callout_state_next", "state", "next_action_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    # None for a callout the ticket opened itself (`origin`: page_on_open, major_incident, breach)
    voicemail_id: Mapped[int | None] = mapped_column(ForeignKey("voicemail.id"), unique=True)
    origin: Mapped[str] = mapped_column(String(20), default="voicemail", server_default="voicemail")
    state: Mapped[CalloutState] = mapped_column(_enum(CalloutState), default=CalloutState.PAGING)
    opened_at: Mapped[datetime] = mapped_column(default=clock.now)
    due_at: Mapped[datetime]
    next_step: Mapped[int] = mapped_column(Integer, default=0)  # index in the policy
    next_action_at: Mapped[datetime | None]  # when the scheduler must run next_step; None when done
    taken_over_at: Mapped[datetime | None]
    taken_over_by: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    taken_over_via: Mapped[Channel | None] = mapped_column(_enum(Channel))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    breached_at: Mapped[datetime | None]  # when the sweeper saw due_at pass with nobody (timeline, metrics)

    ticket: Mapped[Ticket] = relationship()
    voicemail: Mapped[Voicemail | None] = relationship()
    taker: Mapped[Person | None] = relationship()
    pages: Mapped[list[Page]] = relationship(back_populates="callout", order_by="Page.created_at, Page.id")

    @property
    def callback_number(self) -> str | None:
        """The number to call back: the caller's when a message opened the callout, else the client's
        first contact with a phone (a ticket that paged without a call)."""
        if self.voicemail is None:
            return next((c.phone for c in self.ticket.client.contacts if c.phone), None)
        return self.voicemail.callback_number or self.voicemail.call.callback_number

    @property
    def breached(self) -> bool:
        """True when the takeover came after `due_at`, or `due_at` passed with nobody."""
        if self.taken_over_at is not None:
            return self.taken_over_at > self.due_at
        if self.state is CalloutState.CANCELLED:  # stopped by the desk: breached if that came too late
            return self.cancelled_at is not None and clock.as_utc(self.cancelled_at) > clock.as_utc(
                self.due_at
            )
        return clock.now() > self.due_at


class Page(Base):
    """One attempt to reach one person on one channel: an SMS or an outbound call."""

    __tablename__ = "page"

    id: Mapped[int] = mapped_column(primary_key=True)
    callout_id: Mapped[int] = mapped_column(ForeignKey("callout.id"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    step: Mapped[int] = mapped_column(Integer, default=0)  # the policy step that sent it
    to_number: Mapped[str] = mapped_column(String(254))  # a number, or an e-mail address
    # The carrier's word, or the page's own (pending, sending, cancelled: `MessageState` values; and
    # the two below); read through `oncall.outbox.state_of`, never compared to a carrier's word in oncall/.
    status: Mapped[str] = mapped_column(String(24), default="queued")
    DECLINED: ClassVar[str] = "declined"  # the technician pressed 9: the next step runs now
    FAILED: ClassVar[str] = "failed"  # every carrier refused it for good
    twilio_sid: Mapped[str | None] = mapped_column(String(64), index=True)  # bundled pages share one
    error_code: Mapped[str | None] = mapped_column(String(10))
    answered_by: Mapped[str | None] = mapped_column(String(24))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
    sent_at: Mapped[datetime | None]  # when it left for Twilio (pending pages wait: throttle, retry)
    retry_at: Mapped[datetime | None]  # a pending page is delivered at this instant (the sweeper checks)

    callout: Mapped[Callout] = relationship(back_populates="pages")
    person: Mapped[Person] = relationship()


class InboundSms(Base):
    """Every SMS received on the support number, known sender or not."""

    __tablename__ = "inbound_sms"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_number: Mapped[str] = mapped_column(String(32), index=True)
    body: Mapped[str] = mapped_column(Text, default="")
    person_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    received_at: Mapped[datetime] = mapped_column(default=clock.now)
    outcome: Mapped[str | None] = mapped_column(String(40))


class MessageState(enum.StrEnum):
    """What became of one outgoing message, whatever its kind and carrier."""

    PENDING = "pending"  # waiting for its time (throttle, back-off)
    SENDING = "sending"  # claimed, the request to the carrier under way
    SENT = "sent"  # the carrier accepted it
    DELIVERED = "delivered"  # the carrier says it reached the phone (or the call was answered)
    FAILED_TEMPORARY = "failed_temporary"  # the carrier failed; another attempt may succeed
    FAILED_PERMANENT = "failed_permanent"  # never will (a bad number, undelivered, nobody answered)
    BUNDLED = "bundled"  # carried by another message (several callouts, one SMS)
    MAYBE_SENT = "maybe_sent"  # no answer in time: the carrier may hold it, looked up before any resend
    CANCELLED = "cancelled"  # no longer worth sending (taken over meanwhile)


class OutgoingMessage(Base):
    """Everything astreinte sends to anyone, one row per attempt: pages (mirrored from `page`, which
    keeps the callout's bookkeeping), the caller's SMS, supervisors' alerts, page tests and e-mails.
    `carrier` names the adapter that took it (`outbox` when nothing leaves the machine), `carrier_id`
    its id there, `details` the carrier's own words (its status, error code, who answered)."""

    __tablename__ = "outgoing_message"
    __table_args__ = (Index("ix_outgoing_message_carrier_state", "carrier", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))  # page, receipt, taken_over, alert, page_test…
    person_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"), index=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    to_address: Mapped[str] = mapped_column(String(254), index=True)  # E.164 number or e-mail address
    carrier: Mapped[str | None] = mapped_column(String(24))
    carrier_id: Mapped[str | None] = mapped_column(String(64), index=True)
    state: Mapped[MessageState] = mapped_column(_enum(MessageState), default=MessageState.PENDING)
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")  # the text; for a call, the address of what it says
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("page.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class CarrierHealth(Base):
    """A carrier's recent failures, shared by every process: after repeated failures it is set aside
    (`set_aside_at`) and only probed, once a minute at most, until a probe succeeds."""

    __tablename__ = "carrier_health"

    carrier: Mapped[str] = mapped_column(String(24), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in a row
    failing_since: Mapped[datetime | None]  # the first of them
    last_error: Mapped[str | None] = mapped_column(String(200))
    set_aside_at: Mapped[datetime | None]
    probe_at: Mapped[datetime | None]  # the next probe is due then (claimed by a conditional UPDATE)
    told_at: Mapped[datetime | None]  # the supervisor was told of this outage
    back_at: Mapped[datetime | None]


# --- agents -------------------------------------------------------------------------------------


class Role(enum.StrEnum):
    AGENT = "agent"
    ADMIN = "admin"


class User(Base):
    """A daytime agent or administrator of the dashboard."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.AGENT)
    language: Mapped[str] = mapped_column(String(5), default="fr")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    disabled_at: Mapped[datetime | None]  # set: cannot log in, and its open sessions end
    # Moved at each logout: a session cookie carries the epoch it was made in (copies end too).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_used_at: Mapped[datetime | None]


# --- the rota, changed at the desk ---------------------------------------------------------------


class RotaChangeKind(enum.StrEnum):
    COVER = "cover"  # someone covers a position for a while
    SWAP = "swap"  # two people swap their on-call weeks


class RotaChange(Base):
    """One change of the rota made in the dashboard, with its reason: its overrides apply until undone
    (undone, never deleted: the rota's timeline keeps it)."""

    __tablename__ = "rota_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RotaChangeKind] = mapped_column(_enum(RotaChangeKind))
    reason: Mapped[str] = mapped_column(Text)
    made_by: Mapped[str] = mapped_column(String(80))
    made_at: Mapped[datetime] = mapped_column(default=clock.now)
    undone_at: Mapped[datetime | None]
    undone_by: Mapped[str | None] = mapped_column(String(80))
    overrides: Mapped[list[RotaOverride]] = relationship(
        back_populates="change", order_by="RotaOverride.starts_at", cascade="all, delete-orphan"
    )


class RotaOverride(Base):
    """Who holds a position from `starts_at` to `ends_at`, as a desk change says."""

    __tablename__ = "rota_override"
    __table_args__ = (Index("ix_rota_override_ends_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("rota_change.id"), index=True)
    position: Mapped[str] = mapped_column(String(10))
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    change: Mapped[RotaChange] = relationship(back_populates="overrides")


class RotaEvent(Base):
    """The rota's timeline: each change and each undo, who made it and why (`data` tells it all)."""

    __tablename__ = "rota_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    kind: Mapped[str] = mapped_column(String(24))  # cover, swap, undo
    actor: Mapped[str] = mapped_column(String(80))
    change_id: Mapped[int] = mapped_column(ForeignKey("rota_change.id"))
    data: Mapped[dict[str, Any]]


class RotaAlert(Base):
    """A coming gap in the rota the supervisor was told about by SMS: one row per gap, so once."""

    __tablename__ = "rota_alert"
    __table_args__ = (UniqueConstraint("position", "gap_starts_at", name="uq_rota_alert_gap"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[str] = mapped_column(String(10))
    gap_starts_at: Mapped[datetime]
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"))
    sent_at: Mapped[datetime] = mapped_column(default=clock.now)


class CalendarFeed(Base):
    """A secret calendar address: one person's shifts, or the whole team's (no person). Only its hash is
    kept; renewing revokes the previous one."""

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    revoked_at: Mapped[datetime | None]
    last_read_at: Mapped[datetime | None]


class PageTest(Base):
    """A test of one person's page: a test SMS and a test call through the whole path (the carrier,
    the phone, the call's key), asked for by an operator or run every evening before the night
    (`astreinte.self_test`). The carrier's statuses are kept as they came; `outcome` is the verdict."""

    __tablename__ = "page_test"
    # One evening test per person and night; tests asked for by hand have no night.
    __table_args__ = (UniqueConstraint("person_id", "night", name="uq_page_test_night"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    origin: Mapped[str] = mapped_column(String(16))  # command, evening, dashboard
    requested_by: Mapped[str | None] = mapped_column(String(80))
    night: Mapped[str | None] = mapped_column(String(10))  # the local date of an evening test
    to_number: Mapped[str] = mapped_column(String(20))
    channels: Mapped[str] = mapped_column(String(16))  # "sms voice", "sms", "voice"
    sms_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    sms_status: Mapped[str | None] = mapped_column(String(24))
    sms_error: Mapped[str | None] = mapped_column(String(10))
    call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    call_status: Mapped[str | None] = mapped_column(String(24))
    call_error: Mapped[str | None] = mapped_column(String(10))
    answered_by: Mapped[str | None] = mapped_column(String(24))
    confirmed_at: Mapped[datetime | None]  # the person pressed 1 in the test call
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))  # ok, unconfirmed, failed, not-sent
    warned_at: Mapped[datetime | None]  # no longer written: the supervisor's SMS is an outgoing message

    person: Mapped[Person] = relationship()


# --- the session --------------------------------------------------------------------------------

session = scoped_session(sessionmaker(expire_on_commit=False))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=5000")
    # WAL with synchronous=NORMAL: still atomic and consistent, and safe when the process dies; only
    # a power loss can roll back the last commits. FULL costs an fsync (~5 ms) on every commit, under
    # the single writer lock: 180 webhook answers a second at most. PostgreSQL for more than that.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


POOL_RECYCLE_SECONDS = 300  # a pooled connection is replaced after 5 minutes, before anything idles it out
POOL_SIZE = 5  # connections a process keeps; a web process gets one per thread plus one (wsgi.py)
POOL_OVERFLOW = 5  # more, briefly, when they are all busy (closed on return: kept for bursts only)


def make_engine(url: str, pool_size: int = POOL_SIZE) -> Engine:
    """PostgreSQL without a ping per checkout (a round trip on every request of a caller): a pooled
    connection is checked for free instead, by looking whether the server closed its socket (a restart,
    pg_terminate_backend, an idle timeout all do); one that dies after that check fails its first
    statement, which the session runs again once on a fresh connection (`_retry_on_dead_connection`).
    A disconnect also invalidates the other pooled connections of the process. Connections are recycled
    before a server or a firewall drops them. SQLite files do not disconnect: no check."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, pool_recycle=POOL_RECYCLE_SECONDS)
        _private_sqlite_file(engine.url.database)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(
        url,
        pool_pre_ping=False,
        pool_recycle=POOL_RECYCLE_SECONDS,
        pool_size=pool_size,
        max_overflow=POOL_OVERFLOW,
        pool_use_lifo=True,  # the busiest connections stay warm (prepared statements); spares idle out
        connect_args={"application_name": "astreinte"},
    )
    if engine.dialect.name == "postgresql":
        event.listen(engine, "checkout", _closed_by_server)
        if not event.contains(session, "do_orm_execute", _retry_on_dead_connection):
            # only where connections die: any listener costs every statement a second ORM pre-pass
            event.listen(session, "do_orm_execute", _retry_on_dead_connection)
    return engine


def _private_sqlite_file(database: str | None) -> None:
    """The SQLite file holds calls, numbers and PIN hashes: 0600 from its first byte (SQLite gives its
    -wal and -shm files the database file's mode), and an older file's group or other bits taken away."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError:
        return  # SQLite says what is wrong with the path when it connects
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)
        except OSError:
            pass


def _closed_by_server(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """An idle connection has nothing to read unless the server closed it (or is about to: a FATAL
    before the close): then the pool drops it and checks out another (DisconnectionError). One poll
    of the socket, no round trip; an idle connection we never LISTEN on has nothing else to say."""
    try:
        poll = select.poll()
        poll.register(dbapi_conn.fileno(), select.POLLIN)
        readable = poll.poll(0)
    except (OSError, ValueError) as exc:  # closed on our side already
        raise DisconnectionError(str(exc)) from exc
    if readable:
        raise DisconnectionError("the server closed the connection, or is closing it")


def _retry_on_dead_connection(state: ORMExecuteState) -> Result[Any] | None:
    """The first statement of a transaction, on a connection the server closed since its check: run it
    again once, on a fresh connection. Nothing of the transaction was sent yet, so nothing is lost or
    done twice; a connection lost later in a transaction fails it, as it must."""
    s = state.session
    if s.in_transaction() or s.new or s.dirty or s.deleted:
        return None
    try:
        return state.invoke_statement()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        s.rollback()
        return state.invoke_statement()


def bind(engine: Engine) -> None:
    session.remove()
    session.configure(bind=engine)


def changed(statement: Executable) -> int:
    """Rows a conditional UPDATE changed: 1 means this process won the claim."""
    return cast(CursorResult[Any], session.execute(statement)).rowcount

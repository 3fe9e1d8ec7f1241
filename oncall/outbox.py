"""The outbox: the one door through which astreinte sends anything to anyone. Each attempt is an
`outgoing_message` row with one state; the carriers of the message's channel are tried in turn,
skipping those set aside, so a carrier failing sends the message through the next one (failover).

What a carrier says later (a status callback, a look-up) moves the row through `note`, in domain words
(`state_of` maps the carrier's status words to a `MessageState`).

Every message but a page is sent once and tried again the same way: oncall/retries.py.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

import clock
from models import Channel, MessageState, OutgoingMessage, Page, session
from oncall import carriers, policy
from oncall.carriers import Outgoing, SendError, Sent
from words.carriers import carrier_named
from words.catalogue import text

log = logging.getLogger(__name__)

# A carrier's status words (Twilio's, ours) as message states; an unknown word is "sent".
_STATES = {
    "pending": MessageState.PENDING,
    "sending": MessageState.SENDING,
    "outbox": MessageState.SENT,
    "accepted": MessageState.SENT,
    "queued": MessageState.SENT,
    "scheduled": MessageState.SENT,
    "initiated": MessageState.SENT,
    "ringing": MessageState.SENT,
    "sent": MessageState.SENT,
    "in-progress": MessageState.DELIVERED,
    "answered": MessageState.DELIVERED,
    "completed": MessageState.DELIVERED,
    "delivered": MessageState.DELIVERED,
    "read": MessageState.DELIVERED,
    "failed": MessageState.FAILED_PERMANENT,
    "undelivered": MessageState.FAILED_PERMANENT,
    "busy": MessageState.FAILED_PERMANENT,
    "no-answer": MessageState.FAILED_PERMANENT,
    "machine": MessageState.FAILED_PERMANENT,
    "declined": MessageState.FAILED_PERMANENT,
    "canceled": MessageState.CANCELLED,  # Twilio's spelling
    "cancelled": MessageState.CANCELLED,
}
# Nobody was reached: the states a failure is told from.
NOT_REACHED = {MessageState.FAILED_PERMANENT, MessageState.CANCELLED}
# The carrier's words for a message it could not deliver (a person not answering is not among them).
UNDELIVERED = {"undelivered", "failed"}
UNDER_WAY = {"queued", "initiated", "ringing"}  # a call not answered yet (nor failed)
MACHINE = "machine"  # a call an answering machine picked up (the telephony edge's word for it)
RECENTLY = timedelta(minutes=15)  # a carrier that could not deliver to an address is tried last meanwhile


def state_of(status: str | None) -> MessageState:
    """A carrier's status word as a message state."""
    return _STATES.get((status or "").lower(), MessageState.SENT)


def send(
    kind: str,
    message: Outgoing,
    person_id: str | None = None,
    pages: Sequence[Page] = (),
    only: str | None = None,
    first: OutgoingMessage | None = None,
    facts: dict[str, Any] | None = None,
) -> Sent:
    """Send `message` through the first carrier of its channel that takes it (or through the carrier
    named `only`: a test of that carrier); one row per carrier tried. Pages carried together (a bundle)
    get one row each: the lead `sent`, the others `bundled`. SendError when none took it (temporary
    when any failure was; maybe-sent when one may hold it). `first`: the row of the first carrier tried
    (written beforehand, `once`); `facts`: kept in each row's details (its topic, its round)."""
    tried = [c for c in carriers.for_channel(message.channel) if only is None or c.name == only]
    failed_here = _undelivered_by(message.to)
    tried.sort(key=lambda c: c.name in failed_here)  # stable: the others first, in their order
    if not tried:
        raise SendError(f"no carrier for {message.channel.value}", None, temporary=False)
    errors: list[SendError] = []
    lead = pages[0].id if pages else None
    facts = {**(facts or {}), **call_facts(message)}
    for carrier in tried:
        now = clock.now()
        row = first or sending_row(kind, message, person_id, page_id=lead)
        first = None
        row.carrier = carrier.name
        session.add(row)
        if not carriers.usable(carrier.name, now):  # set aside, and not its turn to be probed
            errors.append(SendError(f"{carrier.name} set aside", None, temporary=True))
            row.state, row.details = MessageState.FAILED_TEMPORARY, {**facts, "error": "set aside"}
            continue
        session.flush()
        try:
            sent = carrier.send(message)
        except SendError as exc:
            errors.append(exc)
            row.state = MessageState.MAYBE_SENT if exc.maybe_sent else _failed(exc)
            row.details = {**facts, "error": str(exc)[:200], "code": exc.code}
            if exc.carrier_fault and carriers.fault(carrier.name, exc, now):
                _tell_supervisor(carrier.name, exc)
            log.warning(
                "%s %s to %s through %s failed: %s", kind, message.channel, message.to, carrier.name, exc
            )
            if not exc.carrier_fault:
                break  # the recipient's fault (a bad number): another carrier would fail the same
            continue
        carriers.succeeded(carrier.name, now)
        row.carrier_id, row.state = sent.sid, state_of(sent.status)
        row.details = {**facts, "status": sent.status}
        if sent.body and not message.body:
            row.body = sent.body
        for page in pages[1:]:
            session.add(
                OutgoingMessage(
                    kind=kind,
                    person_id=person_id,
                    channel=message.channel,
                    to_address=message.to,
                    carrier=carrier.name,
                    carrier_id=sent.sid,
                    state=MessageState.BUNDLED,
                    page_id=page.id,
                    details={"with": lead},
                )
            )
        session.flush()
        return sent
    maybe = next((e for e in errors if e.maybe_sent), None)
    if maybe is not None:
        raise maybe
    raise SendError(
        "; ".join(str(e) for e in errors),
        next((e.code for e in reversed(errors) if e.code), None),
        temporary=any(e.temporary for e in errors),
    )


def sending_row(
    kind: str, message: Outgoing, person_id: str | None, page_id: int | None = None
) -> OutgoingMessage:
    """The row of one attempt at `message`, `sending` until its carrier answers."""
    return OutgoingMessage(
        kind=kind,
        person_id=person_id,
        channel=message.channel,
        to_address=message.to,
        state=MessageState.SENDING,
        subject=message.subject or None,
        body=message.body,
        page_id=page_id,
    )


def call_facts(message: Outgoing) -> dict[str, Any]:
    """What a call is about, kept so that it can be placed again."""
    return {"about": message.about, "ids": dict(message.ids)} if message.about else {}


def _undelivered_by(address: str) -> set[str]:
    """The carriers that reported a message to `address` undelivered lately."""
    rows = session.scalars(
        select(OutgoingMessage).where(
            OutgoingMessage.to_address == address,
            OutgoingMessage.state == MessageState.FAILED_PERMANENT,
            OutgoingMessage.updated_at >= clock.now() - RECENTLY,
            OutgoingMessage.carrier_id.is_not(None),
        )
    )
    return {r.carrier for r in rows if r.carrier and (r.details or {}).get("status") in UNDELIVERED}


def _failed(exc: SendError) -> MessageState:
    return MessageState.FAILED_TEMPORARY if exc.temporary else MessageState.FAILED_PERMANENT


def look_up(message: Outgoing, since: Any, until: Any) -> list[Sent]:
    """What the carriers of the channel hold for `message`'s address between `since` and `until`
    (an attempt whose answer never came). SendError when a carrier cannot be asked."""
    found: list[Sent] = []
    for carrier in carriers.for_channel(message.channel):
        found += carrier.look_up(message, since, until)
    return found


def note(carrier_id: str, status: str, details: dict[str, Any] | None = None) -> None:
    """A later status of the message `carrier_id` (a callback, a look-up), in the carrier's words."""
    state = state_of(status)
    values: dict[str, Any] = {"state": state, "updated_at": clock.now()}
    session.execute(
        update(OutgoingMessage)
        .where(OutgoingMessage.carrier_id == carrier_id, OutgoingMessage.state != MessageState.BUNDLED)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    for row in session.scalars(select(OutgoingMessage).where(OutgoingMessage.carrier_id == carrier_id)):
        row.details = {**(row.details or {}), **(details or {}), "status": status}


def found(pages: Sequence[Page], sent: Sent) -> None:
    """An attempt whose answer never came was found at the carrier: its rows say so."""
    rows = session.scalars(
        select(OutgoingMessage).where(
            OutgoingMessage.page_id.in_([p.id for p in pages]),
            OutgoingMessage.state == MessageState.MAYBE_SENT,
        )
    )
    for row in rows:
        row.state, row.carrier_id = state_of(sent.status), sent.sid
        row.details = {**(row.details or {}), "status": sent.status, "found": True}


def cancelled(pages: Sequence[Page]) -> None:
    """Pages no longer worth sending (their callout was taken over or cancelled meanwhile)."""
    for page in pages:
        session.add(
            OutgoingMessage(
                kind="page",
                person_id=page.person_id,
                channel=page.channel,
                to_address=page.to_number,
                state=MessageState.CANCELLED,
                page_id=page.id,
            )
        )


class EmailThroughOutbox:
    """The client notices' e-mail hook (`client_notices.EMAIL_SENDER`), plugged into the outbox when an
    e-mail carrier is registered: each notice is an outgoing message like any other."""

    def send_email(self, to: str, subject: str, body: str) -> str:
        return send("client_notice", Outgoing(Channel.EMAIL, to, body, subject)).sid


def latest(limit: int = 20, person_id: str | None = None) -> list[OutgoingMessage]:
    """The last messages, newest first (`astreinte outbox`), to one person or to anyone."""
    query = select(OutgoingMessage)
    if person_id is not None:
        query = query.where(OutgoingMessage.person_id == person_id)
    return list(
        session.scalars(
            query.order_by(OutgoingMessage.created_at.desc(), OutgoingMessage.id.desc()).limit(limit)
        )
    )


# --- telling the supervisor ---------------------------------------------------------------------


def _tell_supervisor(name: str, error: SendError) -> None:
    """Once per outage, the supervisor learns that a carrier is set aside, by whatever works: each
    channel in turn (the carrier set aside is skipped)."""
    if not carriers.claim_telling(name):
        return
    supervisor = policy.supervisor_to_tell()
    if supervisor is None:
        return
    carrier = carrier_named(name)
    body = text("outbox.carrier_down", supervisor.language, carrier=carrier, error=str(error)[:80])
    subject = text("outbox.carrier_down_subject", supervisor.language, carrier=carrier)
    for channel, to in ((Channel.SMS, supervisor.phone), (Channel.EMAIL, supervisor.email)):
        if not to or not carriers.channel_served(channel):
            continue
        try:
            send("carrier_down", Outgoing(channel, to, body, subject), supervisor.id)
        except SendError as exc:
            log.warning("the supervisor could not be told by %s that %s is set aside: %s", channel, name, exc)
            continue
        return
    carriers.untold(name)

"""The outbox: the one door through which astreinte sends anything to anyone. Each attempt is an
`outgoing_message` row with one state; the carriers of the message's channel are tried in turn,
skipping those set aside, so a carrier failing sends the message through the next one (failover).

What a carrier says later (a status callback, a look-up) moves the row through `note`, in domain words
(`state_of` maps the carrier's status words to a `MessageState`).

Every message but a page (pages keep their callout's bookkeeping) is sent once for what it is about
(`once`, a topic such as `receipt:12`), and its rows alone say what became of it: sent, to be tried
again (a temporary failure: `retry_at` in its details, the back-off of `RETRY_AFTER`) or failed for good.
`retry_due`, run by the sweeper, tries again every message whose time has come, whatever its kind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

import clock
from models import Channel, MessageState, OutgoingMessage, Page, changed, session
from oncall import carriers, policy
from oncall.carriers import Outgoing, SendError, Sent
from org.load import NoOrganisation, current_org
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
    facts = {**(facts or {}), **_call_facts(message)}
    for carrier in tried:
        now = clock.now()
        row = first or OutgoingMessage(
            kind=kind,
            person_id=person_id,
            channel=message.channel,
            to_address=message.to,
            state=MessageState.SENDING,
            subject=message.subject or None,
            body=message.body,
            page_id=lead,
        )
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


def _call_facts(message: Outgoing) -> dict[str, Any]:
    """What a call is about, kept so that it can be placed again."""
    return {"about": message.about, "ids": dict(message.ids)} if message.about else {}


# --- sent once, tried again -----------------------------------------------------------------------

# The wait before each new round of a message that failed temporarily (every carrier of its channel
# tried): short first, a carrier's hiccup; then longer, an outage. After the last, failed for good.
RETRY_AFTER = (
    timedelta(seconds=30),
    timedelta(minutes=1),
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=10),
)
LEASE = timedelta(minutes=2)  # far beyond a request's time-out: a round older than this was abandoned
WINDOW = timedelta(hours=2)  # the back-off ends well within it
_WHEN = "%Y-%m-%dT%H:%M:%S.%fZ"  # one fixed form, so that the database compares them as text

# What the room that asked for a message does when its fate is settled (sent, or failed for good), by
# kind: a page test writes the carrier's id and status on the test, the timeline says the caller was told.
SETTLED: dict[str, Callable[[OutgoingMessage], None]] = {}


def when_settled(
    kind: str,
) -> Callable[[Callable[[OutgoingMessage], None]], Callable[[OutgoingMessage], None]]:
    """Register what to do once a message of `kind` is sent or has failed for good."""

    def register(fn: Callable[[OutgoingMessage], None]) -> Callable[[OutgoingMessage], None]:
        SETTLED[kind] = fn
        return fn

    return register


def _stamp(at: datetime) -> str:
    return clock.as_utc(at).strftime(_WHEN)


def rows_about(topic: str, kind: str | None = None) -> list[OutgoingMessage]:
    """Every attempt of the message about `topic`, oldest first."""
    query = select(OutgoingMessage).where(OutgoingMessage.details["topic"].as_string() == topic)
    if kind is not None:
        query = query.where(OutgoingMessage.kind == kind)
    return list(session.scalars(query.order_by(OutgoingMessage.id)))


def fate(topic: str, kind: str | None = None) -> OutgoingMessage | None:
    """The latest attempt of the message about `topic`: what became of it (None: never asked for)."""
    rows = rows_about(topic, kind)
    return rows[-1] if rows else None


def retrying(row: OutgoingMessage) -> bool:
    """The message will be tried again (a temporary failure, its back-off running)."""
    return bool((row.details or {}).get("retry_at"))


def once(
    kind: str,
    message: Outgoing,
    topic: str,
    person_id: str | None = None,
    only: str | None = None,
    **facts: Any,
) -> OutgoingMessage | None:
    """Send `message` once for `topic` (`receipt:12`): nothing when a message about it was already
    asked for, whatever became of it. Its first row is committed before the carrier is asked, so a
    second process sees it; a temporary failure is tried again by `retry_due`. `only`: through that
    carrier alone (a test of it). Returns the latest row."""
    if fate(topic, kind) is not None:
        return None
    if only is not None:
        facts["only"] = only
    row = OutgoingMessage(
        kind=kind,
        person_id=person_id,
        channel=message.channel,
        to_address=message.to,
        state=MessageState.SENDING,
        subject=message.subject or None,
        body=message.body,
        details={**facts, "topic": topic, "round": 1, **_call_facts(message)},
    )
    session.add(row)
    session.commit()
    return _round(kind, message, topic, person_id, row, facts, 1)


def _round(
    kind: str,
    message: Outgoing,
    topic: str,
    person_id: str | None,
    first: OutgoingMessage | None,
    facts: dict[str, Any],
    number: int,
) -> OutgoingMessage:
    """One round: every carrier of the channel tried (`send`); a temporary failure gets its next try."""
    keep = {**facts, "topic": topic, "round": number}
    try:
        send(kind, message, person_id, only=facts.get("only"), first=first, facts=keep)
    except SendError as exc:
        last = rows_about(topic, kind)[-1]
        details = dict(last.details or {})
        if (exc.temporary or exc.maybe_sent) and number <= len(RETRY_AFTER):
            details["retry_at"] = _stamp(clock.now() + RETRY_AFTER[number - 1])
            log.warning("%s %s failed (%s): tried again at %s", kind, topic, exc, details["retry_at"])
        else:
            last.state = MessageState.FAILED_PERMANENT
            details["given_up"] = True
            log.warning("%s %s failed for good: %s", kind, topic, exc)
        last.details = details
    last = rows_about(topic, kind)[-1]
    session.commit()
    if not retrying(last) and kind in SETTLED:
        SETTLED[kind](last)
        session.commit()
    return last


def message_of(row: OutgoingMessage) -> Outgoing:
    """The message a row carried, as a carrier sees it (to send it again)."""
    details = row.details or {}
    ids = details.get("ids") or {}
    return Outgoing(row.channel, row.to_address, row.body, row.subject or "", details.get("about"), ids)


def retry_due(now: datetime) -> int:
    """Try again every message whose back-off has passed (the sweeper), each claimed first so that two
    sweepers send it once; one that may have reached a carrier is looked up before. Returns how many."""
    _abandoned(now)
    candidates = session.scalars(
        select(OutgoingMessage).where(
            OutgoingMessage.state.in_((MessageState.FAILED_TEMPORARY, MessageState.MAYBE_SENT)),
            OutgoingMessage.created_at >= now - WINDOW,
            OutgoingMessage.details["retry_at"].as_string() <= _stamp(now),
        )
    ).all()
    tried = 0
    for row in candidates:
        details = dict(row.details or {})
        topic, due = details.get("topic"), details.get("retry_at")
        if not topic or not due:
            continue
        details["retry_at"] = _stamp(now + LEASE)  # a round that dies is tried again after its lease
        won = changed(
            update(OutgoingMessage)
            .where(OutgoingMessage.id == row.id, OutgoingMessage.details["retry_at"].as_string() == due)
            .values(details=details)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if not won:
            continue  # another sweeper has it
        session.refresh(row)
        message = message_of(row)
        if row.state is MessageState.MAYBE_SENT and _held(row, message):
            continue
        details = dict(row.details or {})
        details.pop("retry_at", None)
        row.details = {**details, "retried": True}
        number = int(details.get("round", 1)) + 1
        facts = {k: v for k, v in details.items() if k not in _OWN}
        _round(row.kind, message, topic, row.person_id, None, facts, number)
        tried += 1
    return tried


def _abandoned(now: datetime) -> None:
    """A round left under way longer than its lease (its worker died mid-request): the carrier may
    hold it, so it is looked up before being sent again."""
    stale = session.scalars(
        select(OutgoingMessage).where(
            OutgoingMessage.state == MessageState.SENDING,
            OutgoingMessage.kind != "page",
            OutgoingMessage.created_at >= now - WINDOW,
            OutgoingMessage.updated_at <= now - LEASE,
            OutgoingMessage.details["topic"].as_string().is_not(None),
        )
    ).all()
    for row in stale:
        row.state = MessageState.MAYBE_SENT
        row.details = {**(row.details or {}), "retry_at": _stamp(now)}
    session.commit()


_OWN = {"topic", "round", "retry_at", "retried", "error", "code", "status", "about", "ids", "given_up"}


def _held(row: OutgoingMessage, message: Outgoing) -> bool:
    """Whether a carrier holds the message an unanswered attempt may have left (then it is not sent
    again: its row says so). False when none does; True, keeping the lease, when none can be asked."""
    since = clock.as_utc(row.created_at) - timedelta(seconds=5)
    try:
        found = look_up(message, since, None)
    except SendError as exc:
        log.warning(
            "%s %s could not be looked up (%s): later", row.kind, (row.details or {}).get("topic"), exc
        )
        return True
    if message.channel is Channel.SMS:
        found = [m for m in found if message.body and message.body in m.body]
    known = set(
        session.scalars(
            select(OutgoingMessage.carrier_id).where(OutgoingMessage.to_address == row.to_address)
        )
    )
    found = [m for m in found if m.sid not in known]
    if not found:
        return False
    sent = found[0]
    details = dict(row.details or {})
    details.pop("retry_at", None)
    row.state, row.carrier_id = state_of(sent.status), sent.sid
    row.details = {**details, "status": sent.status, "found": True}
    session.commit()
    log.warning("%s had reached the carrier (%s): not sent again", row.kind, sent.sid)
    if row.kind in SETTLED:
        SETTLED[row.kind](row)
        session.commit()
    return True


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
    try:
        org = current_org()
    except NoOrganisation:
        return
    supervisor = policy.supervisor(org)
    if supervisor is None:
        return
    body = text("outbox.carrier_down", supervisor.language, carrier=name, error=str(error)[:80])
    for channel, to in ((Channel.SMS, supervisor.phone), (Channel.EMAIL, supervisor.email)):
        if not to or not carriers.channel_served(channel):
            continue
        subject = text("outbox.carrier_down_subject", supervisor.language, carrier=name)
        try:
            send("carrier_down", Outgoing(channel, to, body, subject), supervisor.id)
        except SendError as exc:
            log.warning("the supervisor could not be told by %s that %s is set aside: %s", channel, name, exc)
            continue
        return
    carriers.untold(name)

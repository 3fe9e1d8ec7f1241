"""Every message but a page, sent once and tried again one way (pages keep their callout's
bookkeeping: `page.retry_at`). A message is sent once for what it is about (`once`, a topic such as
`receipt:12`); its outgoing_message rows alone say what became of it: sent, to be tried again (a
temporary failure: `retry_at` in the latest row's details, the back-off of `RETRY_AFTER`), or failed for
good. `retry_due`, run by the sweeper, tries again every message whose time has come, whatever its kind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

import clock
from models import Channel, MessageState, OutgoingMessage, changed, session
from oncall import outbox
from oncall.carriers import Outgoing, SendError

log = logging.getLogger(__name__)

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
WHEN = "%Y-%m-%dT%H:%M:%S.%fZ"  # one fixed form, so that the database compares them as text

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
    return clock.as_utc(at).strftime(WHEN)


def rows_about(topic: str, kind: str | None = None, to: str | None = None) -> list[OutgoingMessage]:
    """Every attempt of the message about `topic`, oldest first (`to`, its address, narrows the search
    to that address's rows: an index, where the topic is in the details)."""
    query = select(OutgoingMessage).where(OutgoingMessage.details["topic"].as_string() == topic)
    if kind is not None:
        query = query.where(OutgoingMessage.kind == kind)
    if to is not None:
        query = query.where(OutgoingMessage.to_address == to)
    return list(session.scalars(query.order_by(OutgoingMessage.id)))


def fate(topic: str, kind: str | None = None, to: str | None = None) -> OutgoingMessage | None:
    """The latest attempt of the message about `topic`: what became of it (None: never asked for)."""
    rows = rows_about(topic, kind, to)
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
    if fate(topic, kind, message.to) is not None:
        return None
    if only is not None:
        facts["only"] = only
    row = _first_row(kind, message, topic, person_id, facts, 1)
    session.commit()
    return _round(kind, message, topic, person_id, row, facts, 1)


def _first_row(
    kind: str, message: Outgoing, topic: str, person_id: str | None, facts: dict[str, Any], number: int
) -> OutgoingMessage:
    """The row of a round's first carrier, written before it is asked."""
    row = outbox.sending_row(kind, message, person_id)
    row.details = {**facts, "topic": topic, "round": number, **outbox.call_facts(message)}
    session.add(row)
    return row


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
    error: SendError | None = None
    try:
        outbox.send(kind, message, person_id, only=facts.get("only"), first=first, facts=keep)
    except SendError as exc:
        error = exc
    last = rows_about(topic, kind, message.to)[-1]
    if error is not None:
        details = dict(last.details or {})
        if (error.temporary or error.maybe_sent) and number <= len(RETRY_AFTER):
            details["retry_at"] = _stamp(clock.now() + RETRY_AFTER[number - 1])
            log.warning("%s %s failed (%s): tried again at %s", kind, topic, error, details["retry_at"])
        else:
            last.state = MessageState.FAILED_PERMANENT
            details["given_up"] = True
            log.warning("%s %s failed for good: %s", kind, topic, error)
        last.details = details
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
        first = _first_row(row.kind, message, topic, row.person_id, facts, number)
        session.commit()  # the new round is seen before the carrier is asked: a death mid-request is looked up
        _round(row.kind, message, topic, row.person_id, first, facts, number)
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
        found = outbox.look_up(message, since, None)
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
    row.state, row.carrier_id = outbox.state_of(sent.status), sent.sid
    row.details = {**details, "status": sent.status, "found": True}
    session.commit()
    log.warning("%s had reached the carrier (%s): not sent again", row.kind, sent.sid)
    if row.kind in SETTLED:
        SETTLED[row.kind](row)
        session.commit()
    return True

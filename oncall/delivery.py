"""The delivery of pages: the job `deliver_pages` claims every due pending page of one person on one
channel (`page_claims.claim`: throttle, bundling, stale pages cancelled), says it in that channel's form
(an SMS, an e-mail, a call about the lead page) and sends it through the outbox, whichever carrier of
the channel takes it. What came of it goes back to `paging` in domain words.

An attempt that may have reached a carrier without its answer reaching us (a time-out, a worker
killed mid-request) is looked up first, and sent again only when no carrier holds it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app

import clock
import tasks
from models import Channel, session
from oncall import outbox, page_claims, paging
from oncall.carriers import Outgoing, SendError, Sent
from words.mail import page_email
from words.pages import page_sms

log = logging.getLogger(__name__)


def _sms(batch: page_claims.Batch, now: datetime) -> Outgoing:
    body = page_sms(batch.person.language, paging.alerts(batch), paging.link(batch), now)
    return Outgoing(Channel.SMS, batch.to, body)


def _email(batch: page_claims.Batch, now: datetime) -> Outgoing:
    subject, body = page_email(batch.person.language, paging.alerts(batch), paging.link(batch), now)
    return Outgoing(Channel.EMAIL, batch.to, body, subject)


def _call(batch: page_claims.Batch, now: datetime) -> Outgoing:
    return Outgoing(Channel.VOICE, batch.to, about="page", ids={"page": batch.lead.id})


# What a page says, in the form of each channel.
MESSAGES: dict[Channel, Callable[[page_claims.Batch, datetime], Outgoing]] = {
    Channel.SMS: _sms,
    Channel.EMAIL: _email,
    Channel.VOICE: _call,
}


@tasks.job(page_claims.DELIVER_JOB, urgent=True)
def deliver_pages(person_id: str, channel: str) -> None:
    """Send every due pending page of one person on one channel, as one message (bundling)."""
    if not _reconcile(person_id, Channel(channel)):
        return
    batch = page_claims.claim(person_id, Channel(channel))
    if batch is None:
        return
    now = clock.now()
    message = MESSAGES[batch.channel](batch, now)
    try:
        result = outbox.send("page", message, batch.person.id, batch.pages)
    except SendError as exc:
        maybe_sent = exc.maybe_sent
        if maybe_sent:
            try:
                found = _look_up(batch, now, clock.now())
            except SendError:
                found = None
            else:
                maybe_sent = False  # the carrier answered the look-up: it does not hold the page
            if found is not None:
                log.warning("pages %s had reached the carrier (%s): not sent again", _ids(batch), found.sid)
                outbox.found(batch.pages, found)
                paging.sent(batch, found.sid, found.status)
                return
        paging.failed(batch, exc.code, exc.temporary, maybe_sent=maybe_sent)
        return
    paging.sent(batch, result.sid, result.status)


def _ids(batch: page_claims.Batch) -> list[int]:
    return [p.id for p in batch.pages]


def _reconcile(person_id: str, channel: Channel) -> bool:
    """Look up each attempt that may have reached a carrier: found, its pages are sent; not found,
    they are pending again. False when it cannot be asked (nothing is sent meanwhile)."""
    timeout = timedelta(seconds=float(current_app.config["TWILIO_TIMEOUT"]))
    for attempt in page_claims.unconfirmed(person_id, channel):
        sent_at = attempt.lead.sent_at
        at = clock.as_utc(sent_at) if sent_at else clock.now() - page_claims.LOOKBACK
        try:
            found = _look_up(attempt, at, at + timeout)
        except SendError as exc:
            log.warning("pages %s could not be looked up (%s): later", _ids(attempt), exc)
            page_claims.schedule_delivery(person_id, channel, at=clock.now() + timedelta(seconds=30))
            return False
        if found is not None:
            log.warning("pages %s had reached the carrier (%s): not sent again", _ids(attempt), found.sid)
            outbox.found(attempt.pages, found)
            paging.sent(attempt, found.sid, found.status)
        else:
            log.warning("pages %s had not reached the carrier: sent again", _ids(attempt))
            page_claims.release(attempt.pages)
    return True


def _look_up(batch: page_claims.Batch, since: datetime, until: datetime) -> Sent | None:
    """The message (an SMS carrying every ticket of the batch) or the call a carrier accepted for this
    batch between `since` and `until`, that no page knows yet."""
    known = page_claims.known_ids(batch.to)
    found = outbox.look_up(Outgoing(batch.channel, batch.to), since, until)
    if batch.channel is Channel.SMS:
        tickets = {c.ticket.number for c in batch.callouts}
        found = [m for m in found if all(t in m.body for t in tickets)]
    found = [m for m in found if m.sid not in known]
    # Several candidates (a later bundle carries the same ticket): the one nearest the attempt.
    return min(found, key=lambda m: abs((m.at - since).total_seconds()) if m.at else 0.0, default=None)


@tasks.job(page_claims.DELIVER_DUE_JOB, urgent=True)
def deliver_due() -> None:
    """The sweeper's share: pages a dead worker left half-sent go back to pending, and every due
    pending page is delivered, bundled by person and channel."""
    if page_claims.recover_interrupted(clock.now()):
        session.commit()
    for person_id, channel in page_claims.pending_deliveries(clock.now()):
        deliver_pages(person_id, channel.value)

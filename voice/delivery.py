"""The sender: delivers the page rows the on-call room writes, over Twilio REST (or the local outbox),
and maps Twilio's status callbacks back to the pages. Its job `deliver_pages` sends every due
pending page of one person on one channel as one SMS or one call (bundling).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

import clock
import tasks
from models import Channel, Page, session
from oncall import page_claims, paging
from oncall.links import absolute_url
from oncall.sending import SendError, Sent
from voice import sender
from words.pages import page_sms

log = logging.getLogger(__name__)

# Twilio callbacks can arrive twice and out of order: a status never goes back to an earlier one.
_RANK = {
    "pending": 0,
    "sending": 1,
    "outbox": 2,
    "accepted": 2,
    "queued": 2,
    "initiated": 2,
    "scheduled": 2,
    "ringing": 3,
    "sent": 4,
    "in-progress": 4,
    "answered": 4,
    "completed": 5,
    "delivered": 6,
    "undelivered": 6,
    "failed": 6,
    "busy": 6,
    "no-answer": 6,
    "canceled": 6,
    "read": 7,
    "machine": 8,
    "declined": 9,
    "cancelled": 9,
}


def is_later(status: str, than: str | None) -> bool:
    """Whether `status` may replace `than`: a status never goes back to an earlier one."""
    return _RANK.get(status, 5) >= _RANK.get(than or "pending", 0)


def is_machine(answered_by: str | None) -> bool:
    """Twilio's answering-machine detection: a machine or a fax answered, not a person."""
    return bool(answered_by) and (answered_by.startswith("machine") or answered_by == "fax")  # type: ignore[union-attr]


def reported(
    status: str | None, answered_by: str | None, error_code: str | None
) -> tuple[str | None, str | None, str | None]:
    """What Twilio reported (a callback or a look-up), as the columns keep it: cut to their widths
    (Twilio's words may grow), ErrorCode 0 is no error, a machine answering is the status `machine`."""
    answered_by = (answered_by or "")[:24] or None
    error_code = (error_code or "")[:10] or None
    if status is not None:
        status = status[:24]
    if is_machine(answered_by):
        status = "machine"
    return status, answered_by, None if error_code == "0" else error_code


@tasks.job(page_claims.DELIVER_JOB, urgent=True)
def deliver_pages(person_id: str, channel: str) -> None:
    """Send every due pending page of one person on one channel, as one SMS or one call.

    The claim is recorded before the request. An attempt that may have reached Twilio without its
    answer reaching us (a timeout, a worker killed mid-request) is looked up at Twilio first, and
    sent again only when Twilio does not hold it."""
    if not _reconcile(person_id, Channel(channel)):
        return
    batch = page_claims.claim(person_id, Channel(channel))
    if batch is None:
        return
    now = clock.now()
    try:
        result = _send(batch, now)
    except SendError as exc:
        maybe_sent = exc.maybe_sent
        if maybe_sent:
            try:
                found = _look_up(batch, now, clock.now())
            except SendError:
                found = None
            else:
                maybe_sent = False  # Twilio answered the look-up: it does not hold the page
            if found is not None:
                log.warning("pages %s had reached Twilio (%s): not sent again", _ids(batch), found.sid)
                paging.sent(batch, found.sid, found.status)
                return
        paging.failed(batch, exc.code, exc.temporary, maybe_sent=maybe_sent)
        return
    paging.sent(batch, result.sid, result.status)


def _ids(batch: page_claims.Batch) -> list[int]:
    return [p.id for p in batch.pages]


def _reconcile(person_id: str, channel: Channel) -> bool:
    """Look up each attempt that may have reached Twilio: found, its pages are sent; not found, they
    are pending again. False when Twilio cannot be asked (nothing is sent meanwhile)."""
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
            log.warning("pages %s had reached Twilio (%s): not sent again", _ids(attempt), found.sid)
            paging.sent(attempt, found.sid, found.status)
        else:
            log.warning("pages %s had not reached Twilio: sent again", _ids(attempt))
            page_claims.release(attempt.pages)
    return True


def _look_up(batch: page_claims.Batch, since: datetime, until: datetime) -> Sent | None:
    """The SMS (carrying every ticket of the batch) or the call Twilio accepted for this batch
    between `since` and `until`, that no page knows yet."""
    known = page_claims.known_ids(batch.to)
    if batch.channel is Channel.SMS:
        tickets = {c.ticket.number for c in batch.callouts}
        found = [m for m in sender.sent_sms(batch.to, since, until) if all(t in m.body for t in tickets)]
    else:
        found = sender.placed_calls(batch.to, since, until)
    found = [m for m in found if m.sid not in known]
    # Several candidates (a later bundle carries the same ticket): the one nearest the attempt.
    return min(found, key=lambda m: abs((m.at - since).total_seconds()) if m.at else 0.0, default=None)


def _send(batch: page_claims.Batch, now: datetime) -> Sent:
    if batch.channel is Channel.SMS:
        body = page_sms(batch.person.language, paging.alerts(batch), paging.link(batch), now)
        return sender.send_sms(batch.to, body, status_callback=absolute_url("sms.status"))
    return sender.place_call(
        batch.to,
        absolute_url("paging.call", page=batch.lead.id),
        status_callback=absolute_url("paging.status"),
        machine_detection="Enable",  # answered is not acknowledged: a machine is a failure
        timeout=int(current_app.config["PAGE_RING_SECONDS"]),
    )


@tasks.job(page_claims.DELIVER_DUE_JOB, urgent=True)
def deliver_due() -> None:
    """The sweeper's share: pages a dead worker left half-sent go back to pending, and every due
    pending page is delivered, bundled by person and channel."""
    if page_claims.recover_interrupted(clock.now()):
        session.commit()
    for person_id, channel in page_claims.pending_deliveries(clock.now()):
        deliver_pages(person_id, channel.value)


def record_status(
    sid: str, status: str | None, answered_by: str | None = None, error_code: str | None = None
) -> list[Page]:
    """A Twilio status callback (MessageStatus, CallStatus, AnsweredBy, ErrorCode) on every page of `sid`.

    Idempotent: a duplicate or late callback never moves a page back to an earlier status.
    """
    status, answered_by, error_code = reported(status, answered_by, error_code)
    pages = list(session.scalars(select(Page).where(Page.twilio_sid == sid)))
    for page in pages:
        if answered_by:
            page.answered_by = answered_by
        if error_code:
            page.error_code = error_code
        if status and is_later(status, page.status):
            paging.note_status(page, status)
    session.commit()
    return pages

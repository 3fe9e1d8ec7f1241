"""The sender: delivers the page rows the on-call room writes, over Twilio REST (or the local outbox),
and maps Twilio's status callbacks back to the pages. Its job `deliver_pages` sends every due
pending page of one person on one channel as one SMS or one call (bundling).
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select

import clock
import tasks
from models import Channel, Page, session
from oncall import paging
from oncall.links import absolute_url
from oncall.sending import SendError
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


def is_machine(answered_by: str | None) -> bool:
    """Twilio's answering-machine detection: a machine or a fax answered, not a person."""
    return bool(answered_by) and (answered_by.startswith("machine") or answered_by == "fax")  # type: ignore[union-attr]


@tasks.job(paging.DELIVER_JOB, urgent=True)
def deliver_pages(person_id: str, channel: str) -> None:
    """Send every due pending page of one person on one channel, as one SMS or one call."""
    batch = paging.claim(person_id, Channel(channel))
    if batch is None:
        return
    now = clock.now()
    try:
        if batch.channel is Channel.SMS:
            body = page_sms(batch.person.language, paging.alerts(batch), paging.link(batch), now)
            result = sender.send_sms(batch.to, body, status_callback=absolute_url("sms.status"))
        else:
            result = sender.place_call(
                batch.to,
                absolute_url("paging.call", page=batch.lead.id),
                status_callback=absolute_url("paging.status"),
                machine_detection="Enable",  # answered is not acknowledged: a machine is a failure
                timeout=int(current_app.config["PAGE_RING_SECONDS"]),
            )
    except SendError as exc:
        paging.failed(batch, exc.code, exc.temporary)
        return
    paging.sent(batch, result.sid, result.status)


@tasks.job(paging.DELIVER_DUE_JOB, urgent=True)
def deliver_due() -> None:
    """The sweeper's share: pages a dead worker left half-sent go back to pending, and every due
    pending page is delivered, bundled by person and channel."""
    if paging.recover_interrupted(clock.now()):
        session.commit()
    for person_id, channel in paging.pending_deliveries(clock.now()):
        deliver_pages(person_id, channel.value)


def record_status(
    sid: str, status: str | None, answered_by: str | None = None, error_code: str | None = None
) -> list[Page]:
    """A Twilio status callback (MessageStatus, CallStatus, AnsweredBy, ErrorCode) on every page of `sid`.

    Idempotent: a duplicate or late callback never moves a page back to an earlier status.
    """
    pages = list(session.scalars(select(Page).where(Page.twilio_sid == sid)))
    if is_machine(answered_by):
        status = "machine"
    for page in pages:
        if answered_by:
            page.answered_by = answered_by
        if error_code and error_code != "0":
            page.error_code = error_code
        if status and _RANK.get(status, 5) >= _RANK.get(page.status, 0):
            paging.note_status(page, status)
    session.commit()
    return pages

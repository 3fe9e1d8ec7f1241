"""Twilio's statuses of the pages it carries: their ranking (callbacks come twice and out of order),
machine detection, and the status callbacks mapped back to the pages and their outgoing messages.
The pages themselves leave through `oncall/delivery.py` and the Twilio carrier (`voice/carrier.py`).
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from models import Page, session
from oncall import outbox, paging

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


def record_status(
    sid: str, status: str | None, answered_by: str | None = None, error_code: str | None = None
) -> list[Page]:
    """A Twilio status callback (MessageStatus, CallStatus, AnsweredBy, ErrorCode) on every page of `sid`.

    Idempotent: a duplicate or late callback never moves a page back to an earlier status.
    """
    status, answered_by, error_code = reported(status, answered_by, error_code)
    pages = list(session.scalars(select(Page).where(Page.twilio_sid == sid)))
    moved = [p for p in pages if status and is_later(status, p.status)]
    if moved and status:  # the outbox first: a page made again avoids the carrier that failed it
        outbox.note(sid, status, {"error_code": error_code, "answered_by": answered_by})
    for page in pages:
        if answered_by:
            page.answered_by = answered_by
        if error_code:
            page.error_code = error_code
        if status and page in moved:
            paging.note_status(page, status)
    session.commit()
    return pages

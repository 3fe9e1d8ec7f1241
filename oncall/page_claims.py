"""The claim of pages: the sender (`oncall/delivery.py`) asks here which pages to send now, and for whom.

`claim` hands out every due pending page of one person on one channel at once (several callouts, one
SMS or one call: bundling). It never lets a number be reached more often than PAGE_CALL_INTERVAL
(PAGE_SMS_INTERVAL for SMS) and never hands out a page whose callout stopped paging. An attempt whose
outcome is unknown (MAYBE_SENT) is left alone until the sender has looked it up at the carrier
(`unconfirmed`, then `release`); a worker that died mid-request leaves pages that `recover_interrupted`
finds. What became of a claimed batch is told back to `oncall/paging.py`; both write a bundle's pages
and their timeline lines in two statements whatever its size (`write_pages`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

import clock
import tasks
from models import (
    Callout,
    CalloutState,
    Channel,
    MessageState,
    Page,
    Person,
    Ticket,
    TicketEvent,
    Voicemail,
    changed,
    session,
)
from oncall import outbox

log = logging.getLogger(__name__)

DELIVER_JOB = "deliver_pages"  # registered by oncall/delivery.py, this room's sender
DELIVER_DUE_JOB = "deliver_due_pages"  # the sweeper's share of it
# The error code of an attempt whose outcome is unknown (no answer in time, a worker killed during
# the request): the carrier may hold it, so the sender looks it up before sending it again.
MAYBE_SENT = "maybe-sent"
LOOKBACK = timedelta(minutes=15)  # how far back a look-up searches: beyond every retry's back-off


@dataclass(frozen=True)
class Batch:
    """Pages claimed for one send: one person, one channel, one number; the callouts they carry."""

    person: Person
    channel: Channel
    to: str
    pages: list[Page]
    callouts: list[Callout]

    @property
    def lead(self) -> Page:
        return self.pages[0]


# What a page says of a callout: its ticket, client and service, the message and its call.
_ALERT_LOADS = (
    selectinload(Callout.ticket).options(selectinload(Ticket.client), selectinload(Ticket.service)),
    selectinload(Callout.voicemail).selectinload(Voicemail.call),
)


def _interval(channel: Channel) -> timedelta:
    key = "PAGE_CALL_INTERVAL" if channel is Channel.VOICE else "PAGE_SMS_INTERVAL"
    return timedelta(seconds=float(current_app.config[key]))


def pending_deliveries(now: datetime) -> list[tuple[str, Channel]]:
    """(person, channel) pairs that have pending pages due at `now`."""
    rows = session.execute(
        select(Page.person_id, Page.channel)
        .where(Page.status == MessageState.PENDING.value, Page.retry_at <= now)
        .distinct()
    ).all()
    return [(person_id, Channel(channel)) for person_id, channel in rows]


def recover_interrupted(now: datetime) -> int:
    """Pages left "sending" by a worker that died mid-request go back to pending, marked MAYBE_SENT:
    the sender looks them up before sending again (a duplicate page is better than a lost one, and
    none is better still). Twilio answers within TWILIO_TIMEOUT, so two minutes means the worker is
    gone."""
    stuck = (
        Page.status == MessageState.SENDING.value,
        Page.twilio_sid.is_(None),
        Page.sent_at < now - timedelta(minutes=2),
    )
    ids = list(session.scalars(select(Page.id).where(*stuck)))
    if not ids:
        return 0
    count = changed(
        update(Page)
        .where(Page.id.in_(ids), *stuck)
        .values(status=MessageState.PENDING.value, retry_at=now, error_code=MAYBE_SENT)
        .execution_options(synchronize_session=False)
    )
    log.warning("pages %s were left half-sent by a worker that stopped: looked up, then sent again", ids)
    return count


def release(pages: list[Page]) -> None:
    """Pages whose earlier attempt the carrier does not hold: pending again, due now."""
    for page in pages:
        page.status, page.retry_at, page.error_code = MessageState.PENDING.value, clock.now(), None
    session.commit()


def unconfirmed(person_id: str, channel: Channel) -> list[Batch]:
    """The attempts of this person and channel that may have reached the carrier (MAYBE_SENT), one
    batch per attempt (the pages claimed together share their `sent_at`), oldest first. `claim`
    leaves them alone until the sender has looked them up."""
    pages = session.scalars(
        select(Page)
        .where(
            Page.person_id == person_id,
            Page.channel == channel,
            Page.status == MessageState.PENDING.value,
            Page.error_code == MAYBE_SENT,
        )
        .order_by(Page.sent_at, Page.id)
    ).all()
    attempts: dict[tuple[object, str], list[Page]] = {}
    for page in pages:
        attempts.setdefault((page.sent_at, page.to_number), []).append(page)
    return [
        Batch(group[0].person, channel, group[0].to_number, group, _distinct_callouts(group))
        for group in attempts.values()
    ]


def known_ids(to: str) -> set[str]:
    """The carrier ids already kept for pages to `to`: a look-up must find another one."""
    return set(
        session.scalars(
            select(Page.twilio_sid).where(
                Page.to_number == to, Page.twilio_sid.is_not(None), Page.sent_at >= clock.now() - LOOKBACK
            )
        )
    )


def schedule_delivery(person_id: str, channel: Channel, at: datetime | None = None) -> None:
    """Ask the sender to deliver the pending pages of `person_id` on `channel` (now, or at `at`)."""
    tasks.enqueue(DELIVER_JOB, person_id, channel.value, at=at)


def claim(person_id: str, channel: Channel) -> Batch | None:
    """The due pending pages of one person on one channel, claimed for one send; None when there is
    nothing to send now (nothing due, stale, throttled, riding on a call that rings, or another
    worker holds them)."""
    now = clock.now()
    pages = list(
        session.scalars(
            select(Page)
            .where(
                Page.person_id == person_id,
                Page.channel == channel,
                Page.status == MessageState.PENDING.value,
                Page.retry_at <= now,
                or_(Page.error_code.is_(None), Page.error_code != MAYBE_SENT),  # looked up first
            )
            .order_by(Page.id)
            .options(selectinload(Page.callout), selectinload(Page.person))  # a query per table, not per page
        )
    )
    live, stale = [], []
    for page in pages:
        if page.callout.state is CalloutState.PAGING:
            live.append(page)
        else:  # taken over or cancelled meanwhile: no stale page
            page.status = MessageState.CANCELLED.value
            stale.append(page)
    outbox.cancelled(stale)
    if not live:
        session.commit()
        return None
    to = live[0].to_number
    live = [p for p in live if p.to_number == to]
    if channel is Channel.VOICE and _join_ringing_call(live, to, now):
        session.commit()
        return None
    wait = _throttled_until(to, channel, now)
    if wait is not None:
        write_pages(live, {"retry_at": wait}, [])
        session.commit()
        log.info("throttled %s to %s until %s", channel, to, wait.isoformat())
        schedule_delivery(person_id, channel, at=wait)
        return None
    ids = [p.id for p in live]
    claimed = changed(  # and the callouts still paging: a takeover this instant sends nothing stale
        update(Page)
        .where(
            Page.id.in_(ids),
            Page.status == MessageState.PENDING.value,
            Page.callout_id.in_(select(Callout.id).where(Callout.state == CalloutState.PAGING)),
        )
        .values(status=MessageState.SENDING.value, sent_at=now, attempts=Page.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed != len(ids):  # another worker is delivering some of them
        session.rollback()
        return None
    session.commit()
    for page in live:  # what the UPDATE wrote, without reading each page again
        set_committed_value(page, "status", MessageState.SENDING.value)
        set_committed_value(page, "sent_at", now)
        set_committed_value(page, "attempts", (page.attempts or 0) + 1)
    callouts = _distinct_callouts(live)
    session.scalars(  # what the page says of each callout, a query per table
        select(Callout)
        .where(Callout.id.in_([c.id for c in callouts]))
        .options(*_ALERT_LOADS)
        .execution_options(populate_existing=True)
    ).all()
    return Batch(live[0].person, channel, to, live, callouts)


def _throttled_until(to: str, channel: Channel, now: datetime) -> datetime | None:
    last = session.scalar(
        select(func.max(Page.sent_at)).where(
            Page.to_number == to, Page.channel == channel, Page.twilio_sid.is_not(None), Page.sent_at <= now
        )
    )
    if last is None:
        return None
    allowed = clock.as_utc(last) + _interval(channel)
    return allowed if allowed > now else None


def _join_ringing_call(pages: list[Page], to: str, now: datetime) -> bool:
    """A page call to that number is still ringing: the new callouts ride on it (bundling)."""
    call = session.scalar(
        select(Page)
        .where(
            Page.to_number == to,
            Page.channel == Channel.VOICE,
            Page.status.in_(outbox.UNDER_WAY),
            Page.twilio_sid.is_not(None),
            Page.sent_at >= now - timedelta(minutes=2),
            Page.sent_at <= now,
        )
        .order_by(Page.sent_at.desc())
    )
    if call is None:
        return False
    write_pages(
        pages,
        {"twilio_sid": call.twilio_sid, "status": call.status, "sent_at": call.sent_at},
        [
            event_row(
                page,
                "page",
                {
                    "page": page.id,
                    "callout": page.callout_id,
                    "channel": "voice",
                    "name": page.person.name,
                    "joined": True,
                },
            )
            for page in pages
        ],
        attempts=True,
    )
    return True


def event_row(page: Page, kind: str, data: dict[str, object]) -> dict[str, object]:
    """A timeline line of a page's ticket, as a row (its facts; told when read): a bundle's lines are
    written in one statement."""
    return {
        "ticket_id": page.callout.ticket_id,
        "at": clock.now(),
        "kind": kind,
        "text": "",
        "actor": None,
        "data": data,
    }


def write_pages(
    pages: list[Page], values: dict[str, object], events: list[dict[str, object]], attempts: bool = False
) -> None:
    """The same new values on every page of a bundle and their timeline lines: two statements, whatever
    the size of the bundle (a storm bundles thousands); the pages in memory are kept in step."""
    now = clock.now()
    stmt = update(Page).where(Page.id.in_([p.id for p in pages])).values(**values, updated_at=now)
    if attempts:
        stmt = stmt.values(attempts=Page.attempts + 1)
    session.execute(stmt.execution_options(synchronize_session=False))
    for page in pages:
        for key, value in values.items():
            set_committed_value(page, key, value)
        set_committed_value(page, "updated_at", now)
        if attempts:
            set_committed_value(page, "attempts", (page.attempts or 0) + 1)
    if events:
        session.execute(insert(TicketEvent), events)


def _distinct_callouts(pages: list[Page]) -> list[Callout]:
    seen: dict[int, Callout] = {}
    for page in pages:
        seen.setdefault(page.callout_id, page.callout)
    return list(seen.values())

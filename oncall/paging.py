"""Pages: one attempt to reach one person on one channel. This room decides; `voice/` delivers.

A policy step creates *pending* pages (`create_page`); the sender claims them (`oncall/page_claims.py`)
and reports back in domain words: `sent`, `failed` (temporary or not, with the carrier's code), and each
later status through `note_status`. A temporary failure is tried again with back-off; a permanent one
falls to the other channel, then to the next step. Here too: what a page says of its callouts
(`alert_of`, `alerts`, `link`), and the callouts still waiting for a person (`waiting_for`). A phone page its
carriers cannot deliver also goes to the person's e-mail, when there is one and e-mail is configured.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

import clock
from models import Callout, CalloutState, Channel, MessageState, Page, Person, session
from oncall import carriers, outbox
from oncall.callouts import run_next_step_now
from oncall.links import takeover_url
from oncall.page_claims import MAYBE_SENT, Batch, event_row, schedule_delivery, write_pages
from org.load import current_org
from org.orgfile import Org
from tickets.timeline import add_event
from words.pages import Alert

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4  # a temporary error is tried again 3 times (30 s, 60 s, 120 s), then it is permanent
PHONE = (Channel.SMS, Channel.VOICE)


def _backoff(attempts: int) -> timedelta:
    base = float(current_app.config["PAGE_RETRY_SECONDS"])
    return timedelta(seconds=base * 2 ** max(attempts - 1, 0))


def create_page(callout: Callout, person: Person, channel: Channel, step: int) -> Page:
    """A pending page, delivered by `deliver` (now, or when the throttle allows)."""
    page = Page(
        callout_id=callout.id,
        person_id=person.id,
        channel=channel,
        step=step,
        to_number=(person.email or "") if channel is Channel.EMAIL else person.phone,
        status=MessageState.PENDING.value,
        retry_at=clock.now(),
    )
    session.add(page)
    session.flush()
    return page


def alert_of(callout: Callout, lang: str, org: Org) -> Alert:
    ticket = callout.ticket
    priority = org.priorities.get(ticket.priority)
    label = (priority.label if lang == "fr" else priority.key.capitalize()) if priority else ticket.priority
    callback = callout.callback_number or "-"
    return Alert(
        ticket=ticket.number,
        client=ticket.client.name,
        service=ticket.service.ref if ticket.service else "-",
        priority=label,
        callback=callback,
        due_at=callout.due_at,
        message_at=callout.opened_at.astimezone(org.timezone),
        subject=ticket.subject,
        english=callout.voicemail is not None and callout.voicemail.call.language == "en",
    )


def alerts(batch: Batch) -> list[Alert]:
    """What one page SMS says: each callout of the batch in the person's language."""
    org = current_org()
    return [alert_of(c, batch.person.language, org) for c in batch.callouts]


def link(batch: Batch) -> str:
    """The take-over link a page SMS carries."""
    return takeover_url(batch.lead.id)


def sent(batch: Batch, sid: str, status: str) -> None:
    """The carrier accepted the batch: every page gets its id and status, and the timeline says so."""
    person = batch.person
    write_pages(
        batch.pages,
        {"twilio_sid": sid, "status": status, "error_code": None},
        [
            event_row(
                page,
                "page",
                {
                    "page": page.id,
                    "callout": page.callout_id,
                    "channel": batch.channel.value,
                    "person": person.id,
                    "name": person.name,
                    "bundled": len(batch.pages) - 1,
                    "sid": sid,
                },
            )
            for page in batch.pages
        ],
    )
    session.commit()
    log.info(
        "%s to %s sent: %s (ticket %s, %d callout(s))",
        batch.channel.value,
        person.id,
        sid,
        _tickets(batch),
        len(batch.pages),
    )


def _tickets(batch: Batch) -> str:
    """The ticket numbers a batch pages about, for its log line (a job of the sender names no ticket)."""
    return ", ".join(sorted({callout.ticket.number for callout in batch.callouts}))


def failed(batch: Batch, code: int | None, temporary: bool, maybe_sent: bool = False) -> None:
    """The carrier refused the batch or could not be reached: try again later, or fall back. With
    `maybe_sent` the request may have reached it: the next attempt looks it up first."""
    now = clock.now()
    channel = batch.channel
    retry_at: datetime | None = None
    by_email = [p for p in batch.pages if _by_email_too(p)]
    for page in batch.pages:
        page.error_code = MAYBE_SENT if maybe_sent else (str(code)[:10] if code else None)
        if temporary and page.attempts < MAX_ATTEMPTS:
            page.status = MessageState.PENDING.value
            page.retry_at = now + _backoff(page.attempts)
            retry_at = page.retry_at
            add_event(
                page.callout.ticket,
                "page_error",
                data=_page_facts(page, error=page.error_code, retry=True),
            )
        else:
            page.status = Page.FAILED
            add_event(
                page.callout.ticket,
                "page_error",
                data=_page_facts(page, error=page.error_code),
            )
            _fall_back(page)
    session.commit()
    log.warning(
        "%s to %s failed (code %s, temporary=%s, maybe sent=%s), pages %s (ticket %s)",
        channel,
        batch.person.id,
        code,
        temporary,
        maybe_sent,
        [p.id for p in batch.pages],
        _tickets(batch),
    )
    if retry_at is not None:
        schedule_delivery(batch.person.id, channel, at=retry_at)
    if by_email:
        schedule_delivery(batch.person.id, Channel.EMAIL)


def _by_email_too(page: Page) -> bool:
    """A phone page its carriers could not deliver goes to the person's e-mail too, at once (well
    within the minute): a pending e-mail page is written, unless one was since this page was made (its
    retries, and the call made with the SMS, share that e-mail)."""
    person = page.person
    if page.channel not in PHONE or not person.email or not carriers.channel_served(Channel.EMAIL):
        return False
    if _made_since(page, Channel.EMAIL) or page.callout.state is not CalloutState.PAGING:
        return False
    create_page(page.callout, person, Channel.EMAIL, page.step)
    return True


def _made_since(page: Page, channel: Channel) -> bool:
    """Whether another page by `channel` was made for the same callout and person since `page` was."""
    other = session.scalar(
        select(Page.id).where(
            Page.callout_id == page.callout_id,
            Page.person_id == page.person_id,
            Page.channel == channel,
            Page.created_at >= page.created_at,
            Page.id != page.id,
        )
    )
    return other is not None


def _fall_back(page: Page) -> None:
    """A permanent failure: the other phone channel for the same person, or else the next step now."""
    other = Channel.VOICE if page.channel is Channel.SMS else Channel.SMS
    if page.channel not in PHONE:  # an e-mail page: its phone pages fall back on their own
        other = page.channel
    siblings = session.scalars(
        select(Page).where(
            Page.callout_id == page.callout_id, Page.person_id == page.person_id, Page.step == page.step
        )
    ).all()
    if not any(p.channel is other for p in siblings):
        create_page(page.callout, page.person, other, page.step)
        session.commit()
        schedule_delivery(page.person_id, other)
        return
    if all(p.status == Page.FAILED for p in siblings):
        run_next_step_now(page.callout_id, after_step=page.step)


def note_status(page: Page, status: str) -> None:
    """A later status of a page from the carrier; a failure (busy, no answer, a machine…) is told on
    the timeline. Only a key press, an SMS reply or the web button takes over: never a status."""
    if status == page.status:
        return
    page.status = status
    if outbox.state_of(status) in outbox.NOT_REACHED:
        add_event(
            page.callout.ticket,
            "page_failed",
            data=_page_facts(page, status=status, error=page.error_code),
        )
        if status != outbox.MACHINE and _by_email_too(page):  # the carrier could not deliver it
            schedule_delivery(page.person_id, Channel.EMAIL)
        if status in outbox.UNDELIVERED and _again_by_another_carrier(page):
            schedule_delivery(page.person_id, page.channel)


def _again_by_another_carrier(page: Page) -> bool:
    """The carrier reported the page undelivered (not a person who did not answer): when another carrier
    serves the channel, the page is made again, once, and the outbox tries the others first."""
    if page.channel not in PHONE or len(carriers.for_channel(page.channel)) < 2:
        return False
    if _made_since(page, page.channel) or page.callout.state is not CalloutState.PAGING:
        return False
    create_page(page.callout, page.person, page.channel, page.step)
    return True


def _page_facts(page: Page, **facts: Any) -> dict[str, Any]:
    """What the timeline needs to tell an event of `page`."""
    return {
        "page": page.id,
        "callout": page.callout_id,
        "channel": page.channel.value,
        "name": page.person.name,
        **facts,
    }


def waiting_for(person_id: str) -> list[Callout]:
    """Callouts still paging that paged this person (what `OK` alone refers to)."""
    return list(
        session.scalars(
            select(Callout)
            .where(
                Callout.state == CalloutState.PAGING,
                Callout.id.in_(select(Page.callout_id).where(Page.person_id == person_id)),
            )
            .order_by(Callout.opened_at, Callout.id)
        )
    )

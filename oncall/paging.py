"""Pages: one attempt to reach one person on one channel, delivered by SMS or by an outbound call.

A policy step creates *pending* pages; `deliver(person, channel)` sends every pending page of that
person at once (several callouts → one SMS, one call: bundling), never calls a number more often
than PAGE_CALL_INTERVAL (PAGE_SMS_INTERVAL for SMS), never sends a page whose callout is no longer
paging, retries temporary Twilio errors with backoff and falls to the other channel on permanent ones.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

import clock
import tasks
from models import Callout, CalloutState, Channel, Page, Person, session
from oncall.callouts import changed
from oncall.load import current_org
from oncall.orgfile import Org
from tickets.timeline import add_event
from voice import outbound
from voice.outbound import OutboundError
from voice.prompts_pages import Alert, page_sms, readable_number

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4  # a temporary error is tried again 3 times (30 s, 60 s, 120 s), then it is permanent
FAILED = {"failed", "undelivered", "busy", "no-answer", "canceled", "machine", "declined", "cancelled"}
LIVE_CALL = {"queued", "initiated", "ringing"}
CHANNEL_WORD = {Channel.SMS: "SMS", Channel.VOICE: "appel"}

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


def _interval(channel: Channel) -> timedelta:
    key = "PAGE_CALL_INTERVAL" if channel is Channel.VOICE else "PAGE_SMS_INTERVAL"
    return timedelta(seconds=float(current_app.config[key]))


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
        to_number=person.phone,
        status="pending",
        retry_at=clock.now(),
    )
    session.add(page)
    session.flush()
    return page


def pending_deliveries(now: datetime) -> list[tuple[str, Channel]]:
    """(person, channel) pairs that have pending pages due at `now`."""
    rows = session.execute(
        select(Page.person_id, Page.channel).where(Page.status == "pending", Page.retry_at <= now).distinct()
    ).all()
    return [(person_id, Channel(channel)) for person_id, channel in rows]


def recover_interrupted(now: datetime) -> int:
    """Pages left "sending" by a worker that died mid-request: sent again (a duplicate page is better
    than a lost one). Twilio answers within TWILIO_TIMEOUT, so two minutes means the worker is gone."""
    return changed(
        update(Page)
        .where(Page.status == "sending", Page.twilio_sid.is_(None), Page.sent_at < now - timedelta(minutes=2))
        .values(status="pending", retry_at=now)
        .execution_options(synchronize_session=False)
    )


def schedule_delivery(person_id: str, channel: Channel, at: datetime | None = None) -> None:
    from oncall.jobs import deliver_pages

    tasks.enqueue(deliver_pages, person_id, channel.value, at=at)


def deliver(person_id: str, channel: Channel) -> None:
    """Send every due pending page of one person on one channel, as one SMS or one call."""
    now = clock.now()
    pages = list(
        session.scalars(
            select(Page)
            .where(
                Page.person_id == person_id,
                Page.channel == channel,
                Page.status == "pending",
                Page.retry_at <= now,
            )
            .order_by(Page.id)
        )
    )
    live = []
    for page in pages:
        if page.callout.state is CalloutState.PAGING:
            live.append(page)
        else:  # taken over or cancelled meanwhile: no stale page
            page.status = "cancelled"
    if not live:
        session.commit()
        return
    to = live[0].to_number
    live = [p for p in live if p.to_number == to]
    if channel is Channel.VOICE and _join_live_call(live, to, now):
        session.commit()
        return
    wait = _throttled_until(to, channel, now)
    if wait is not None:
        for page in live:
            page.retry_at = wait
        session.commit()
        log.info("throttled %s to %s until %s", channel, to, wait.isoformat())
        schedule_delivery(person_id, channel, at=wait)
        return
    ids = [p.id for p in live]
    claimed = changed(  # and the callouts still paging: a takeover this instant sends nothing stale
        update(Page)
        .where(
            Page.id.in_(ids),
            Page.status == "pending",
            Page.callout_id.in_(select(Callout.id).where(Callout.state == CalloutState.PAGING)),
        )
        .values(status="sending", sent_at=now, attempts=Page.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed != len(ids):  # another worker is delivering some of them
        session.rollback()
        return
    session.commit()
    for page in live:
        session.refresh(page)
    _send(live, channel, now)


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


def _join_live_call(pages: list[Page], to: str, now: datetime) -> bool:
    """A call to that number is still ringing: the new callouts ride on it (bundling)."""
    call = session.scalar(
        select(Page)
        .where(
            Page.to_number == to,
            Page.channel == Channel.VOICE,
            Page.status.in_(LIVE_CALL),
            Page.twilio_sid.is_not(None),
            Page.sent_at >= now - timedelta(minutes=2),
            Page.sent_at <= now,
        )
        .order_by(Page.sent_at.desc())
    )
    if call is None:
        return False
    for page in pages:
        page.twilio_sid, page.status, page.sent_at = call.twilio_sid, call.status, call.sent_at
        page.attempts += 1
        add_event(
            page.callout.ticket,
            "page",
            f"Appel en cours vers {page.person.name} : alerte ajoutée",
            data={"page": page.id, "callout": page.callout_id, "channel": "voice"},
        )
    return True


def alert_of(callout: Callout, lang: str, org: Org) -> Alert:
    ticket = callout.ticket
    priority = org.priorities.get(ticket.priority)
    label = (priority.label if lang == "fr" else priority.key.capitalize()) if priority else ticket.priority
    callback = callout.voicemail.callback_number or callout.voicemail.call.callback_number or "-"
    return Alert(
        ticket=ticket.number,
        client=ticket.client.name,
        service=ticket.service.ref if ticket.service else "-",
        priority=label,
        callback=callback,
        due_at=callout.due_at,
        message_at=callout.opened_at.astimezone(org.timezone),
        subject=ticket.subject,
        callback_shown=readable_number(callback if callback != "-" else None, org.region),
    )


def _send(pages: list[Page], channel: Channel, now: datetime) -> None:
    from oncall.links import absolute_url, takeover_url

    person = pages[0].person
    try:
        if channel is Channel.SMS:
            org = current_org()
            callouts = _distinct_callouts(pages)
            body = page_sms(
                person.language,
                [alert_of(c, person.language, org) for c in callouts],
                takeover_url(pages[0].id),
                now,
            )
            sent = outbound.send_sms(pages[0].to_number, body, status_callback=absolute_url("sms.status"))
        else:
            sent = outbound.place_call(
                pages[0].to_number,
                absolute_url("paging.call", page=pages[0].id),
                status_callback=absolute_url("paging.status"),
                machine_detection="Enable",
                timeout=int(current_app.config["PAGE_RING_SECONDS"]),
            )
    except OutboundError as exc:
        _failed(pages, channel, exc, now)
        session.commit()
        return
    word = CHANNEL_WORD[channel]
    for page in pages:
        page.twilio_sid, page.status, page.error_code = sent.sid, sent.status, None
        what = f"SMS envoyé à {person.name}" if channel is Channel.SMS else f"Appel vers {person.name}"
        bundled = f" (groupé avec {len(pages) - 1} autre(s))" if len(pages) > 1 else ""
        add_event(
            page.callout.ticket,
            "page",
            what + bundled,
            actor=None,
            data={
                "page": page.id,
                "callout": page.callout_id,
                "channel": channel.value,
                "person": person.id,
                "sid": sent.sid,
            },
        )
    session.commit()
    log.info("%s to %s sent: %s (%d callout(s))", word, person.id, sent.sid, len(pages))


def _distinct_callouts(pages: list[Page]) -> list[Callout]:
    seen: dict[int, Callout] = {}
    for page in pages:
        seen.setdefault(page.callout_id, page.callout)
    return list(seen.values())


def _failed(pages: list[Page], channel: Channel, exc: OutboundError, now: datetime) -> None:
    retry_at: datetime | None = None
    for page in pages:
        page.error_code = str(exc.code) if exc.code else None
        if exc.temporary and page.attempts < MAX_ATTEMPTS:
            page.status = "pending"
            page.retry_at = now + _backoff(page.attempts)
            retry_at = page.retry_at
            add_event(
                page.callout.ticket,
                "page_error",
                f"{CHANNEL_WORD[channel]} vers {page.person.name} : erreur temporaire "
                f"{page.error_code or ''}, nouvel essai".replace("  ", " "),
                data={"page": page.id, "callout": page.callout_id, "error": page.error_code},
            )
        else:
            page.status = "failed"
            add_event(
                page.callout.ticket,
                "page_error",
                f"{CHANNEL_WORD[channel]} vers {page.person.name} : échec {page.error_code or ''}".strip(),
                data={"page": page.id, "callout": page.callout_id, "error": page.error_code},
            )
            _fall_back(page)
    log.warning("%s to %s failed (%s, temporary=%s)", channel, pages[0].person_id, exc, exc.temporary)
    if retry_at is not None:
        schedule_delivery(pages[0].person_id, channel, at=retry_at)


def _fall_back(page: Page) -> None:
    """A permanent failure: the other channel for the same person, or else the next step now."""
    from oncall.callouts import run_next_step_now

    other = Channel.VOICE if page.channel is Channel.SMS else Channel.SMS
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
    if all(p.status == "failed" for p in siblings):
        run_next_step_now(page.callout_id, after_step=page.step)


def record_status(
    sid: str, status: str | None, answered_by: str | None = None, error_code: str | None = None
) -> list[Page]:
    """A Twilio status callback (MessageStatus, CallStatus, AnsweredBy, ErrorCode) on every page of `sid`.

    Idempotent: a duplicate or late callback never moves a page back to an earlier status.
    """
    pages = list(session.scalars(select(Page).where(Page.twilio_sid == sid)))
    if answered_by and (answered_by.startswith("machine") or answered_by == "fax"):
        status = "machine"
    for page in pages:
        if answered_by:
            page.answered_by = answered_by
        if error_code and error_code != "0":
            page.error_code = error_code
        if status and _RANK.get(status, 5) >= _RANK.get(page.status, 0) and status != page.status:
            page.status = status
            if status in FAILED:
                add_event(
                    page.callout.ticket,
                    "page_failed",
                    _failure_text(page),
                    data={
                        "page": page.id,
                        "callout": page.callout_id,
                        "status": status,
                        "error": page.error_code,
                    },
                )
    session.commit()
    return pages


def _failure_text(page: Page) -> str:
    words = {
        "busy": "occupé",
        "no-answer": "pas de réponse",
        "failed": "échec",
        "canceled": "annulé",
        "machine": "répondeur",
        "undelivered": "non remis",
    }
    return f"{CHANNEL_WORD[page.channel]} vers {page.person.name} : {words.get(page.status, page.status)}" + (
        f" (erreur {page.error_code})" if page.error_code else ""
    )


def mark(pages: list[Page], status: str) -> None:
    """Our own outcome of a page call (declined), kept over Twilio's later statuses."""
    for page in pages:
        page.status = status


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

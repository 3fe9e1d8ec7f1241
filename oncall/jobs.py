"""RQ entry points of the on-call room: thin, they take ids, re-read the state, and do nothing when the
callout moved on (taken over, cancelled) by the time they run."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import select

import clock
from models import Callout, CalloutState, Channel, session
from oncall.load import current_org
from tickets.timeline import add_event

log = logging.getLogger(__name__)


def run_due_steps(callout_id: int) -> None:
    from oncall.callouts import run_due_steps as run

    run(callout_id)


def deliver_pages(person_id: str, channel: str) -> None:
    from oncall.paging import deliver

    deliver(person_id, Channel(channel))


def _is_mobile(number: str) -> bool:
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return False
    return kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def callback_of(callout: Callout) -> str | None:
    return callout.voicemail.callback_number or callout.voicemail.call.callback_number


def caller_gets_sms(callout: Callout) -> bool:
    """Whether the caller is told of the takeover by SMS (only a mobile callback number can be)."""
    number = callback_of(callout)
    return bool(number) and _is_mobile(number)  # type: ignore[arg-type]


def notify_caller(callout_id: int) -> None:
    """The caller's SMS: "pris en charge par Alice à 23:19" (once, to a mobile callback number)."""
    from oncall.takeover import first_name
    from voice.outbound import OutboundError, send_sms
    from voice.prompts import text

    callout = session.get(Callout, callout_id)
    if callout is None or callout.state is not CalloutState.TAKEN_OVER or callout.taken_over_at is None:
        return
    ticket = callout.ticket
    if any(e.kind == "caller_sms" and (e.data or {}).get("callout") == callout_id for e in ticket.events):
        return  # sent already (a duplicate job)
    number = callback_of(callout)
    if not number or not _is_mobile(number):
        add_event(
            ticket,
            "caller_sms",
            "Pas de SMS au client : le numéro de rappel n'est pas un mobile",
            data={"callout": callout_id, "sent": False},
        )
        session.commit()
        return
    org = current_org()
    lang = callout.voicemail.call.language or "fr"
    at = callout.taken_over_at.astimezone(org.timezone)
    body = text(
        "sms_caller_taken_over",
        lang,
        ticket=ticket.number,
        name=first_name(callout.taker),
        time=f"{at:%H:%M}",
    )
    try:
        sent = send_sms(number, body)
    except OutboundError as exc:
        log.warning("the caller's SMS for callout %s failed: %s", callout_id, exc)
        add_event(
            ticket,
            "caller_sms",
            f"SMS au client : échec ({exc.code or 'réseau'})",
            data={"callout": callout_id, "sent": False, "error": exc.code},
        )
        session.commit()
        return
    add_event(
        ticket,
        "caller_sms",
        f"SMS au client : « {body} »",
        data={"callout": callout_id, "sent": True, "sid": sent.sid, "at": clock.now().isoformat()},
    )
    session.commit()


def callers_not_told(now: datetime) -> list[int]:
    """Callouts taken over in the last hour whose caller SMS job never ran (Redis lost it, or was
    down at the takeover): what the sweeper sends. A minute's grace leaves the job its chance."""
    taken = session.scalars(
        select(Callout).where(
            Callout.state == CalloutState.TAKEN_OVER,
            Callout.taken_over_at >= now - timedelta(hours=1),
            Callout.taken_over_at <= now - timedelta(minutes=1),
        )
    )
    return [
        c.id
        for c in taken
        if not any(e.kind == "caller_sms" and (e.data or {}).get("callout") == c.id for e in c.ticket.events)
    ]

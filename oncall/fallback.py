"""Messages the support number's fallback recorded while astreinte could not answer (every host down),
found at the carrier afterwards (`voice/fallback.py`), kept as calls and voicemails, and paged.

The caller said their ticket number in the message; no PIN was checked. A caller whose number is a
contact of a client with exactly one open ticket the astreinte covers has that ticket: the message
opens its callout and pages like any other. Any other message is for the desk (agents review it in
the call log), and, after hours, the technician on call gets one SMS naming the caller. Once per
recording, whichever host finds it first (the recording's id is unique).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import Call, CallOutcome, Contact, Ticket, TicketStatus, Voicemail, VoicemailKind, session
from oncall.rota import who_is_on_call
from oncall.sending import text_once
from oncall.voicemails import deliver
from org.hours import is_business_hours
from org.load import current_org
from tickets.calls import caller_number, find_call, recall, remember
from tickets.eligibility import refusal
from words.caller import clock_time
from words.catalogue import text

log = logging.getLogger(__name__)

OPEN = [s for s in TicketStatus if s.is_open]


@dataclass(frozen=True)
class Recorded:
    """A message the carrier recorded for the support number, in domain words."""

    recording_sid: str
    call_sid: str
    from_number: str
    to_number: str
    url: str
    seconds: int | None
    at: datetime  # when the caller started speaking


def already_kept(recording_sids: list[str]) -> set[str]:
    """The recordings among these that are some call's message already."""
    if not recording_sids:
        return set()
    return set(
        session.scalars(select(Voicemail.recording_sid).where(Voicemail.recording_sid.in_(recording_sids)))
    )


def keep_message(rec: Recorded) -> Voicemail | None:
    """Keep this recording as its call's message and page for it. None when it is not a message of the
    fallback (a message recorded again, a call that left one already) or another host kept it first."""
    org = current_org()
    call = find_call(rec.call_sid)
    if call is None:
        call = Call(
            sid=rec.call_sid,
            from_number=rec.from_number[:32],
            to_number=rec.to_number[:32] or org.support_number,
            started_at=rec.at,
            ended_at=rec.at + timedelta(seconds=rec.seconds or 0),
            duration=rec.seconds,
            after_hours=not is_business_hours(org, rec.at),
            outcome=CallOutcome.IN_PROGRESS,
            status="completed",
            language=org.languages[0],
            step="fallback",
            tries=0,
            state={"fallback": True},
        )
        session.add(call)
    elif call.voicemail is not None or rec.recording_sid in recall(call, "replaced", []):
        return None  # the call's message is another recording: this one was recorded again
    else:  # astreinte answered the call, then failed during it: the fallback took the message
        remember(call, fallback=True)
        call.ended_at = call.ended_at or rec.at + timedelta(seconds=rec.seconds or 0)
    if not recall(call, "pin_ok"):  # nobody proved who they are: the ticket is the caller's only one
        ticket = _only_ticket(caller_number(call))
        call.ticket, call.client = ticket, (ticket.client if ticket else None)
    voicemail = Voicemail(
        call=call,
        kind=VoicemailKind.ASTREINTE if call.ticket is not None else VoicemailKind.DESK,
        ticket_id=call.ticket.id if call.ticket is not None else None,
        recording_sid=rec.recording_sid,
        recording_url=rec.url[:500],
        duration=rec.seconds,
        recording_status="completed",
        recorded_at=rec.at,
    )
    session.add(voicemail)
    try:
        session.commit()  # the claim: the recording's id and the call's are unique
    except IntegrityError:
        session.rollback()
        return None
    deliver(call, kept=True)
    if call.ticket is None and call.after_hours:
        _tell_on_call(call, rec)
    log.info("message recorded by the fallback kept (call %s, %s)", call.id, call.outcome)
    return voicemail


def _only_ticket(number: str | None) -> Ticket | None:
    """The one open ticket the astreinte covers of the clients this number is a contact of."""
    if number is None:
        return None
    clients = select(Contact.client_id).where(Contact.phone == number)
    tickets = session.scalars(select(Ticket).where(Ticket.client_id.in_(clients), Ticket.status.in_(OPEN)))
    org = current_org()
    covered = [t for t in tickets if refusal(t, org) is None]
    return covered[0] if len(covered) == 1 else None


def _who_called(call: Call, lang: str) -> str:
    """The client's contact by name, else the last four digits: who called, and nothing to dial."""
    number = caller_number(call)
    if number is None:
        return text("fallback_caller_withheld", lang)
    contact = session.scalar(select(Contact).where(Contact.phone == number).order_by(Contact.id).limit(1))
    if contact is not None:
        return text("fallback_caller_contact", lang, name=contact.name, client=contact.client.name)
    last = "".join(ch for ch in number if ch.isdigit())[-4:]
    return text("fallback_caller_number", lang, end=f"{last[:2]} {last[2:]}")


def _tell_on_call(call: Call, rec: Recorded) -> None:
    """One SMS to the technician on call: a message with no ticket waits for the desk, here is who."""
    org = current_org()
    person_id = who_is_on_call(org, rec.at).primary
    person = org.people.get(person_id) if person_id else None
    if person is None:
        log.warning("a fallback message (call %s) has nobody on call to tell", call.id)
        return
    body = text(
        "sms_fallback_message",
        person.language,
        caller=_who_called(call, person.language),
        time=clock_time(rec.at.astimezone(org.timezone)),
    )
    # Once per message; a failure is the outbox's to try again, like every message.
    text_once("fallback_message", person.phone, body, f"fallback:{call.id}", person.id)

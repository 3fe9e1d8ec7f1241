"""A caller's message, delivered: after hours it opens the callout and the caller gets an SMS receipt;
in business hours it waits for the desk. And the catch-up of what a failure left half-done.

A voicemail is never lost: the message is committed before anything else is tried, and the sweeper
finishes what a dead database, queue or worker interrupted.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

import clock
import tasks
from models import (
    Call,
    Callout,
    CallOutcome,
    CalloutState,
    OutgoingMessage,
    Ticket,
    TicketEvent,
    Voicemail,
    VoicemailKind,
    session,
)
from oncall import outbox, retries
from oncall.callouts import open_callout, start_paging
from oncall.sending import text_once
from org.load import current_org
from org.phones import mobile_number
from tickets.calls import caller_number, recall, seconds
from tickets.timeline import add_event
from words.caller import caller_sms, clock_time

log = logging.getLogger(__name__)


def end_call(call: Call, duration: str | None) -> None:
    """The call ended: its duration and end; a message left is delivered, and a call still in progress
    was abandoned at its step."""
    if (elapsed := seconds(duration)) is not None:
        call.duration = elapsed
    if call.ended_at is None:
        call.ended_at = clock.now()
    session.commit()  # the end is kept even if delivering the message fails below
    if recall(call, "for_desk"):
        deliver(call)  # a refused caller's message for the desk, left before hanging up
    elif call.outcome is CallOutcome.IN_PROGRESS:
        if deliver(call) is None:
            call.outcome, call.reason = CallOutcome.ABANDONED, call.step


def deliver(call: Call, kept: bool = False) -> Voicemail | None:
    """The caller's message is final: after hours it opens the callout, in business hours it waits
    for the desk. Returns the voicemail, or None when the call has no message (yet). Once only.
    `kept`: the recording was committed by an earlier request (nothing to commit before the callout:
    if it fails to open, the next callback or the sweeper delivers again from the same rows)."""
    voicemail = call.voicemail
    if voicemail is None or not voicemail.recording_sid:
        return None
    if call.outcome in (CallOutcome.VOICEMAIL, CallOutcome.DESK_MESSAGE):
        return voicemail
    voicemail.callback_number = call.callback_number or caller_number(call)
    if not kept:
        session.commit()  # never lost: kept even if the callout fails to open (a later callback retries)
    if not call.after_hours or call.ticket is None or recall(call, "for_desk"):
        # a message for the desk pages nobody; after a refusal the call log keeps why it was refused
        voicemail.kind = VoicemailKind.DESK
        call.outcome = CallOutcome.DESK_MESSAGE
        call.reason = call.reason if recall(call, "for_desk") else None
        session.commit()
        return voicemail
    ticket = call.ticket
    call.outcome, call.reason = CallOutcome.VOICEMAIL, None
    voicemail.kind, voicemail.ticket_id = VoicemailKind.ASTREINTE, ticket.id
    add_event(
        ticket,
        "voicemail",
        actor=call.from_number,
        data={
            "call": call.id,
            "voicemail": voicemail.id,
            "seconds": voicemail.duration or 0,
            "callback": voicemail.callback_number,
        },
    )
    callout = open_callout(voicemail)
    session.commit()
    try:
        start_paging(callout.id)
    except Exception:  # the message is kept and the callout open: the sweeper pages
        session.rollback()
        log.exception("paging of callout %s did not start; the sweeper will", callout.id)
    if receipt_number(call):
        tasks.enqueue(send_receipt, call.id)
    return voicemail


def receipt_number(call: Call) -> str | None:
    """Where the SMS receipt goes: the callback number or the caller ID, when it is a mobile."""
    return mobile_number(call.callback_number, call.from_number, region=current_org().region)


def receipt_topic(call_id: int) -> str:
    return f"receipt:{call_id}"


@tasks.job("send_receipt")
def send_receipt(call_id: int) -> None:
    """Job: the SMS receipt of a delivered message, once (the job or the sweeper, whichever comes
    first); the outbox tries it again after a temporary failure."""
    call = session.get(Call, call_id)
    if call is None or call.outcome is not CallOutcome.VOICEMAIL:
        return
    to = receipt_number(call)
    callout = (
        session.scalar(select(Callout).where(Callout.voicemail_id == call.voicemail.id))
        if call.voicemail is not None
        else None
    )
    if to is None or call.ticket is None or callout is None:
        return
    org = current_org()
    tz = org.timezone
    body = caller_sms(
        org,
        "caller.sms.receipt",
        call.language,
        number=call.ticket.number,
        time=clock_time(callout.opened_at.astimezone(tz)),
        due=clock_time(callout.due_at.astimezone(tz)),
    )
    text_once("receipt", to, body, receipt_topic(call.id))


# --- the takeover, told to the caller --------------------------------------------------------


def caller_gets_sms(callout: Callout) -> bool:
    """Whether the caller is told of the takeover by SMS: the same number as the receipt, a mobile."""
    return callout.voicemail is not None and receipt_number(callout.voicemail.call) is not None


@tasks.job("notify_caller")
def notify_caller(callout_id: int) -> None:
    """The caller's SMS: "pris en charge par Alice à 23:19" (once, to a mobile callback number)."""
    callout = session.get(Callout, callout_id)
    if callout is None or callout.state is not CalloutState.TAKEN_OVER or callout.taken_over_at is None:
        return
    if callout.voicemail is None:
        return  # opened by the ticket itself: nobody called, nobody waits for this SMS
    ticket = callout.ticket
    number = receipt_number(callout.voicemail.call)
    if _takeover_asked(callout_id, number) or any(_takeover_told(e, callout_id) for e in ticket.events):
        return  # sent already (a duplicate job)
    covered = _taken_over_with(callout, number)
    also = {"with": covered} if covered else {}
    if number is None:
        add_event(
            ticket,
            "caller_sms",
            data={"callout": callout_id, "sent": False, "not_mobile": True, **also},
        )
        session.commit()
        return
    org = current_org()
    lang = callout.voicemail.call.language or "fr"
    at = callout.taken_over_at.astimezone(org.timezone)
    body = caller_sms(
        org,
        "caller.sms.taken_over",
        lang,
        number=ticket.number,
        name=callout.taker.first_name if callout.taker else "?",
        time=f"{at:%H:%M}",
    )
    _text_caller(ticket, f"taken_over:{callout_id}", callout_id, number, body, **also)


def _taken_over_with(callout: Callout, number: str | None) -> list[int]:
    """The ticket's other callouts taken over in the same takeover whose caller has the same number:
    a caller who rang twice is told once."""
    others = session.scalars(
        select(Callout).where(
            Callout.ticket_id == callout.ticket_id,
            Callout.id != callout.id,
            Callout.state == CalloutState.TAKEN_OVER,
            Callout.taken_over_at == callout.taken_over_at,
            Callout.taken_over_by == callout.taken_over_by,
        )
    )
    return sorted(
        c.id for c in others if c.voicemail is not None and receipt_number(c.voicemail.call) == number
    )


def _text_caller(ticket: Ticket, topic: str, callout_id: int, number: str, body: str, **facts: Any) -> None:
    """Send the caller `body`, once for `topic`; the timeline tells what came of it once it is settled
    (sent, or failed for good after the outbox's tries: `_caller_told`)."""
    text_once("caller_sms", number, body, topic, None, ticket=ticket.id, callout=callout_id, **facts)


@retries.when_settled("caller_sms")
def _caller_told(message: OutgoingMessage) -> None:
    facts = message.details or {}
    ticket = session.get(Ticket, facts.get("ticket"))
    if ticket is None:
        return
    data: dict[str, object] = {"callout": facts.get("callout")}
    data.update({k: facts[k] for k in ("with", "breach") if facts.get(k)})
    if message.state in outbox.NOT_REACHED or not message.carrier_id:
        log.warning("the caller's SMS for callout %s failed: %s", facts.get("callout"), facts.get("error"))
        data.update(sent=False, error=facts.get("code"))
    else:
        data.update(sent=True, body=message.body, sid=message.carrier_id, at=clock.now().isoformat())
    add_event(ticket, "caller_sms", data=data)


def _takeover_asked(callout_id: int, number: str | None) -> bool:
    """The caller's takeover SMS of that callout was asked of the outbox (whatever became of it)."""
    return number is not None and retries.fate(f"taken_over:{callout_id}", "caller_sms", number) is not None


@tasks.job("notify_caller_breach")
def notify_caller_breach(callout_id: int) -> None:
    """The caller's SMS when the deadline passed with nobody: the case is escalated (003). Once, to the
    number of the receipt; nothing once someone took over."""
    callout = session.get(Callout, callout_id, populate_existing=True)
    if callout is None or callout.state is not CalloutState.PAGING or callout.breached_at is None:
        return
    ticket = callout.ticket
    if callout.voicemail is None:
        return
    number = receipt_number(callout.voicemail.call)
    if number is None:
        return  # not a mobile: the timeline already says the caller gets no SMS
    org = current_org()
    body = caller_sms(
        org,
        "caller.sms.escalated",
        callout.voicemail.call.language or "fr",
        number=ticket.number,
        due=clock_time(callout.due_at.astimezone(org.timezone)),
    )
    _text_caller(ticket, f"breach:{callout_id}", callout_id, number, body, breach=True)


def callers_not_told(now: datetime) -> list[int]:
    """Callouts taken over in the last hour whose caller SMS job never ran (Redis lost it, or was
    down at the takeover): what the sweeper sends. A minute's grace leaves the job its chance."""
    taken = session.scalars(
        select(Callout).where(
            Callout.state == CalloutState.TAKEN_OVER,
            Callout.taken_over_at >= now - timedelta(hours=1),
            Callout.taken_over_at <= now - timedelta(minutes=1),
        )
    ).all()
    if not taken:
        return []
    asked: set[int] = set()
    for message in session.scalars(
        select(OutgoingMessage).where(
            OutgoingMessage.kind == "caller_sms", OutgoingMessage.created_at >= now - timedelta(hours=2)
        )
    ):
        facts = message.details or {}
        if str(facts.get("topic", "")).startswith("taken_over:"):
            asked.add(int(facts.get("callout") or 0))
            asked.update(int(i) for i in facts.get("with") or [])
    return [
        c.id for c in taken if c.id not in asked and not any(_takeover_told(e, c.id) for e in c.ticket.events)
    ]


def _takeover_told(event: TicketEvent, callout_id: int) -> bool:
    """Is this the caller's takeover SMS of that callout (not the one saying the deadline passed), sent
    for it or for another message of the same caller taken over with it?"""
    data = event.data or {}
    about = data.get("callout") == callout_id or callout_id in (data.get("with") or [])
    return event.kind == "caller_sms" and about and not data.get("breach")


# --- catching up (the sweeper) ------------------------------------------------------------------

RECEIPT_WINDOW = timedelta(hours=1)  # a receipt later than this would only confuse the caller
SETTLE = timedelta(minutes=1)  # leave the webhooks and the first job their chance first


def catch_up(now: datetime) -> int:
    """Finish what a failure left half-done: a kept message whose callout never opened (the database
    or the on-call room failed at that moment), a receipt that never left (Redis was down). Returns
    how many messages were delivered."""
    delivered = 0
    for call_id in _undelivered(now):
        call = session.get(Call, call_id)
        try:
            if call is not None and deliver(call) is not None:
                delivered += 1
                log.info("message of call %s delivered by the sweeper", call_id)
        except Exception:  # noqa: BLE001 - the next sweep tries again; the message stays kept
            session.rollback()
            log.exception("message of call %s still not delivered", call_id)
    for call_id in _receipts_due(now):
        send_receipt(call_id)
    return delivered


def _undelivered(now: datetime) -> list[int]:
    delivered = (CallOutcome.VOICEMAIL, CallOutcome.DESK_MESSAGE)
    return list(
        session.scalars(
            select(Call.id)
            .join(Voicemail, Voicemail.call_id == Call.id)
            .outerjoin(Callout, Callout.voicemail_id == Voicemail.id)
            .where(
                Voicemail.recording_sid.is_not(None),
                Callout.id.is_(None),
                Call.outcome.not_in(delivered),
                (Call.ended_at <= now - SETTLE) | (Voicemail.recorded_at <= now - 30 * SETTLE),
            )
        )
    )


def _receipts_due(now: datetime) -> list[int]:
    """Recent messages whose receipt was never asked of the outbox (its job was lost)."""
    recent = session.scalars(
        select(Call).where(
            Call.outcome == CallOutcome.VOICEMAIL,
            Call.started_at >= now - RECEIPT_WINDOW,
            Call.ended_at <= now - SETTLE,
        )
    ).all()
    if not recent:
        return []
    asked = set(
        session.scalars(
            select(OutgoingMessage.details["topic"].as_string()).where(
                OutgoingMessage.kind == "receipt", OutgoingMessage.created_at >= now - 2 * RECEIPT_WINDOW
            )
        )
    )
    return [c.id for c in recent if receipt_topic(c.id) not in asked and receipt_number(c)]

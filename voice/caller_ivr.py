"""The after-hours IVR, one step at a time: greeting → ticket number → PIN (the ticket number read
back inside the question) → eligibility → callback number → recording notice and message →
confirmation. A caller who knows ticket and PIN reaches the beep in 2 key sequences (3 with another
callback number) and under 45 s of prompts (`docs/design.md`, the keypad grammar).

One keypad grammar (DESIGN): `#` ends an entry, `*` goes back one step, `1` confirms, `2` changes,
`9` at the greeting switches to English; silence at a confirmation confirms. Each question allows
3 tries, then the call ends with the reason and the way forward: the portal, and a message for the
desk where the astreinte cannot take the call. Nothing about the ticket is said before the right PIN.

Every answer is kept on the call (`voice/answers.py`): a request Twilio sends twice gets it again.
"""

from __future__ import annotations

from collections.abc import Callable

from twilio.twiml.voice_response import VoiceResponse

import clock
import tasks
from models import Call, RefusalReason, TicketStatus
from oncall import live
from oncall.callouts import last_taken_over
from oncall.links import absolute_url
from oncall.pin_alerts import tell_of_pin_lock
from oncall.takeover import first_name
from oncall.voicemails import deliver, receipt_number
from org.load import current_org
from org.phones import e164, is_callable, parse_number
from org.pins import check_pin
from tickets.calls import caller_number, keep_recording, recall, refuse, remember
from tickets.eligibility import contested, refusal
from tickets.pins import (
    Gate,
    clear_failures,
    gate,
    locked_until,
    record_failure,
    reserve_attempt,
    watch_failure,
)
from tickets.service import find_ticket
from tickets.timeline import add_event
from voice import live_dial
from voice.answers import kept, next_seq, record_message, retention_days
from voice.caller_prompts import (
    QUESTIONS,
    Before,
    open_first,
    own_callback,
    refusal_values,
    says,
    welcome_values,
)
from voice.twiml import say
from words.caller import named, portal_said, spoken_delay, spoken_number
from words.catalogue import digits

MAX_TRIES = 3
TICKET_DIGITS = (4, 12)
ENTRY_TIMEOUT = 7  # seconds of silence before a <Gather> gives up
CONFIRM_TIMEOUT = 5
CALLBACK_PAUSE = 3  # the short pause after the callback number: silence keeps it


ENTRIES = ("greeting", "ticket", "pin", "callback_key")
CONFIRMATIONS = ("live_offer", "callback", "callback_confirm", "message_confirm")
# Refusals that leave a way forward on the line itself: a message for the desk (it pages nobody).
DESK_OFFER = frozenset(
    {
        RefusalReason.NO_ASTREINTE_OPTION,
        RefusalReason.SERVICE_NOT_COVERED,
        RefusalReason.PRIORITY_WAITS,
        RefusalReason.LOCKED,
        RefusalReason.BAD_PIN,
    }
)
STEPS = (*ENTRIES, *CONFIRMATIONS, "record")


# --- asking, and ending -------------------------------------------------------------------------


def ask(call: Call, step: str, before: Before | None = None) -> VoiceResponse:
    """Say `before`, then ask the question of `step`."""
    if step != call.step:
        call.tries = 0
    call.step = step
    n = next_seq(call)
    r = VoiceResponse()
    says(r, call, before or [])
    url = absolute_url("caller.step", step=step, n=n)
    if step == "record":
        say(r, "caller.notice", call.language, days=retention_days())
        record_message(r, absolute_url("caller.recorded", n=n))
        say(r, "caller.no_message", call.language)  # no audio: Twilio skips the action, comes here
    else:
        confirmation = step in CONFIRMATIONS
        gather = r.gather(
            input="dtmf",
            action=url,
            method="POST",
            finish_on_key="#",
            timeout=CALLBACK_PAUSE
            if step == "callback"
            else CONFIRM_TIMEOUT
            if confirmation
            else ENTRY_TIMEOUT,
            num_digits=1 if confirmation else None,
            action_on_empty_result=True,
        )
        QUESTIONS[step](gather, call)
    r.redirect(url, method="POST")  # whatever happens, the step hears about it (as silence)
    return kept(call, r)


def end(call: Call, reason: RefusalReason, before: Before | None = None) -> VoiceResponse:
    """Refuse the call: say why and what to do next, then hang up politely. Where the astreinte cannot
    take the call, the caller may first leave a message for the desk (no page; in the call log)."""
    refuse(call, reason)
    call.step = "refused"
    n = next_seq(call)
    r = VoiceResponse()
    says(r, call, before or [])
    locked = locked_until(_gate(call)) if reason is RefusalReason.LOCKED else None
    say(r, f"caller.refused.{reason.value}", call.language, **refusal_values(call, reason, locked))
    if reason in DESK_OFFER:
        call.step = "desk_message"
        remember(call, for_desk=True)
        say(
            r,
            "caller.desk_offer",
            call.language,
            portal=portal_said(current_org(), call.language),
            days=retention_days(),
        )
        record_message(r, absolute_url("caller.desk_recorded", n=n))
    say(r, "caller.goodbye", call.language)
    r.hangup()
    return kept(call, r)


def greeting(call: Call) -> VoiceResponse:
    return ask(call, "greeting")


# --- what the caller's keys do ------------------------------------------------------------------


def answer(call: Call, step: str, keys: str | None) -> VoiceResponse:
    """The caller's answer to `step`: keys, or silence (None or empty)."""
    if not _ready(call, step):
        return ask(call, "greeting")  # a step out of order: start again from the top
    if not keys:
        if step in CONFIRMATIONS:
            return CONFIRMED[step](call)  # silence at a confirmation confirms
        if step in ("greeting", "ticket"):  # maybe no ticket at all: say at once what this line is for
            return retry(call, step, "caller.nothing_heard", RefusalReason.NO_INPUT, also=open_first(call))
        return retry(call, step, None if step == "record" else "caller.nothing_heard", RefusalReason.NO_INPUT)
    if "*" in keys:
        return back(call, step)
    if step == "live_offer":  # 1 talks now; any other key, like silence, leaves a message
        return _talk_now(call) if keys == "1" else _message_path(call)
    if step == "callback" and keys == "3" and recall(call, "may_escalate"):
        remember(call, escalate=True)  # the callout of this message escalates at once
        return _use_callback(call, own_callback(call), [("caller.escalation_noted", {})])
    if step in CONFIRMATIONS:
        if keys == "1":
            return CONFIRMED[step](call)
        if keys == "2":
            return CHANGED[step](call)
        return retry(call, step, "caller.not_understood", RefusalReason.NO_INPUT)
    return ENTERED[step](call, keys)


def retry(
    call: Call,
    step: str,
    key: str | None,
    reason: RefusalReason,
    also: Before | None = None,
    **values: object,
) -> VoiceResponse:
    """Ask again after silence or a wrong entry; the third time, end the call with `reason`."""
    before: Before = [(key, values)] if key else []
    call.tries += 1
    if call.tries < MAX_TRIES:
        before += also or []
    if call.tries >= MAX_TRIES:
        if step in CONFIRMATIONS:
            return CONFIRMED[step](call)  # never a "no": like silence, it confirms (and keeps the message)
        if step == "callback_key" and (own := own_callback(call)):  # their caller ID still reaches them
            said = spoken_number(own, current_org().region, call.language)
            return _use_callback(call, own, [*before, ("caller.callback_kept", {"digits": said})])
        return end(call, reason, before)
    if step == "record" and call.voicemail is not None and call.voicemail.recording_sid:
        return ask(call, "message_confirm", before)  # they had recorded one already: keep it?
    return ask(call, step, before)


def back(call: Call, step: str) -> VoiceResponse:
    """`*`: one step back."""
    previous = {
        "greeting": "greeting",
        "ticket": "greeting",
        "pin": "ticket",
        "live_offer": "pin",
        "callback": "pin",
        "callback_key": "callback" if own_callback(call) else "pin",
        "callback_confirm": "callback_key",
        "message_confirm": "record",
        "record": "callback",
    }[step]
    if previous in ("pin", "ticket", "greeting"):
        remember(call, pin_ok=False)
    return ask(call, previous)


def _ready(call: Call, step: str) -> bool:
    """What a step needs from the earlier ones (a request out of order starts again)."""
    if not call.after_hours:
        return False
    if step == "pin":
        return call.ticket_id is not None
    if step not in READY_AFTER_PIN:
        return True
    return bool(recall(call, "pin_ok")) and READY_AFTER_PIN[step](call)  # only this step's (no lazy loads)


READY_AFTER_PIN: dict[str, Callable[[Call], bool]] = {
    "callback": lambda call: own_callback(call) is not None,
    "callback_key": lambda call: True,
    "live_offer": lambda call: True,
    "callback_confirm": lambda call: bool(recall(call, "callback_candidate")),
    "record": lambda call: bool(call.callback_number),
    "message_confirm": lambda call: call.voicemail is not None,
}


def _ticket_entered(call: Call, keys: str) -> VoiceResponse:
    if call.step == "greeting" and keys == "9" and "en" in current_org().languages:
        call.language = "en"
        org = current_org()  # the welcome they could not follow
        return ask(call, "ticket", [(named("caller.welcome", org), welcome_values(org, "en"))])
    low, high = TICKET_DIGITS
    if not keys.isdigit() or not low <= len(keys) <= high:
        reason = RefusalReason.UNKNOWN_TICKET  # keys, not silence: the end says how to get a ticket
        # The step asked for the ticket; a call whose greeting was never logged (a late or
        # out-of-order request) is asked for it again, not for a step it never reached.
        step = call.step if call.step in ("greeting", "ticket") else "ticket"
        return retry(call, step, "caller.bad_ticket", reason, min=low, max=high)
    call.entered_ticket = keys
    ticket = find_ticket(keys)
    if ticket is None:  # a slip of the finger at 3 a.m. is bad input: key it again, 3 tries
        call.ticket, call.client = None, None
        misses = int(recall(call, "unknown_tickets", 0)) + 1
        remember(call, unknown_tickets=misses)
        before: Before = [("caller.unknown_ticket", {"digits": digits(keys, call.language)})]
        if misses >= MAX_TRIES:
            return end(call, RefusalReason.UNKNOWN_TICKET, before)
        return ask(call, "ticket", before + open_first(call))
    call.ticket, call.client = ticket, ticket.client
    return ask(call, "pin")  # the number is read back in the PIN question; `*` corrects it


def _gate(call: Call) -> Gate:
    assert call.client is not None
    contacts = {contact.phone for contact in call.client.contacts if contact.phone}
    return gate(call.client.account, caller_number(call), contacts, call.id)


def _pin_entered(call: Call, keys: str) -> VoiceResponse:
    assert call.ticket is not None and call.client is not None
    held = _gate(call)
    if not reserve_attempt(held):  # counted before the slow comparison: exact under concurrency
        return end(call, RefusalReason.LOCKED)  # whether the PIN was right stays unsaid
    remember(call, pins_compared=int(recall(call, "pins_compared", 0)) + 1)  # the call log's audit
    if not check_pin(call.client, keys):
        if record_failure(held):
            tasks.enqueue(tell_of_pin_lock, call.id)  # the supervisor knows of the lock tonight
            return end(call, RefusalReason.LOCKED)
        if watch_failure(held):  # wrong PINs behind the client's own number: maybe a forged one
            tasks.enqueue(tell_of_pin_lock, call.id, False)
        return retry(call, "pin", "caller.wrong_pin", RefusalReason.BAD_PIN)
    clear_failures(held)
    remember(call, pin_ok=True)
    reason = refusal(call.ticket, current_org())
    if reason is not None:
        return end(call, reason)
    add_event(
        call.ticket,
        "call",
        actor=call.from_number,
        data={"call": call.id, "number": call.from_number},
    )
    before: Before = [("caller.pin_ok", {})]
    if contested(call.ticket, current_org()):
        closed = call.ticket.status is TicketStatus.CLOSED
        before.append(("caller.contest_closed" if closed else "caller.contest", {}))
    elif (taken := last_taken_over(call.ticket)) is not None and taken.taken_over_at is not None:
        at = taken.taken_over_at.astimezone(current_org().timezone)
        remember(call, may_escalate=True)
        said: dict[str, object] = {"name": first_name(taken.taker), "time": f"{at.hour} h {at.minute:02d}"}
        before.append(("caller.already_taken", said))
    elif live.offered(current_org(), call, clock.now()):  # an urgent ticket: talk now, or a message
        return ask(call, "live_offer", before)
    return _message_path(call, before)


def _message_path(call: Call, before: Before | None = None) -> VoiceResponse:
    """After the PIN (or when nobody took the live call): the callback number, then the message."""
    return ask(call, "callback" if own_callback(call) else "callback_key", before)


def _talk_now(call: Call) -> VoiceResponse:
    """1 at the offer: tonight's chain is rung, level by level (`voice/live.py` takes it from there)."""
    org = current_org()
    level = live.start(org, call)
    if level is None:  # the rota emptied since the offer
        return _message_path(call)
    call.step = "live"
    return kept(call, live_dial.dial(call, org, level, next_seq(call)))


def _callback_entered(call: Call, keys: str) -> VoiceResponse:
    number = parse_number(keys, current_org().region)
    if number is not None and not is_callable(number):
        return retry(call, "callback_key", "caller.uncallable_callback", RefusalReason.NO_CALLBACK_NUMBER)
    if number is None:
        return retry(call, "callback_key", "caller.invalid_callback", RefusalReason.NO_CALLBACK_NUMBER)
    remember(call, callback_candidate=e164(number))
    return ask(call, "callback_confirm")


def _use_callback(call: Call, number: str | None, before: Before | None = None) -> VoiceResponse:
    call.callback_number = number
    return ask(call, "record", before)


def _message_confirmed(call: Call) -> VoiceResponse:
    if call.voicemail is None or not call.voicemail.recording_sid:
        return ask(call, "record")  # nothing recorded: deliver() would keep nothing either
    assert call.ticket is not None
    # The answer first, then deliver(): the call's new step and the callout go in one commit.
    call.step = "done"
    next_seq(call)
    r = VoiceResponse()
    say(
        r,
        "caller.message_sent",
        call.language,
        digits=digits(call.ticket.number, call.language),
        delay=spoken_delay(current_org().takeover, call.language),
    )
    if receipt_number(call):
        say(r, "caller.sms_coming", call.language)
    say(r, "caller.goodbye", call.language)
    r.hangup()
    kept(call, r)
    deliver(call, kept=True)  # recorded by the <Record> action's request, committed then
    return r


def _record_again(call: Call) -> VoiceResponse:
    return ask(call, "record")


ENTERED: dict[str, Callable[[Call, str], VoiceResponse]] = {
    "greeting": _ticket_entered,
    "ticket": _ticket_entered,
    "pin": _pin_entered,
    "callback_key": _callback_entered,
    "record": lambda call, keys: retry(call, "record", None, RefusalReason.NO_INPUT),
}
CONFIRMED: dict[str, Callable[[Call], VoiceResponse]] = {
    "live_offer": _message_path,
    "callback": lambda call: _use_callback(call, own_callback(call)),
    "callback_confirm": lambda call: _use_callback(call, recall(call, "callback_candidate")),
    "message_confirm": _message_confirmed,
}
CHANGED: dict[str, Callable[[Call], VoiceResponse]] = {
    "live_offer": _message_path,
    "callback": lambda call: ask(call, "callback_key"),
    "callback_confirm": lambda call: ask(call, "callback_key"),
    "message_confirm": _record_again,
}


# --- the message --------------------------------------------------------------------------------


def recorded(call: Call, sid: str, url: str | None, duration: str | None, key: str | None) -> VoiceResponse:
    """The <Record> action: the message is kept; a caller who hung up has left it."""
    if not sid or not _ready(call, "record"):
        return answer(call, "record", None)
    keep_recording(call, sid, url, duration)
    if key == "hangup" or call.ended_at is not None:  # gone (even if the status came first)
        deliver(call)
        return VoiceResponse()  # Twilio does not execute it: the caller is gone
    return ask(call, "message_confirm")

"""The after-hours IVR, one step at a time: greeting → ticket number → PIN → eligibility →
callback number → recording notice and message → confirmation.

One keypad grammar (DESIGN): `#` ends an entry, `*` goes back one step, `1` confirms, `2` changes,
`9` at the greeting switches to English; silence at a confirmation confirms. Each question allows
3 tries, then the call ends with the reason. Nothing about the ticket is said before the right PIN.

Every answer carries a sequence number (`n`) in its URLs and is kept on the call: a request Twilio
sends twice (or late) gets the same answer again and changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from twilio.twiml.voice_response import VoiceResponse

import clock
from models import Call, RefusalReason
from oncall.links import absolute_url
from oncall.voicemails import deliver, receipt_number
from org.load import current_org
from org.phones import e164, parse_number
from org.pins import check_pin
from tickets.calls import caller_number, keep_recording, recall, refuse, remember
from tickets.eligibility import find_ticket, refusal
from tickets.pins import clear_failures, lock_keys, locked_until, record_failure
from tickets.timeline import add_event
from voice.twiml import say
from words.caller import desk_reopens, spoken_delay, spoken_number
from words.catalogue import CATALOGUE, digits, text

MAX_TRIES = 3
TICKET_DIGITS = (4, 12)
ENTRY_TIMEOUT = 7  # seconds of silence before a <Gather> gives up
CONFIRM_TIMEOUT = 5
RECORD_MAX_SECONDS = 180


def record_message(r: VoiceResponse, action: str) -> None:
    """The <Record> of a message, night or desk: `#` ends it, the recording callback keeps it even
    when the caller hangs up before the action comes back."""
    r.record(
        action=action,
        method="POST",
        max_length=RECORD_MAX_SECONDS,
        timeout=10,
        finish_on_key="#",
        play_beep=True,
        recording_status_callback=absolute_url("caller.recording"),
        recording_status_callback_method="POST",
    )


ENTRIES = ("greeting", "ticket", "pin", "callback_key")
CONFIRMATIONS = ("ticket_confirm", "callback", "callback_confirm", "message_confirm")
STEPS = (*ENTRIES, *CONFIRMATIONS, "record")

Before = list[tuple[str, dict[str, object]]]


# --- answers ------------------------------------------------------------------------------------


def is_current(call: Call, n: str | None) -> bool:
    """Is this request an answer to the last thing we said? (Otherwise: a retry, or a late one.)"""
    return n is not None and n == str(recall(call, "seq", 0))


def saved_answer(call: Call) -> str | None:
    return recall(call, "twiml")


def next_seq(call: Call) -> int:
    n = int(recall(call, "seq", 0)) + 1
    remember(call, seq=n)
    return n


def kept(call: Call, r: VoiceResponse) -> VoiceResponse:
    remember(call, twiml=str(r))
    return r


def _says(r: VoiceResponse, call: Call, before: Before) -> None:
    for key, values in before:
        say(r, key, call.language, **values)


def ask(call: Call, step: str, before: Before | None = None) -> VoiceResponse:
    """Say `before`, then ask the question of `step`."""
    if step != call.step:
        call.tries = 0
    call.step = step
    n = next_seq(call)
    r = VoiceResponse()
    _says(r, call, before or [])
    url = absolute_url("caller.step", step=step, n=n)
    if step == "record":
        say(r, "caller.notice", call.language, days=_retention_days())
        record_message(r, absolute_url("caller.recorded", n=n))
        say(r, "caller.no_message", call.language)  # no audio: Twilio skips the action, comes here
    else:
        confirmation = step in CONFIRMATIONS
        gather = r.gather(
            input="dtmf",
            action=url,
            method="POST",
            finish_on_key="#",
            timeout=CONFIRM_TIMEOUT if confirmation else ENTRY_TIMEOUT,
            num_digits=1 if confirmation else None,
            action_on_empty_result=True,
        )
        QUESTIONS[step](gather, call)
    r.redirect(url, method="POST")  # whatever happens, the step hears about it (as silence)
    return kept(call, r)


def end(call: Call, reason: RefusalReason, before: Before | None = None) -> VoiceResponse:
    """Refuse the call: say why and what to do next, then hang up politely."""
    refuse(call, reason)
    call.step = "refused"
    next_seq(call)
    r = VoiceResponse()
    _says(r, call, before or [])
    say(r, f"caller.refused.{reason.value}", call.language, **_refusal_values(call, reason))
    say(r, "caller.goodbye", call.language)
    r.hangup()
    return kept(call, r)


def _refusal_values(call: Call, reason: RefusalReason) -> dict[str, object]:
    org = current_org()
    now = clock.now().astimezone(org.timezone)
    values: dict[str, object] = {
        "portal": text("caller.portal", call.language),
    }
    if reason is RefusalReason.LOCKED:
        until = locked_until(_lock_keys(call)) or now
        left = max(1, math.ceil((until - now).total_seconds() / 60))
        values["delay"] = spoken_delay(timedelta(minutes=left), call.language)
    if "{reopens}" in CATALOGUE[f"caller.refused.{reason.value}"]["fr"]:
        values["reopens"] = desk_reopens(org, now, call.language)
    return values


def greeting(call: Call) -> VoiceResponse:
    return ask(call, "greeting")


# --- what each step asks ------------------------------------------------------------------------


def _q_greeting(g: VoiceResponse, call: Call) -> None:
    say(g, "caller.welcome", call.language)
    if call.language == "fr" and "en" in current_org().languages:
        say(g, "caller.english", "en")
    say(g, "caller.ask_ticket", call.language)


def _say_number(g: VoiceResponse, call: Call, key: str, number: str) -> None:
    say(g, key, call.language, digits=spoken_number(number, current_org().region, call.language))


QUESTIONS: dict[str, Callable[[VoiceResponse, Call], None]] = {
    "greeting": _q_greeting,
    "ticket": lambda g, call: say(g, "caller.ask_ticket", call.language),
    "ticket_confirm": lambda g, call: say(
        g, "caller.read_ticket", call.language, digits=digits(call.entered_ticket or "", call.language)
    ),
    "pin": lambda g, call: say(g, "caller.ask_pin", call.language),
    "callback": lambda g, call: _say_number(g, call, "caller.offer_callback", caller_number(call) or ""),
    "callback_key": lambda g, call: say(g, "caller.ask_callback", call.language),
    "callback_confirm": lambda g, call: _say_number(
        g, call, "caller.read_callback", recall(call, "callback_candidate", "")
    ),
    "message_confirm": lambda g, call: say(g, "caller.confirm_message", call.language),
}


# --- what the caller's keys do ------------------------------------------------------------------


def answer(call: Call, step: str, keys: str | None) -> VoiceResponse:
    """The caller's answer to `step`: keys, or silence (None or empty)."""
    if not _ready(call, step):
        return ask(call, "greeting")  # a step out of order: start again from the top
    if not keys:
        if step in CONFIRMATIONS:
            return CONFIRMED[step](call)  # silence at a confirmation confirms
        return retry(call, step, None if step == "record" else "caller.nothing_heard", RefusalReason.NO_INPUT)
    if "*" in keys:
        return back(call, step)
    if step in CONFIRMATIONS:
        if keys == "1":
            return CONFIRMED[step](call)
        if keys == "2":
            return CHANGED[step](call)
        return retry(call, step, "caller.not_understood", RefusalReason.NO_INPUT)
    return ENTERED[step](call, keys)


def retry(call: Call, step: str, key: str | None, reason: RefusalReason, **values: object) -> VoiceResponse:
    """Ask again after silence or a wrong entry; the third time, end the call with `reason`."""
    before: Before = [(key, values)] if key else []
    call.tries += 1
    if call.tries >= MAX_TRIES:
        if step in CONFIRMATIONS:
            return CONFIRMED[step](call)  # never a "no": like silence, it confirms (and keeps the message)
        if step == "callback_key" and (own := caller_number(call)):  # their caller ID still reaches them
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
        "ticket_confirm": "ticket",
        "pin": "ticket",
        "callback": "pin",
        "callback_key": "callback" if caller_number(call) else "pin",
        "callback_confirm": "callback_key",
        "message_confirm": "record",
        "record": "callback",
    }[step]
    if previous in ("pin", "ticket", "greeting"):
        remember(call, pin_ok=False)
    return ask(call, previous)


def _ready(call: Call, step: str) -> bool:
    """What a step needs from the earlier ones (a request out of order starts again)."""
    pin_ok = bool(recall(call, "pin_ok"))
    return {
        "ticket_confirm": bool(call.entered_ticket),
        "pin": call.ticket_id is not None,
        "callback": pin_ok and caller_number(call) is not None,
        "callback_key": pin_ok,
        "callback_confirm": pin_ok and bool(recall(call, "callback_candidate")),
        "record": pin_ok and bool(call.callback_number),
        "message_confirm": pin_ok and call.voicemail is not None,
    }.get(step, True) and call.after_hours


def _ticket_entered(call: Call, keys: str) -> VoiceResponse:
    if call.step == "greeting" and keys == "9" and "en" in current_org().languages:
        call.language = "en"
        return ask(call, "ticket", [("caller.welcome", {})])  # the welcome they could not follow
    low, high = TICKET_DIGITS
    if not keys.isdigit() or not low <= len(keys) <= high:
        reason = RefusalReason.UNKNOWN_TICKET  # keys, not silence: the end says how to get a ticket
        return retry(call, call.step, "caller.bad_ticket", reason, min=low, max=high)
    call.entered_ticket = keys
    return ask(call, "ticket_confirm")


def _ticket_confirmed(call: Call) -> VoiceResponse:
    ticket = find_ticket(call.entered_ticket or "")
    if ticket is None:  # a slip of the finger at 3 a.m. is bad input: key it again, 3 tries
        call.ticket, call.client = None, None
        misses = int(recall(call, "unknown_tickets", 0)) + 1
        remember(call, unknown_tickets=misses)
        before: Before = [
            ("caller.unknown_ticket", {"digits": digits(call.entered_ticket or "", call.language)})
        ]
        if misses >= MAX_TRIES:
            return end(call, RefusalReason.UNKNOWN_TICKET, before)
        return ask(call, "ticket", before)
    call.ticket, call.client = ticket, ticket.client
    return ask(call, "pin")


def _lock_keys(call: Call) -> list[str]:
    return lock_keys(call.client.account if call.client else None, caller_number(call))


def _pin_entered(call: Call, keys: str) -> VoiceResponse:
    assert call.ticket is not None and call.client is not None
    locks = _lock_keys(call)
    if locked_until(locks) is not None:
        return end(call, RefusalReason.LOCKED)  # whether the PIN was right stays unsaid
    if not check_pin(call.client, keys):
        if record_failure(locks):
            return end(call, RefusalReason.LOCKED)
        return retry(call, "pin", "caller.wrong_pin", RefusalReason.BAD_PIN)
    clear_failures(locks)
    remember(call, pin_ok=True)
    reason = refusal(call.ticket, current_org())
    if reason is not None:
        return end(call, reason)
    add_event(
        call.ticket,
        "call",
        f"appel d'astreinte depuis {call.from_number}",
        actor=call.from_number,
        data={"call": call.id},
    )
    before: Before = [
        (
            "caller.pin_ok",
            {"digits": digits(call.ticket.number, call.language), "subject": call.ticket.subject},
        )
    ]
    return ask(call, "callback" if caller_number(call) else "callback_key", before)


def _callback_entered(call: Call, keys: str) -> VoiceResponse:
    number = parse_number(keys, current_org().region)
    if number is None:
        return retry(call, "callback_key", "caller.invalid_callback", RefusalReason.NO_CALLBACK_NUMBER)
    remember(call, callback_candidate=e164(number))
    return ask(call, "callback_confirm")


def _use_callback(call: Call, number: str | None, before: Before | None = None) -> VoiceResponse:
    call.callback_number = number
    return ask(call, "record", before)


def _message_confirmed(call: Call) -> VoiceResponse:
    voicemail = deliver(call)
    if voicemail is None:
        return ask(call, "record")
    assert call.ticket is not None
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
    return kept(call, r)


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
    "ticket_confirm": _ticket_confirmed,
    "callback": lambda call: _use_callback(call, caller_number(call)),
    "callback_confirm": lambda call: _use_callback(call, recall(call, "callback_candidate")),
    "message_confirm": _message_confirmed,
}
CHANGED: dict[str, Callable[[Call], VoiceResponse]] = {
    "ticket_confirm": lambda call: ask(call, "ticket"),
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


def _retention_days() -> int:
    return int(current_app.config["RECORDING_RETENTION_DAYS"])

"""Business hours: the call goes to the service desk (`<Dial>`, `desk_ring`); when nobody answers,
the caller leaves a message for the desk, which pages nobody."""

from __future__ import annotations

from flask import current_app
from twilio.twiml.voice_response import VoiceResponse

from models import Call, CallOutcome
from oncall.links import absolute_url
from oncall.voicemails import deliver
from org.orgfile import Org
from tickets.calls import caller_number, keep_recording
from voice.answers import kept, next_seq, record_message
from voice.twiml import say
from words.caller import named

ANSWERED = ("completed", "answered")


def forward(call: Call, org: Org) -> VoiceResponse:
    """Ring the desk numbers together for `desk_ring`, showing the caller's own number.

    A withheld or invalid caller ID is replaced by the support number: passed on as is, the desk's
    carrier may reject the leg (Twilio warning 13214) and the caller would never reach the desk."""
    if not org.desk_numbers:
        return take_message(call)
    call.step = "desk"
    n = next_seq(call)
    r = VoiceResponse()
    say(r, named("caller.desk.connecting", org), call.language, name=org.name)
    dial = r.dial(
        action=absolute_url("caller.desk_dialled", n=n),
        method="POST",
        timeout=int(org.desk_ring.total_seconds()),
        caller_id=caller_number(call) or org.support_number,
    )
    for number in org.desk_numbers:
        dial.number(number)
    return kept(call, r)


def dialled(call: Call, status: str) -> VoiceResponse:
    """The <Dial> action: the desk answered, or the caller may leave a message."""
    if status in ANSWERED:
        call.outcome, call.reason = CallOutcome.FORWARDED, None
        call.step = "forwarded"
        next_seq(call)
        r = VoiceResponse()
        r.hangup()
        return kept(call, r)
    return take_message(call)


def take_message(call: Call) -> VoiceResponse:
    call.step = "desk_message"
    n = next_seq(call)
    r = VoiceResponse()
    days = int(current_app.config["RECORDING_RETENTION_DAYS"])
    say(r, "caller.desk.unavailable", call.language, days=days)
    record_message(r, absolute_url("caller.desk_recorded", n=n))
    say(r, "caller.goodbye", call.language)  # no audio: no message, the call ends
    r.hangup()
    return kept(call, r)


def recorded(call: Call, sid: str, url: str | None, duration: str | None) -> VoiceResponse:
    """The desk message is kept (even when the caller hung up after the beep)."""
    r = VoiceResponse()
    if sid:
        keep_recording(call, sid, url, duration)
        deliver(call)
        say(r, "caller.desk.thanks", call.language)
    else:
        say(r, "caller.goodbye", call.language)
    call.step = "desk_done"
    next_seq(call)
    r.hangup()
    return kept(call, r)

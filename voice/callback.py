"""Calling the client through astreinte (blueprint `callback`): astreinte calls the technician, then
puts them through to the client with the support number as caller ID, so the client never sees the
technician's own number. Asked from the mobile take-over page; key 3 in the page call dials the client
from the call already on the line and holds paging the same way.

While they talk, paging of the callout is held (`oncall.callback`); when the call ends the technician
may take over with 1 on the same line.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from twilio.twiml.voice_response import VoiceResponse

from models import Callout, CalloutState, Channel, Person, session
from oncall import outbox
from oncall.callback import client_number, hold, release
from oncall.carriers import Outgoing
from oncall.links import absolute_url
from oncall.sending import SendError
from oncall.takeover import take_over
from org.load import current_org
from voice.carrier import TwilioCarrier
from voice.security import form_value, id_arg, twilio_request
from voice.twiml import hang_up, say, twiml
from words.catalogue import digits

bp = Blueprint("callback", __name__)


def call_technician(callout: Callout, person: Person) -> bool:
    """Place the call to `person` that puts them through to the client of `callout`, paging held while
    it lasts (False: no number to call, the callout was cancelled, or the carrier refused)."""
    if client_number(callout) is None or callout.state is CalloutState.CANCELLED or not person.phone:
        return False
    message = Outgoing(
        Channel.VOICE, person.phone, about="callback", ids={"callout": callout.id, "person": person.id}
    )
    try:  # through Twilio: the call bridges on Twilio's side (<Dial> in its words)
        outbox.send("callback", message, person.id, only=TwilioCarrier().name)
    except SendError:
        return False
    if callout.state is CalloutState.PAGING:
        hold(callout, person)
    return True


def dial_client(r: VoiceResponse, callout: Callout, person: Person, lang: str) -> None:
    """Say who is being called and dial the client from the support number; the <Dial> action ends the
    hold and offers the takeover."""
    number = client_number(callout)
    assert number is not None
    say(r, "callback.connecting", lang, ticket=digits(callout.ticket.number, lang))
    dial = r.dial(
        caller_id=current_org().support_number,
        action=absolute_url("callback.ended", callout=callout.id, person=person.id),
        method="POST",
        timeout=30,
    )
    dial.number(number)


def _found() -> tuple[Callout, Person] | None:
    callout = session.get(Callout, id_arg("callout"))
    person = session.get(Person, request.args.get("person", "")[:40])
    if callout is None or person is None or form_value("To", 32) not in ("", person.phone):
        return None
    return callout, person


@bp.post("/voice/callback/connect")
@twilio_request
def connect() -> Response:
    """The technician picked up the call they asked for: dial the client."""
    found = _found()
    if found is None:
        return hang_up()
    callout, person = found
    if callout.state is CalloutState.CANCELLED or client_number(callout) is None:
        release(callout)
        return hang_up("callback.unavailable", person.language)
    r = VoiceResponse()
    dial_client(r, callout, person, person.language)
    return twiml(r)


@bp.post("/voice/callback/ended")
@twilio_request
def ended() -> Response:
    """The call with the client ended: paging resumes, and 1 takes over on the same line."""
    found = _found()
    if found is None:
        return hang_up()
    callout, person = found
    release(callout)
    r = VoiceResponse()
    if callout.state is CalloutState.PAGING and form_value("CallStatus", 20) not in ("completed", "canceled"):
        g = r.gather(
            input="dtmf",
            num_digits=1,
            timeout=6,
            action=absolute_url("callback.key", callout=callout.id, person=person.id),
            method="POST",
        )
        say(
            g,
            "callback.take_over_now",
            person.language,
            ticket=digits(callout.ticket.number, person.language),
        )
    say(r, "callback.goodbye", person.language)
    r.hangup()
    return twiml(r)


@bp.post("/voice/callback/key")
@twilio_request
def key() -> Response:
    found = _found()
    if found is None or form_value("Digits", 10) != "1":
        return hang_up()
    callout, person = found
    result = take_over(callout, person, Channel.VOICE)
    lang = person.language
    if result.won or (result.by is not None and result.by.id == person.id):
        return hang_up("page_taken", lang, ticket=digits(callout.ticket.number, lang))
    if result.by is not None:
        return hang_up("callback.already", lang, name=result.by.first_name)
    return hang_up()


@bp.post("/voice/callback/status")
@twilio_request
def status() -> Response:
    """The technician's call ended (or never connected): the hold ends with it."""
    callout = session.get(Callout, id_arg("callout"))
    if callout is not None and form_value("CallStatus", 20) in (
        "completed",
        "busy",
        "failed",
        "no-answer",
        "canceled",
    ):
        release(callout)
    return twiml(VoiceResponse())

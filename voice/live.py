"""Live connect's webhooks (blueprint `live`): the `<Dial>` action on the caller's side, and on each
technician's leg the whisper (who calls and why, then 1 to take the call) and its answer.

A key is the only proof that a person took the call: a voicemail that answers the technician's phone,
or a silent pick-up, lets the whisper time out and hang that leg up, and the next level rings. The
`<Dial>` action never trusts DialCallStatus to know whether the two talked: the takeover in the
database says it. Every route checks Twilio's signature; a technician's leg must name the caller's
call as its parent, and a level that is no longer the one ringing gets a polite hang-up.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from sqlalchemy import select
from twilio.twiml.voice_response import VoiceResponse

from models import Call, Person, session
from oncall import live
from oncall.links import absolute_url
from oncall.takeover import first_name
from org.load import current_org
from tickets.calls import find_call, keep_recording
from voice import caller_ivr, live_dial
from voice.answers import is_current, kept, next_seq, saved_answer
from voice.caller_prompts import own_callback, say_subject
from voice.security import form_value, id_arg, twilio_request
from voice.twiml import hang_up, say, twiml
from words.caller import named
from words.catalogue import digits

bp = Blueprint("live", __name__)

FINAL = {"completed", "busy", "failed", "no-answer", "canceled"}  # Twilio's CallStatus
WHISPER_TIMEOUT = 6  # seconds for the technician to press 1 after the whisper


@bp.post("/voice/live/dialled")
@twilio_request
def dialled() -> Response:
    """A level's `<Dial>` ended: over (someone accepted and talked), the next level, or a message."""
    call = find_call(form_value("CallSid", 64))
    if call is None:
        return hang_up()
    if not is_current(call, request.args.get("n")):
        saved = saved_answer(call)
        return Response(saved, mimetype="text/xml") if saved else hang_up()
    if form_value("CallStatus", 20) in FINAL:
        return twiml(VoiceResponse())  # the caller hung up: not executed; the status callback decides
    org = current_org()
    if live.accepted_by(call):  # they talked; the technician hung up first
        call.step = "live_done"
        next_seq(call)
        r = VoiceResponse()
        say(r, "live.goodbye", call.language)
        r.hangup()
        answer = kept(call, r)
    elif (following := live.next_level(call)) is not None:
        answer = kept(call, live_dial.dial(call, org, following, next_seq(call)))
    else:
        live.nobody_accepted(call)
        step = "callback" if own_callback(call) else "callback_key"
        answer = caller_ivr.ask(call, step, [("live.nobody", {})])
    session.commit()
    return twiml(answer)


def _leg(call: Call | None) -> tuple[Call, Person] | None:
    """The caller's call and the technician of this leg, when the leg is the one ringing now."""
    index = request.args.get("level", type=int)
    if call is None or call.sid != form_value("ParentCallSid", 64) or call.ended_at is not None:
        return None
    if index is None or live.current_level(call) != index:
        return None
    level = live.level(call, index)
    return (call, level.person) if level is not None else None


@bp.post("/voice/live/whisper")
@twilio_request
def whisper() -> Response:
    """The technician picked up: who calls and why, then 1 to take the call (no key: hung up)."""
    found = _leg(session.get(Call, id_arg("call")))
    if found is None:
        return hang_up()
    call, person = found
    org = current_org()
    ticket = call.ticket
    assert ticket is not None and org.live_connect is not None
    lang = person.language
    priority = org.priorities.get(ticket.priority)
    said_priority = (
        (priority.label if lang == "fr" else priority.key.capitalize()) if priority else ticket.priority
    )
    r = VoiceResponse()
    g = r.gather(
        input="dtmf",
        num_digits=1,
        timeout=WHISPER_TIMEOUT,
        action=absolute_url("live.accept", call=call.id, level=live.current_level(call)),
        method="POST",
    )
    say(
        g,
        named("live.whisper", org),
        lang,
        name=org.name,
        client=ticket.client.name,
        digits=digits(ticket.number, lang),
        priority=said_priority,
    )
    if ticket.subject:
        say_subject(g, ticket.subject)
    say(g, "live.speaks_english" if call.language == "en" else "live.speaks_french", lang)
    if org.live_connect.record:
        say(g, "live.whisper_recorded", lang)
    say(g, "live.accept", lang)
    say(r, "live.no_key", lang)
    r.hangup()
    return twiml(r)


@bp.post("/voice/live/accept")
@twilio_request
def accept() -> Response:
    """The technician's key: 1 takes the call (the takeover) and the two are put through."""
    call = session.get(Call, id_arg("call"))
    found = _leg(call)
    if found is None:
        taker = _taker_of_leg(call)
        if call is not None and taker is not None:  # Twilio retried: the same answer
            return _put_through(call, taker)
        return hang_up("live.too_late", _language_of_leg())
    call, person = found
    if form_value("Digits", 10) != "1":
        return hang_up()  # declined: the next level rings
    result = live.accept(call, person)
    if result is None:
        session.commit()
        return hang_up("live.too_late", person.language)
    if not result.won and (result.by is None or result.by.id != person.id):
        session.commit()
        return hang_up("live.taken_by", person.language, taker=first_name(result.by))
    return _put_through(call, person)


def _taker_of_leg(call: Call | None) -> Person | None:
    """The technician of this leg when they accepted already (the chain moved on since)."""
    if call is None or call.sid != form_value("ParentCallSid", 64) or not (taker := live.accepted_by(call)):
        return None
    level = live.level(call, request.args.get("level", type=int) or 0)
    return level.person if level is not None and level.person.id == taker else None


def _put_through(call: Call, person: Person) -> Response:
    """The whisper's answer ends without a hang-up: Twilio puts the two through."""
    assert call.ticket is not None
    r = VoiceResponse()
    say(r, "live.put_through", person.language, digits=digits(call.ticket.number, person.language))
    session.commit()
    return twiml(r)


def _language_of_leg() -> str:
    person = session.scalar(select(Person).where(Person.phone == form_value("To", 32)).limit(1))
    return person.language if person is not None else "fr"


@bp.post("/voice/live/recording")
@twilio_request
def recording() -> Response:
    """The conversation's recording (only when the organisation file asks for it)."""
    call = session.get(Call, id_arg("call"))
    if call is None or call.sid != form_value("CallSid", 64):
        return twiml(VoiceResponse())
    sid = form_value("RecordingSid", 64)
    if sid and form_value("RecordingStatus", 20) == "completed":
        keep_recording(call, sid, form_value("RecordingUrl", 500), form_value("RecordingDuration", 10))
        session.commit()
    return twiml(VoiceResponse())

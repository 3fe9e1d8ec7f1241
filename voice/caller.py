"""The support number's webhooks (blueprint `caller`): `POST /voice/incoming`, `POST /voice/status`,
and the step URLs handed to Twilio inside TwiML. Thin: read the form, call the flow, answer TwiML.

Every route checks Twilio's signature (403), answers valid TwiML or a 4xx (a 500 only for a bug), and
commits before it answers. A request Twilio sends twice gets the same answer and changes nothing.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, abort, current_app, request
from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, ProgrammingError
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

import clock
from models import Call, session
from oncall import live
from oncall.voicemails import deliver, end_call
from org.hours import is_business_hours
from org.load import NoOrganisation, current_org
from tickets.calls import find_call, keep_recording, log_call, new_call
from voice import caller_desk, caller_ivr
from voice.answers import is_current, saved_answer
from voice.caller_rota import technician_rota
from voice.security import form_value, twilio_request
from voice.twiml import say, twiml

log = logging.getLogger(__name__)

bp = Blueprint("caller", __name__)

_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")
FINAL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}  # Twilio's CallStatus


def _sid(name: str, required: bool = True) -> str:
    value = form_value(name)
    if not value and not required:
        return ""
    if not _SID.match(value):
        abort(400, description=f"{name} missing or malformed")
    return value


def _field(name: str, size: int = 32) -> str:
    return form_value(name, size)


def _current_call(with_ticket: bool = False, with_message: bool = False) -> Call:
    """The call of this request: its row, created if Twilio never reached /voice/incoming."""
    sid = _sid("CallSid")
    call = find_call(sid, with_ticket, with_message)
    if call is not None:
        return call
    after_hours = not is_business_hours(current_org(), clock.now())
    return log_call(sid, _field("From"), _field("To"), after_hours)


def _answer(call: Call, build: VoiceResponse) -> Response:
    session.commit()
    return twiml(build)


def _replay(call: Call) -> Response | None:
    """A retry or a late request: the same answer as before."""
    if is_current(call, request.args.get("n")):
        return None
    saved = saved_answer(call)
    if saved is None:
        return None
    return Response(saved, mimetype="text/xml")


def _sorry(lang: str = "fr") -> Response:
    r = VoiceResponse()
    say(r, "caller.unavailable", lang)
    r.hangup()
    return twiml(r)


@bp.errorhandler(NoOrganisation)
def _no_organisation(exc: NoOrganisation) -> Response:
    log.error("a call arrived with no organisation loaded: %s", exc)
    session.rollback()
    return _sorry()


@bp.post("/voice/incoming")
@twilio_request
def incoming() -> Response:
    sid = _sid("CallSid")
    call = find_call(sid)
    if call is not None and (saved := saved_answer(call)):
        return Response(saved, mimetype="text/xml")  # Twilio retried
    org = current_org()
    # One read above, one write below: the row is inserted with its first answer (the reads in
    # between, the rota's, must not flush it early and UPDATE it again).
    with session.no_autoflush:
        if call is None:
            after_hours = not is_business_hours(org, clock.now())
            call = new_call(sid, _field("From"), _field("To") or org.support_number, after_hours)
        if call.after_hours and (rota_answer := technician_rota(call, org)) is not None:
            answer = rota_answer  # a technician's own phone at night: who is on call; by day, the desk
        elif call.after_hours:
            answer = caller_ivr.greeting(call)
        else:
            answer = caller_desk.forward(call, org)
    try:
        return _answer(call, answer)
    except IntegrityError:  # the same call, sent twice at the same instant: the first one's answer
        session.rollback()
        first = find_call(sid)
        if first is None or not (saved := saved_answer(first)):
            raise
        return Response(saved, mimetype="text/xml")


@bp.post("/voice/status")
@twilio_request
def status() -> Response:
    sid = _sid("CallSid")
    call = find_call(sid)
    if call is None:
        if _field("Direction") not in ("", "inbound"):
            return twiml(VoiceResponse())  # not a call to the support number: not ours to log
        call = log_call(sid, _field("From"), _field("To"), not is_business_hours(current_org(), clock.now()))
    status = _field("CallStatus", 20)
    call.status = status or call.status
    if status in FINAL_STATUSES:
        end_call(call, _field("CallDuration", 10))
        live.hung_up(call)  # gone while we rang the technicians: the callout pages
    session.commit()
    return twiml(VoiceResponse())


@bp.post("/voice/caller/step/<step>")
@twilio_request
def step(step: str) -> Response:
    if step not in caller_ivr.STEPS:
        abort(404)
    call = _current_call(with_ticket=step == "pin", with_message=step == "message_confirm")
    replay = _replay(call)
    if replay is not None:
        return replay
    keys = form_value("Digits", 40) if "Digits" in request.form else None
    with session.no_autoflush:  # the reads of the step see the call as it was: one UPDATE, at the end
        answer = caller_ivr.answer(call, step, keys)
    return _answer(call, answer)


@bp.post("/voice/caller/recorded")
@twilio_request
def recorded() -> Response:
    call = _current_call(with_message=True)
    replay = _replay(call)
    if replay is not None:
        return replay
    return _answer(
        call,
        caller_ivr.recorded(
            call,
            _sid("RecordingSid", required=False),
            _field("RecordingUrl", 500),
            _field("RecordingDuration", 10),
            _field("Digits", 10),
        ),
    )


@bp.post("/voice/caller/recording")
@twilio_request
def recording() -> Response:
    """Twilio's recordingStatusCallback, before or after the <Record> action (both kinds of message)."""
    call = _current_call(with_message=True)
    sid = _sid("RecordingSid")
    status = _field("RecordingStatus", 20)
    if status in ("completed", "in-progress"):
        keep_recording(call, sid, _field("RecordingUrl", 500), _field("RecordingDuration", 10), status)
        if call.ended_at is not None:
            deliver(call)  # the caller hung up before the action came back: the message is kept
    elif call.voicemail is not None and call.voicemail.recording_sid == sid:
        call.voicemail.recording_status = status or None
    session.commit()
    return twiml(VoiceResponse())


@bp.post("/voice/desk/dialled")
@twilio_request
def desk_dialled() -> Response:
    call = _current_call()
    replay = _replay(call)
    if replay is not None:
        return replay
    if _field("CallStatus", 20) in FINAL_STATUSES:  # the caller hung up while the desk rang: not executed
        return twiml(VoiceResponse())
    return _answer(call, caller_desk.dialled(call, _field("DialCallStatus", 20)))


@bp.post("/voice/desk/recorded")
@twilio_request
def desk_recorded() -> Response:
    call = _current_call()
    replay = _replay(call)
    if replay is not None:
        return replay
    return _answer(
        call,
        caller_desk.recorded(
            call,
            _sid("RecordingSid", required=False),
            _field("RecordingUrl", 500),
            _field("RecordingDuration", 10),
        ),
    )


# The database or the queue failing (down, restarting, a table out of step with the code): not a bug
# of the route. A value the database refuses (DataError) or a broken invariant is one.
_FAILURES = (OperationalError, InterfaceError, ProgrammingError, RedisError)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response | HTTPException:
    """Twilio must always get TwiML: when the database or the queue fails, the caller hears sorry
    (logged) rather than Twilio's "application error". A bug of ours is no such failure: under test
    it surfaces as the 500 it is, so that no fuzzed request hides one behind a polite hang-up."""
    if isinstance(exc, HTTPException):
        return exc
    session.rollback()
    if current_app.testing and not isinstance(exc, _FAILURES):
        raise exc
    log.exception("caller webhook failed on %s", request.path)
    return _sorry()

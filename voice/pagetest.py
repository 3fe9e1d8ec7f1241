"""A page test at the telephony edge: the test call's words (1 confirms), the status callbacks of the
test SMS and call, and the look-up at Twilio of what no callback said. oncall/pagetests.py sends the
test through the outbox and judges the result.

The test call is placed like a page call (machine detection on, the same ring time): what it proves
is what a real page needs, down to Twilio reaching PUBLIC_BASE_URL for the call's words and the key.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, request
from twilio.twiml.voice_response import VoiceResponse

import clock
from models import PageTest, session
from oncall import pagetests
from oncall.links import absolute_url
from oncall.sending import SendError
from voice import sender
from voice.delivery import is_later, is_machine, reported
from voice.security import form_value, id_arg, twilio_request
from voice.twiml import say, twiml

log = logging.getLogger(__name__)

bp = Blueprint("page_tests", __name__, url_prefix="/voice/page-tests")

MAX_TRIES = 3


def look_up(test: PageTest) -> None:
    """Ask Twilio the statuses of the test's SMS and call (when their callbacks never came): registered
    with oncall/pagetests.py, which asks when a test's time is up."""
    for sid in (test.sms_sid, test.call_sid):
        if not sid or "local" in sid:
            continue
        try:
            found = sender.fetch_status(sid)
        except SendError as exc:
            log.warning("page test %d: %s could not be looked up (%s)", test.id, sid, exc)
            continue
        _note(test, sid, found.status, found.answered_by, found.error_code)
    session.commit()


def _note(test: PageTest, sid: str, status: str | None, answered_by: str | None, error: str | None) -> None:
    """A status of the test's SMS or call, from a callback or a look-up; never back to an earlier one."""
    status, answered_by, error = reported(status, answered_by, error)
    if sid == test.sms_sid:
        if status and is_later(status, test.sms_status):
            test.sms_status = status
        test.sms_error = error or test.sms_error
    elif sid == test.call_sid:
        if answered_by:
            test.answered_by = answered_by
        if status and is_later(status, test.call_status):
            test.call_status = status
        test.call_error = error or test.call_error


def _test() -> PageTest:
    wanted = id_arg("test")
    test = session.get(PageTest, wanted) if wanted else None
    if test is None:
        abort(404, "unknown page test")
    return test


def _test_of_call() -> PageTest:
    test = _test()
    sid = form_value("CallSid", 64)
    if "voice" not in pagetests.channels_of(test) or test.call_sid not in (None, sid):
        abort(404, "this call is not the test's call")
    if test.call_sid is None:  # answered before the REST answer was written
        test.call_sid = sid
    return test


@bp.post("/call")
@twilio_request
def call() -> object:
    test = _test_of_call()
    r = VoiceResponse()
    answered_by = form_value("AnsweredBy", 24)
    _note(test, test.call_sid or "", "in-progress", answered_by or None, None)
    session.commit()
    lang = test.person.language
    if is_machine(answered_by):
        r.hangup()
        return twiml(r)
    tries = request.args.get("tries", 0, type=int)
    if tries >= MAX_TRIES:
        say(r, "test_call_no_key", lang)
        r.hangup()
        return twiml(r)
    gather = r.gather(num_digits=1, timeout=6, action=absolute_url("page_tests.key", test=test.id))
    if tries == 0:
        say(gather, "test_call_hello", lang, name=test.person.first_name)
    say(gather, "test_call_press", lang)
    r.redirect(absolute_url("page_tests.call", test=test.id, tries=tries + 1))
    return twiml(r)


@bp.post("/key")
@twilio_request
def key() -> object:
    test = _test_of_call()
    r = VoiceResponse()
    if form_value("Digits", 40) == "1":
        if test.confirmed_at is None:
            test.confirmed_at = clock.now()
            log.info("page test %d: %s pressed 1", test.id, test.person_id)
        session.commit()
        say(r, "test_call_confirmed", test.person.language)
        r.hangup()
    else:
        r.redirect(absolute_url("page_tests.call", test=test.id, tries=1))
    return twiml(r)


@bp.post("/status")
@twilio_request
def status() -> object:
    """Status callbacks of the test SMS (MessageStatus) and the test call (CallStatus, AnsweredBy)."""
    test = _test()
    if sid := form_value("CallSid", 64):
        if test.call_sid is None and "voice" in pagetests.channels_of(test):
            test.call_sid = sid
        _note(test, sid, form_value("CallStatus", 24), form_value("AnsweredBy", 24), form_value("ErrorCode"))
    elif sid := form_value("MessageSid", 64):
        _note(test, sid, form_value("MessageStatus", 24), None, form_value("ErrorCode"))
    else:
        abort(400, "CallSid or MessageSid missing")
    session.commit()
    return twiml(VoiceResponse())

"""The page call a technician answers: who and what, then 1 takes over, 2 plays the message, 3 calls
the client (caller ID: the support number), 9 declines, * repeats. And its status callbacks.

Answered is not acknowledged: an answering machine is hung up on and logged; only 1 takes over.
A call may carry several callouts (bundling): they are presented one after the other.
"""

from __future__ import annotations

from flask import Blueprint, abort, request, url_for
from sqlalchemy import select
from twilio.twiml.voice_response import VoiceResponse

import clock
from models import Callout, CalloutState, Channel, Page, session
from oncall.callback import hold
from oncall.callouts import decline
from oncall.links import absolute_url, media_url
from oncall.paging import alert_of
from oncall.takeover import first_name, take_over
from oncall.voicemails import caller_gets_sms
from org.load import current_org
from voice.delivery import is_machine, record_status
from voice.security import form_value, id_arg, twilio_request
from voice.twiml import say, speak, twiml
from words.catalogue import digits
from words.pages import spoken_alert, spoken_time

bp = Blueprint("paging", __name__, url_prefix="/voice/pages")

MAX_MENU_TRIES = 3


def _call_pages() -> tuple[Page, list[Page]]:
    """The page the call was placed for (`?page=`), and every page riding on this call."""
    lead = session.get(Page, id_arg("page"))
    if lead is None or lead.channel is not Channel.VOICE:
        abort(404, "unknown page")
    sid = form_value("CallSid", 64)
    pages = list(session.scalars(select(Page).where(Page.twilio_sid == sid))) if sid else []
    if lead.twilio_sid not in (None, sid):
        abort(404, "this call is not the page's call")
    return lead, pages or [lead]


def _bundle(pages: list[Page]) -> list[Callout]:
    seen: dict[int, Callout] = {}
    for page in sorted(pages, key=lambda p: p.callout_id):
        seen.setdefault(page.callout_id, page.callout)
    return list(seen.values())


def _waiting(pages: list[Page], after: int | None = None) -> list[Callout]:
    return [c for c in _bundle(pages) if c.state is CalloutState.PAGING and (after is None or c.id != after)]


@bp.post("/call")
@twilio_request
def call() -> object:
    lead, pages = _call_pages()
    person, lang = lead.person, lead.person.language
    answered_by = form_value("AnsweredBy", 24)
    sid = form_value("CallSid", 64)
    r = VoiceResponse()
    if is_machine(answered_by):
        record_status(sid, "in-progress", answered_by)
        r.hangup()
        return twiml(r)
    record_status(sid, "in-progress", answered_by or None)
    say(r, "page_hello", lang, name=first_name(person))
    waiting = _waiting(pages)
    if not waiting:  # taken over or cancelled while the phone rang
        first = _bundle(pages)[0]
        if first.state is CalloutState.TAKEN_OVER:
            _already(r, first, lang)
            say(r, "page_goodbye", lang)
        else:
            say(r, "page_nothing_waiting", lang)
        r.hangup()
        return twiml(r)
    if len(waiting) > 1:
        say(r, "page_bundle", lang, count=len(waiting))
    _menu(r, lead, waiting[0], lang, tries=0)
    return twiml(r)


@bp.post("/menu")
@twilio_request
def menu() -> object:
    lead, pages = _call_pages()
    callout = _callout_of(pages)
    lang = lead.person.language
    r = VoiceResponse()
    tries = request.args.get("tries", 0, type=int)
    if callout.state is not CalloutState.PAGING:
        _already(r, callout, lang, listener=lead.person_id)
        _next_or_goodbye(r, lead, pages, callout, lang)
    elif tries >= MAX_MENU_TRIES:
        say(r, "page_no_input", lang)
        r.hangup()
    else:
        _menu(r, lead, callout, lang, tries)
    return twiml(r)


@bp.post("/key")
@twilio_request
def key() -> object:
    lead, pages = _call_pages()
    callout = _callout_of(pages)
    person, lang = lead.person, lead.person.language
    pressed = form_value("Digits", 40)
    r = VoiceResponse()
    if pressed == "1":
        result = take_over(callout, person, Channel.VOICE)
        if result.won or (result.by is not None and result.by.id == person.id):  # a second 1: hers
            say(r, "page_taken", lang, ticket=digits(callout.ticket.number, lang))
            if caller_gets_sms(callout):
                say(r, "page_client_texted", lang)
            if not _waiting(pages, after=callout.id):  # the last one: the client is one key away
                gather = r.gather(num_digits=1, timeout=4, action=_url("paging.key", lead, callout))
                say(gather, "page_call_client_now", lang)
        else:
            _already(r, result.callout, lang)
        _next_or_goodbye(r, lead, pages, callout, lang)
    elif pressed == "2":
        voicemail = callout.voicemail
        if voicemail is not None and voicemail.recording_sid and voicemail.purged_at is None:
            r.play(media_url(voicemail.id))
        else:
            say(r, "page_no_message", lang)
        r.redirect(_url("paging.menu", lead, callout))
    elif pressed == "3":
        number = callout.callback_number
        if not number:
            say(r, "page_no_callback", lang)
            r.redirect(_url("paging.menu", lead, callout))
        else:
            say(r, "page_connecting", lang)
            hold(callout, person)  # paging waits while they talk; the <Dial> action resumes it
            ended = absolute_url("callback.ended", callout=callout.id, person=person.id)
            dial = r.dial(caller_id=current_org().support_number, action=ended, method="POST")
            dial.number(number)
    elif pressed == "9" and callout.state is CalloutState.PAGING:
        decline(callout, person, pages)
        say(r, "page_declined", lang)
        _next_or_goodbye(r, lead, pages, callout, lang)
    elif pressed in ("*", "9"):
        r.redirect(_url("paging.menu", lead, callout))
    else:
        say(r, "page_bad_key", lang)
        r.redirect(_url("paging.menu", lead, callout))
    return twiml(r)


@bp.post("/status")
@twilio_request
def status() -> object:
    """Twilio's call status callback: CallStatus, AnsweredBy, ErrorCode (idempotent)."""
    sid = form_value("CallSid", 64)
    if not sid:
        abort(400, "CallSid missing")
    record_status(sid, form_value("CallStatus", 24), form_value("AnsweredBy", 24), form_value("ErrorCode"))
    return twiml(VoiceResponse())


# --- the pieces of a page call ------------------------------------------------------------------


def _url(endpoint: str, lead: Page, callout: Callout, tries: int | None = None) -> str:
    if tries is None:
        return url_for(endpoint, page=lead.id, callout=callout.id)
    return url_for(endpoint, page=lead.id, callout=callout.id, tries=tries)


def _callout_of(pages: list[Page]) -> Callout:
    wanted = id_arg("callout")
    for callout in _bundle(pages):
        if callout.id == wanted:
            return callout
    abort(404, "this callout is not on this call")


def _menu(r: VoiceResponse, lead: Page, callout: Callout, lang: str, tries: int) -> None:
    org = current_org()
    alert = alert_of(callout, lang, org)
    gather = r.gather(num_digits=1, timeout=6, action=_url("paging.key", lead, callout))
    for sentence in spoken_alert(lang, alert, clock.now()):
        speak(gather, sentence, lang)
    say(gather, "page_menu", lang)
    r.redirect(_url("paging.menu", lead, callout, tries=tries + 1))


def _already(r: VoiceResponse, callout: Callout, lang: str, listener: str | None = None) -> None:
    """Who took it over, and when (not said to the one who did)."""
    if (
        callout.state is CalloutState.TAKEN_OVER
        and callout.taken_over_at is not None
        and callout.taken_over_by != listener
    ):
        at = callout.taken_over_at.astimezone(current_org().timezone)
        say(
            r,
            "page_already",
            lang,
            ticket=digits(callout.ticket.number, lang),
            name=first_name(callout.taker),
            time=spoken_time(at, lang),
        )


def _next_or_goodbye(r: VoiceResponse, lead: Page, pages: list[Page], current: Callout, lang: str) -> None:
    waiting = _waiting(pages, after=current.id)
    if waiting:
        say(r, "page_next", lang)
        _menu(r, lead, waiting[0], lang, tries=0)
    else:
        say(r, "page_goodbye", lang)
        r.hangup()

"""What the after-hours IVR says (`voice/caller_ivr.py` decides when): each step's question, what is
said before it, the reasons of a refusal, and the caller ID as a callback number."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta

from twilio.twiml.voice_response import VoiceResponse

import clock
from models import Call, RefusalReason
from org.load import current_org
from org.orgfile import Org
from org.phones import is_callable, parse_number
from tickets.calls import caller_number, recall, remember
from voice.twiml import SPEECH_LANGUAGE, say, voice_of
from words.caller import desk_reopens, hello, named, portal_said, spoken_delay, spoken_number
from words.catalogue import CATALOGUE, digits

# What is said before a question: catalogue keys and their values.
Before = list[tuple[str, dict[str, object]]]


def says(r: VoiceResponse, call: Call, before: Before) -> None:
    for key, values in before:
        say(r, key, call.language, **values)
        if key == "caller.pin_ok" and call.ticket is not None:
            # a ticket loaded without a subject is named by its client (a <Say> must say something)
            say_subject(r, (call.ticket.subject or "").strip() or call.ticket.client.name)


def say_subject(r: VoiceResponse, subject: str) -> None:
    """The ticket's subject, in the voice of the language it is written in (the organisation's first):
    an English caller never hears a French subject read by the English voice."""
    lang = current_org().languages[0]
    r.say(subject, language=SPEECH_LANGUAGE.get(lang, "fr-FR"), voice=voice_of(lang))


def own_callback(call: Call) -> str | None:
    """The caller ID as a callback number: None when withheld, or premium-rate or satellite (the
    technician's key 3 dials it from the support number: never a number that bills us)."""
    own = caller_number(call)
    parsed = parse_number(own, current_org().region)
    return own if parsed is not None and is_callable(parsed) else None


def open_first(call: Call) -> Before:
    """Once a call: this line serves tickets already opened, and where to open one."""
    if recall(call, "told_open_first"):
        return []
    remember(call, told_open_first=True)
    return [("caller.open_first", {"portal": portal_said(current_org(), call.language)})]


def refusal_values(call: Call, reason: RefusalReason, locked: datetime | None = None) -> dict[str, object]:
    """What the refusal of `reason` says: the portal, the desk's reopening, how long a lock (until
    `locked`) lasts."""
    org = current_org()
    now = clock.now().astimezone(org.timezone)
    values: dict[str, object] = {
        "portal": portal_said(org, call.language),
    }
    if reason is RefusalReason.LOCKED:
        until = locked or now
        left = max(1, math.ceil((until - now).total_seconds() / 60))
        values["delay"] = spoken_delay(timedelta(minutes=left), call.language)
    if "{reopens}" in CATALOGUE[f"caller.refused.{reason.value}"]["fr"]:
        values["reopens"] = desk_reopens(org, now, call.language)
    return values


def _q_greeting(g: VoiceResponse, call: Call) -> None:
    org = current_org()
    if not call.tries:  # the greeting is said once: silence hears the question again, not the welcome
        say(g, named("caller.welcome", org), call.language, **welcome_values(org, call.language))
    if call.language == "fr" and "en" in org.languages:
        say(g, "caller.english", "en")
    say(g, "caller.ask_ticket", call.language)


def welcome_values(org: Org, lang: str) -> dict[str, object]:
    return {"name": org.name, "hello": hello(org, clock.now(), lang)}


def _say_number(g: VoiceResponse, call: Call, key: str, number: str) -> None:
    say(g, key, call.language, digits=spoken_number(number, current_org().region, call.language))


QUESTIONS: dict[str, Callable[[VoiceResponse, Call], None]] = {
    "greeting": _q_greeting,
    "ticket": lambda g, call: say(g, "caller.ask_ticket", call.language),
    "pin": lambda g, call: say(
        g, "caller.ask_pin", call.language, digits=digits(call.entered_ticket or "", call.language)
    ),
    "callback": lambda g, call: _say_number(g, call, "caller.offer_callback", own_callback(call) or ""),
    "callback_key": lambda g, call: say(g, "caller.ask_callback", call.language),
    "callback_confirm": lambda g, call: _say_number(
        g, call, "caller.read_callback", recall(call, "callback_candidate", "")
    ),
    "message_confirm": lambda g, call: say(g, "caller.confirm_message", call.language),
    "live_offer": lambda g, call: say(g, "live.offer", call.language),
}

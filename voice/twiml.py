"""TwiML answers: the `text/xml` response and the <Say> of a catalogue entry in the caller's voice."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from flask import Response, current_app
from twilio.twiml import TwiML
from twilio.twiml.voice_response import VoiceResponse

from words.catalogue import text

SPEECH_LANGUAGE = {"fr": "fr-FR", "en": "en-GB"}
VOICES = {"fr": "Polly.Lea", "en": "Polly.Amy"}

# An answer the IVR keeps on the call is also the one it sends: serialised once (ElementTree is
# a fair share of a step's time). Only finished answers are passed here.
_DOCUMENTS: WeakKeyDictionary[TwiML, str] = WeakKeyDictionary()


def document(response: TwiML) -> str:
    """The XML of a finished answer (it must not change afterwards)."""
    found = _DOCUMENTS.get(response)
    if found is None:
        found = _DOCUMENTS[response] = str(response)
    return found


def twiml(response: TwiML) -> Response:
    return Response(document(response), mimetype="text/xml")


def voice_of(lang: str) -> str:
    if lang == "fr":
        return str(current_app.config.get("TWILIO_VOICE") or VOICES["fr"])
    return VOICES.get(lang, VOICES["en"])


def say(verb: TwiML, key: str, lang: str, **values: Any) -> TwiML:
    """Append <Say> of a catalogue entry to a response or a <Gather>."""
    return speak(verb, text(key, lang, **values), lang)


def speak(verb: TwiML, sentence: str, lang: str) -> TwiML:
    """Append <Say> of a sentence the catalogue already made (`words.pages.spoken_alert`)."""
    verb.say(sentence, language=SPEECH_LANGUAGE.get(lang, "fr-FR"), voice=voice_of(lang))
    return verb


def hang_up(key: str | None = None, lang: str = "fr", **values: Any) -> Response:
    """An answer that says one catalogue entry (or nothing) and hangs up."""
    r = VoiceResponse()
    if key:
        say(r, key, lang, **values)
    r.hangup()
    return twiml(r)

"""The prompt catalogue: every sentence a caller or a technician hears or reads, in French and English.

Each room registers its prompts (`voice/prompts_caller.py`, `voice/prompts_pages.py`); a key must
exist in every language, so French and English stay in step (a test checks it).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from twilio.twiml import TwiML

LANGUAGES = ("fr", "en")
SPEECH_LANGUAGE = {"fr": "fr-FR", "en": "en-GB"}
VOICES = {"fr": "Polly.Lea", "en": "Polly.Amy"}

CATALOGUE: dict[str, dict[str, str]] = {}


def register(prompts: dict[str, dict[str, str]]) -> None:
    """Add prompts: {key: {"fr": "...", "en": "..."}}."""
    for key, by_lang in prompts.items():
        missing = [lang for lang in LANGUAGES if lang not in by_lang]
        if missing:
            raise ValueError(f"prompt {key!r} lacks {', '.join(missing)}")
        if key in CATALOGUE and CATALOGUE[key] != by_lang:
            raise ValueError(f"prompt {key!r} registered twice")
        CATALOGUE[key] = by_lang


def text(key: str, lang: str, **values: Any) -> str:
    lang = lang if lang in LANGUAGES else LANGUAGES[0]
    return CATALOGUE[key][lang].format(**values)


def voice(lang: str) -> str:
    if lang == "fr":
        return str(current_app.config.get("TWILIO_VOICE") or VOICES["fr"])
    return VOICES.get(lang, VOICES["en"])


def say(verb: TwiML, key: str, lang: str, **values: Any) -> TwiML:
    """Append <Say> of a catalogue prompt to a response or a <Gather>."""
    verb.say(text(key, lang, **values), language=SPEECH_LANGUAGE.get(lang, "fr-FR"), voice=voice(lang))
    return verb


def digits(number: str, lang: str) -> str:
    """A number read digit by digit: "1 0 4 2 3 3" (a <Say> of "104233" reads a hundred thousand…)."""
    return " ".join(ch for ch in number if ch.isdigit())

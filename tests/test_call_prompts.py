"""What callers hear exists in French and English, with the same blanks to fill."""

from __future__ import annotations

import string
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from org.load import read_file
from org.orgfile import parse
from words import caller as prompts_caller  # noqa: F401 - registers the prompts
from words.caller import caller_sms, spoken_delay, spoken_opening
from words.catalogue import CATALOGUE

PARIS = ZoneInfo("Europe/Paris")
ROOT = Path(__file__).resolve().parent.parent


def _blanks(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_caller_prompt_has_french_and_english_with_the_same_blanks():
    keys = [k for k in CATALOGUE if k.startswith("caller.")]
    assert len(keys) > 30
    for key in keys:
        assert _blanks(CATALOGUE[key]["fr"]) == _blanks(CATALOGUE[key]["en"]), key


def test_every_refusal_names_what_to_do_next():
    for key in (k for k in CATALOGUE if k.startswith("caller.refused.")):
        fr = CATALOGUE[key]["fr"]
        assert "{portal}" in fr or "{reopens}" in fr or "Rappelez" in fr, key


def test_the_recording_notice_is_said_before_the_beep():
    assert "Votre message sera enregistré" in CATALOGUE["caller.notice"]["fr"]
    assert "Your message will be recorded" in CATALOGUE["caller.notice"]["en"]


def test_the_desk_reopening_is_said_like_people_say_it():
    now = datetime(2026, 11, 24, 23, 10, tzinfo=PARIS)
    assert (
        spoken_opening(datetime(2026, 11, 25, 8, 30, tzinfo=PARIS), now, "fr")
        == "demain, mercredi 25 novembre, à 8 h 30"
    )
    assert (
        spoken_opening(datetime(2026, 11, 30, 14, 0, tzinfo=PARIS), now, "fr") == "lundi 30 novembre, à 14 h"
    )
    assert (
        spoken_opening(datetime(2026, 12, 1, 8, 30, tzinfo=PARIS), now, "fr")
        == "mardi 1er décembre, à 8 h 30"
    )
    assert (
        spoken_opening(datetime(2026, 11, 25, 8, 30, tzinfo=PARIS), now, "en")
        == "tomorrow, Wednesday 25 November, at 8:30"
    )


def test_delays_are_said_in_words_people_use():
    said = {
        minutes: (
            spoken_delay(timedelta(minutes=minutes), "fr"),
            spoken_delay(timedelta(minutes=minutes), "en"),
        )
        for minutes in (1, 30, 60, 90, 120)
    }
    assert said == {
        1: ("1 minute", "1 minute"),
        30: ("30 minutes", "30 minutes"),
        60: ("1 heure", "1 hour"),
        90: ("1 heure 30", "1 hour 30 minutes"),
        120: ("2 heures", "2 hours"),
    }


def test_the_callers_sms_fit_one_gsm7_segment_with_the_brand():
    from words.pages import GSM7, segments

    org = parse(read_file(ROOT / "examples" / "org.yaml"))
    values = {"time": "23:10", "number": "104233", "due": "23:40", "name": "Alice"}
    for key in ("caller.sms.receipt", "caller.sms.taken_over", "caller.sms.escalated"):
        for lang in ("fr", "en"):
            body = caller_sms(org, key, lang, **values)
            assert body.startswith("Serveurcom") and body.endswith("support.serveurcom.com"), body
            assert set(body) <= GSM7 and segments(body) == 1, (len(body), body)  # no ç, no ê

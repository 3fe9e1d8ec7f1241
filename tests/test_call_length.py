"""The call to the beep is short (issue: ≤ 3 key sequences and ≤ 45 s of prompts, 110 words at
2.5 words a second), in French and in English: the fake phone walks it and counts every word of every
<Say> up to the <Record>, and every key sequence the caller types."""

from __future__ import annotations

import pytest

from tests.phone import ISABELLE

WORDS_PER_SECOND = 2.5


UK_MOBILE = "+447911123456"


def walk_to_the_beep(phone, lang: str, from_: str = ISABELLE):
    """The shortest call a caller who knows ticket and PIN can make; returns (call, key sequences)."""
    call = phone.call(from_=from_)
    keys = 0
    if lang == "en":
        call.press("9")
        keys += 1
    call.press("104233#")
    call.expect("PIN").press("4821#")
    keys += 2
    call.silence()  # the callback number is the caller ID: a short pause keeps it
    assert call.pending == "record", call.transcript
    return call, keys


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_caller_who_knows_ticket_and_pin_reaches_the_beep_in_three_keys_and_45_seconds(phone, lang):
    call, keys = walk_to_the_beep(phone, lang)
    words = sum(len(line.split()) for line in call.said)
    print(f"{lang}: {words} words (≈ {words / WORDS_PER_SECOND:.0f} s), {keys} key sequences to the beep")
    assert keys <= 3
    assert words <= 110, call.transcript  # 45 s at 2.5 words a second, rounded down


def test_an_english_caller_from_a_uk_mobile_reaches_the_beep_within_45_seconds(phone):
    call, keys = walk_to_the_beep(phone, "en", from_=UK_MOBILE)
    call_back = next(line for line in call.said if "call you back" in line)
    assert "0 7 9 1 1 1 2 3 4 5 6" in call_back  # their number as they know it
    words = sum(len(line.split()) for line in call.said)
    print(f"en, UK mobile: {words} words (≈ {words / WORDS_PER_SECOND:.1f} s), {keys} key sequences")
    assert keys <= 3 and words / WORDS_PER_SECOND <= 45, call.transcript


def test_a_silent_caller_hears_the_greeting_once(phone):
    call = phone.call(from_=ISABELLE)
    call.silence().silence().silence()
    assert call.ended
    assert sum("ici l'astreinte" in line for line in call.said) == 1, call.transcript
    assert sum("Tapez votre numéro de requête" in line for line in call.said) == 3


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_an_urgent_caller_hears_the_offer_soon_and_the_technician_rings_seconds_after_their_1(phone, lang):
    call = phone.call(from_=ISABELLE)
    keys = 0
    if lang == "en":
        call.press("9")
        keys += 1
    call.press("104245#").expect("PIN").press("4821#")
    keys += 2
    call.expect("press 1" if lang == "en" else "tapez 1")
    words = sum(len(line.split()) for line in call.said)
    said = len(call.said)
    call.press("1")
    to_ring = sum(len(line.split()) for line in call.said[said:]) / WORDS_PER_SECOND
    print(
        f"{lang}: {words} words (≈ {words / WORDS_PER_SECOND:.0f} s) and {keys} key sequences to the offer; "
        f"the technician's phone rings {to_ring:.1f} s after the caller's 1"
    )
    assert call.pending == "dial" and len(call.rings_at) == 1
    assert keys <= 3 and words <= 110, call.transcript
    assert to_ring <= 5  # one sentence, then the <Dial>

"""The callback number: the caller ID is offered, another one can be keyed in, checked."""

from __future__ import annotations

from models import CallOutcome
from tests.phone import ISABELLE, call_row, sms_to


def _after_the_pin(phone, from_=ISABELLE):
    call = phone.call(from_=from_)
    call.press("104233#").expect("code PIN").press("4821#")
    return call


def test_the_caller_keeps_their_caller_id(phone):
    call = _after_the_pin(phone).expect("zéro six, onze, vingt-deux, trente-trois, quarante-quatre").silence()
    call.expect("après le bip")
    assert call_row(call).callback_number == ISABELLE


def test_the_caller_keys_another_number(phone):
    call = _after_the_pin(phone).press("2")
    call.expect("Tapez le numéro de téléphone").press("0244556677#")
    call.expect(
        "Vous avez tapé le zéro deux, quarante-quatre, cinquante-cinq, soixante-six, soixante-dix-sept"
    ).press("1")
    call.expect("après le bip").record(seconds=10).press("1")
    row = call_row(call)
    assert row.callback_number == "+33244556677" and row.voicemail.callback_number == "+33244556677"
    assert sms_to(ISABELLE)  # the receipt still goes to the mobile the call came from


def test_an_invalid_number_is_asked_again(phone):
    call = _after_the_pin(phone).press("2")
    call.press("123#").expect("n'est pas valide").expect("Tapez le numéro de téléphone")
    call.press("0699887766#").expect(
        "zéro six, quatre-vingt-dix-neuf, quatre-vingt-huit, soixante-dix-sept, soixante-six"
    ).press("1")
    assert call_row(call).callback_number == "+33699887766"


def test_three_invalid_numbers_from_a_withheld_caller_id_end_the_call(phone):
    call = _after_the_pin(phone, from_="anonymous")
    call.press("1#").press("12#").press("123#")
    call.expect("Sans numéro de rappel valide")
    assert call.ended
    assert call_row(call).reason == "no_callback_number"


def test_three_invalid_numbers_after_asking_to_change_keep_the_caller_id(phone):
    call = _after_the_pin(phone).press("2")
    call.press("1#").silence().press("123#")
    call.expect(
        "Nous vous rappellerons donc au zéro six, onze, vingt-deux, trente-trois, quarante-quatre"
    ).expect("après le bip")
    call.record(seconds=10).press("1").expect("au plus tard dans 30 minutes")
    row = call_row(call)
    assert row.outcome is CallOutcome.VOICEMAIL and row.callback_number == ISABELLE


def test_a_withheld_caller_id_goes_straight_to_keying_a_number(phone):
    call = _after_the_pin(phone, from_="anonymous")
    call.expect("Tapez le numéro de téléphone").expect_not("nous vous rappellerons")
    call.press("0611223344#").press("1")
    call.expect("après le bip").record(seconds=10).press("1")
    row = call_row(call)
    assert row.outcome is CallOutcome.VOICEMAIL and row.callback_number == ISABELLE
    assert sms_to(ISABELLE)  # the keyed number is a mobile: the receipt goes there


def test_star_while_keying_a_number_goes_back_to_the_caller_id(phone):
    call = _after_the_pin(phone).press("2")
    call.press("*").expect(
        "nous vous rappellerons au zéro six, onze, vingt-deux, trente-trois, quarante-quatre"
    )


def test_a_premium_rate_or_satellite_number_is_refused_as_a_callback_number(phone):
    """Before: accepted, and key 3 of the page call dialled it from the support number."""
    call = _after_the_pin(phone).press("2")
    call.press("0899123456#").expect("Nous ne rappelons pas les numéros surtaxés ni satellites")
    call.expect("Tapez le numéro de téléphone").press("00881612345678#")
    call.expect("Nous ne rappelons pas les numéros surtaxés ni satellites")
    call.press("0699887766#").expect("zéro six, quatre-vingt-dix-neuf").press("1")
    assert call_row(call).callback_number == "+33699887766"


def test_a_premium_rate_caller_id_is_not_offered_as_the_callback_number(phone):
    call = phone.call(from_="+33899123456")
    call.press("104233#").expect("code PIN").press("4821#")
    call.expect("Tapez le numéro de téléphone").expect_not("quatre-vingt-dix-neuf, douze")
    call.press("0244556677#").expect("zéro deux, quarante-quatre").press("1")
    assert call_row(call).callback_number == "+33244556677"

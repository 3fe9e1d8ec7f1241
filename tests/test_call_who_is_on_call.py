"""A technician calls the support number from their own phone: told who is on call tonight, with no
PIN; a client calling hears nothing of the rota."""

from __future__ import annotations

from tests.oncall_helpers import ALICE, EMMA
from tests.phone import ISABELLE, call_row


def test_a_technician_at_night_hears_who_holds_each_position(phone):
    call = phone.call(from_=ALICE)
    call.expect(
        "Bonjour Alice. Cette nuit, l'astreinte principale est tenue par Alice Martin, "
        "le renfort par Bruno Petit."
    )
    call.expect("Au revoir").expect_not("code PIN").expect_not("numéro de requête")
    assert call.ended
    assert call_row(call).ticket is None


def test_in_business_hours_a_technician_reaches_the_desk_like_anyone(phone, clock):
    clock.set("2026-11-25 10:00")  # Wednesday morning
    call = phone.call(from_=ALICE)
    call.expect("Nous vous mettons en relation avec le service client").expect_not("astreinte principale")
    assert call.pending == "dial" and call.dialed == ["+33272646100"]
    assert f'callerId="{ALICE}"' in call.last_twiml  # the desk sees who calls
    call.dial_answered()
    assert call.ended and call_row(call).outcome.value == "forwarded"


def test_at_the_desks_closing_the_technician_hears_tonights_rota(phone, clock):
    clock.set("2026-11-25 18:00")  # Wednesday, the desk just closed; from 18:00 the file puts Bruno first
    call = phone.call(from_=ALICE)
    call.expect("l'astreinte principale est tenue par Bruno Petit, le renfort par Alice Martin")
    assert call.ended and call.dialed == []


def test_a_technician_is_answered_in_their_own_language(phone):
    call = phone.call(from_=EMMA)
    call.expect("Hello Emma. Tonight, the primary on call is Alice Martin, and the backup is Bruno Petit.")


def test_a_client_hears_nothing_of_the_rota(phone, clock):
    call = phone.call(from_=ISABELLE)
    call.expect("ici l'astreinte").expect_not("astreinte principale")
    clock.set("2026-11-25 10:00")
    desk = phone.call(from_=ISABELLE)
    assert desk.pending == "dial" and "Alice Martin" not in desk.transcript

"""Business hours go to the service desk; holidays, closures and DST nights go to the astreinte."""

from __future__ import annotations

from datetime import UTC, timedelta

from sqlalchemy import select

from models import Callout, CallOutcome, Voicemail, VoicemailKind, session
from tests.conftest import paris
from tests.phone import ISABELLE, call_row, sms_to, up_to_the_beep


def test_in_business_hours_the_desk_rings_and_answers(phone, clock):
    clock.set("2026-11-25 10:00")  # a Wednesday morning
    call = phone.call(from_=ISABELLE)
    call.expect("Nous vous mettons en relation avec le service client")
    assert call.pending == "dial" and call.dialed == ["+33272646100"]
    assert 'timeout="25"' in call.last_twiml and f'callerId="{ISABELLE}"' in call.last_twiml
    call.dial_answered()
    assert call.ended
    row = call_row(call)
    assert row.outcome is CallOutcome.FORWARDED and not row.after_hours and row.duration


def test_a_withheld_caller_id_reaches_the_desk_shown_as_the_support_number(phone, clock, org):
    clock.set("2026-11-25 10:00")
    call = phone.call(from_="anonymous")
    assert call.pending == "dial" and f'callerId="{org.support_number}"' in call.last_twiml
    call.dial_answered()
    assert call_row(call).outcome is CallOutcome.FORWARDED


def test_when_the_desk_does_not_answer_the_caller_leaves_a_message_that_pages_nobody(phone, clock):
    clock.set("2026-11-25 15:00")
    call = phone.call(from_=ISABELLE).dial_unanswered()
    call.expect("momentanément indisponible").expect(
        "Votre message sera enregistré et conservé 90 jours"
    ).record(seconds=30)
    call.expect("transmis au service client")
    assert call.ended
    row = call_row(call)
    assert row.outcome is CallOutcome.DESK_MESSAGE
    voicemail = session.scalar(select(Voicemail))
    assert voicemail.kind is VoicemailKind.DESK and voicemail.callback_number == ISABELLE
    assert session.scalar(select(Callout)) is None and sms_to(ISABELLE) == []


def test_a_busy_desk_and_a_hang_up_after_the_beep_still_keep_the_message(phone, clock):
    clock.set("2026-11-25 15:00")
    call = phone.call(from_=ISABELLE).dial_unanswered(status="busy").record(seconds=8, hangup=True)
    assert call_row(call).outcome is CallOutcome.DESK_MESSAGE


def test_hanging_up_while_the_desk_rings_is_abandoned(phone, clock):
    clock.set("2026-11-25 15:00")
    call = phone.call(from_=ISABELLE).hangup()
    assert (call_row(call).outcome, call_row(call).reason) == (CallOutcome.ABANDONED, "desk")


def test_christmas_day_at_ten_is_the_astreinte(phone, clock):
    clock.set("2026-12-25 10:00")
    phone.call(from_=ISABELLE).expect("l'astreinte Serveurcom")


def test_armistice_day_is_the_astreinte(phone, clock):
    clock.set("2026-11-11 10:00")
    call = phone.call(from_=ISABELLE).expect("l'astreinte Serveurcom")
    assert call_row(call).after_hours


def test_the_christmas_eve_closure_is_the_astreinte_and_says_when_the_desk_reopens(phone, clock):
    clock.set("2026-12-24 10:00")
    call = phone.call(from_=ISABELLE).expect("l'astreinte Serveurcom")
    call.press("104240#").press("4821#")
    call.expect("rouvre lundi 28 décembre, à 8 h 30")  # 25 is Christmas, then the weekend


def test_the_desk_opens_at_half_past_eight(phone, clock):
    clock.set("2026-11-25 08:29")
    phone.call(from_=ISABELLE).expect("l'astreinte Serveurcom")
    clock.set("2026-11-25 08:30")
    assert phone.call(from_=ISABELLE).pending == "dial"


def test_on_the_night_clocks_go_back_the_callout_is_due_thirty_real_minutes_later(phone, clock):
    clock.set("2026-10-25 02:50")  # summer time, ten minutes before the clocks go back to 02:00
    call = up_to_the_beep(phone).record(seconds=20).press("1")
    callout = session.scalar(select(Callout))
    assert callout.due_at - callout.opened_at == timedelta(minutes=30)
    assert callout.due_at.astimezone(paris("2026-10-25 12:00").tzinfo).strftime("%H:%M %Z") == "02:20 CET"
    assert sms_to(ISABELLE)[0].endswith("Prise en charge avant 02:20. Suivi : support.serveurcom.com")
    assert call_row(call).outcome is CallOutcome.VOICEMAIL


def test_on_the_night_clocks_go_forward_the_desk_reopens_after_easter_monday(phone, clock):
    clock.set("2027-03-28 01:55")  # ten minutes later it is 03:05 summer time
    call = phone.call(from_=ISABELLE).press("104240#").press("4821#")
    call.expect("rouvre mardi 30 mars, à 8 h 30")  # Easter Sunday, then Easter Monday
    call = up_to_the_beep(phone).record(seconds=20).press("1")
    callout = session.scalar(select(Callout))
    assert callout.due_at == paris("2027-03-28 01:55").astimezone(UTC) + timedelta(minutes=30)  # real minutes
    assert sms_to(ISABELLE)[0].endswith("Prise en charge avant 03:25. Suivi : support.serveurcom.com")

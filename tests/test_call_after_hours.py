"""A client calls the support number at night: the astreinte takes their message, the callout opens."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models import Callout, CallOutcome, CalloutState, Voicemail, session
from org.load import load, read_file
from tests.conftest import ORG_FILE, paris
from tests.phone import ISABELLE, call_row, sms_to, up_to_the_beep


def test_a_night_call_in_french_leaves_a_message_and_opens_the_callout(phone):
    call = phone.call(from_=ISABELLE)
    call.expect("Bonsoir, ici l'astreinte Serveurcom, réservée aux requêtes déjà ouvertes")
    call.expect("For English, press 9").expect("numéro de requête").press("104233#")
    call.expect("Requête 1 0 4 2 3 3. Tapez votre code PIN").expect("étoile pour corriger")
    call.expect_not("Coupure").press("4821#")
    call.expect("Merci. Requête : Coupure totale du lien SDSL")
    call.expect("nous vous rappellerons au zéro six, onze, vingt-deux, trente-trois, quarante-quatre")
    call.expect("pour un autre numéro, tapez 2").silence()
    call.expect("votre message sera enregistré et conservé 90 jours").expect("après le bip").record(
        seconds=20
    )
    call.expect("tapez 1 pour envoyer votre message").press("1")
    call.expect("requête 1 0 4 2 3 3").expect("au plus tard dans 30 minutes").expect("SMS").expect(
        "au revoir"
    )
    assert call.ended

    row = call_row(call)
    assert row.outcome is CallOutcome.VOICEMAIL and row.reason is None
    assert row.ticket.number == "104233" and row.callback_number == ISABELLE
    assert row.duration and row.ended_at is not None
    voicemail = session.scalar(select(Voicemail).where(Voicemail.call_id == row.id))
    assert voicemail.duration == 20 and voicemail.callback_number == ISABELLE
    assert [e.kind for e in row.ticket.events if e.kind in ("call", "voicemail", "callout")] == [
        "call",
        "voicemail",
        "callout",
    ]


def test_the_callout_is_due_thirty_minutes_after_the_message_and_pages(phone):
    up_to_the_beep(phone).record(seconds=20).press("1")
    callout = session.scalar(select(Callout))
    assert callout.ticket.number == "104233"
    assert callout.due_at == paris("2026-11-24 23:40")
    assert callout.opened_at == paris("2026-11-24 23:10")
    assert callout.state is not CalloutState.CANCELLED


def test_the_takeover_delay_said_and_texted_is_the_one_of_the_organisation_file(phone):
    doc = read_file(ORG_FILE)
    doc["astreinte"]["takeover"] = "90m"
    load(doc)
    call = up_to_the_beep(phone).record(seconds=20).press("1")
    call.expect("prise en charge au plus tard dans 1 heure 30").expect_not("30 minutes")
    assert session.scalar(select(Callout)).due_at == paris("2026-11-25 00:40")
    assert sms_to(ISABELLE)[0].endswith("Prise en charge avant 00:40. Suivi : support.serveurcom.com")


def test_the_caller_gets_an_sms_receipt_on_a_mobile(phone):
    up_to_the_beep(phone).record(seconds=20).press("1")
    assert sms_to(ISABELLE) == [
        "Serveurcom astreinte : votre message de 23:10 sur la demande 104233 est transmis. Prise en charge avant 23:40."
        " Suivi : support.serveurcom.com"
    ]


def test_no_sms_receipt_for_a_landline(phone):
    call = up_to_the_beep(phone, from_="+33244556677").record(seconds=20).press("1")
    call.expect("30 minutes").expect_not("SMS")
    assert call_row(call).outcome is CallOutcome.VOICEMAIL
    assert sms_to("+33244556677") == []


def test_nine_at_the_greeting_switches_to_english(phone):
    call = phone.call(from_=ISABELLE)
    call.expect("For English, press 9").press("9")
    call.expect("Good evening, this is Serveurcom on-call").expect("ticket number").press("104233#")
    call.expect("Ticket 1 0 4 2 3 3. Enter your PIN").expect("star corrects the number").press("4821#")
    call.expect("We will call you back on 0 6 1 1 2 2 3 3 4 4").expect(
        "For another number, press 2"
    ).silence()
    call.expect("Your message will be recorded").record(seconds=30)
    call.expect("Press 1 to send").press("1")
    call.expect("ticket 1 0 4 2 3 3").expect("within 30 minutes").expect("Goodbye")
    row = call_row(call)
    assert row.language == "en" and row.outcome is CallOutcome.VOICEMAIL
    assert sms_to(ISABELLE) == [
        "Serveurcom on-call: your message of 23:10 on ticket 104233 was passed on. A technician will take it over by 23:40."
        " Follow it on support.serveurcom.com"
    ]


def test_an_english_caller_hears_the_french_subject_in_the_french_voice(phone):
    call = phone.call(from_=ISABELLE).press("9").press("104233#").press("4821#")
    call.expect("Thank you. Ticket: Coupure totale du lien SDSL")
    subject = call.last_twiml.split("Coupure totale")[0].rsplit("<Say", 1)[1]
    assert 'language="fr-FR"' in subject and "Polly.Lea" in subject
    assert '<Say language="en-GB" voice="Polly.Amy">Thank you. Ticket:</Say>' in call.last_twiml


def test_the_ticket_number_is_read_back_in_the_pin_question_and_star_corrects_it(phone):
    call = phone.call(from_=ISABELLE)
    call.expect("numéro de requête").press("104240#")
    call.expect("Requête 1 0 4 2 4 0").expect("code PIN").expect("étoile pour corriger").press("*")
    call.expect("Tapez votre numéro de requête").press("104233#")
    call.expect("Requête 1 0 4 2 3 3").press("4821#")
    call.expect("Coupure totale du lien SDSL")


def test_silence_at_a_confirmation_confirms(phone):
    call = phone.call(from_=ISABELLE)
    call.press("104233#").expect("code PIN").press("4821#")
    call.expect("nous vous rappellerons").silence()
    call.expect("après le bip").record(seconds=10).silence()
    call.expect("au plus tard dans 30 minutes")
    assert call_row(call).callback_number == ISABELLE


def test_the_callback_number_is_kept_after_a_short_pause(phone):
    call = phone.call(from_=ISABELLE).press("104233#").press("4821#")
    gather = call.last_twiml.split("<Gather", 1)[1].split(">", 1)[0]
    assert 'timeout="3"' in gather and 'numDigits="1"' in gather


def test_star_goes_back_one_step(phone):
    call = phone.call(from_=ISABELLE)
    call.press("104233#").expect("1 0 4 2 3 3").press("*")
    call.expect("Tapez votre numéro de requête").press("104240#")
    call.expect("1 0 4 2 4 0").press("*")
    call.expect("Tapez votre numéro de requête").press("104233#")
    call.expect("code PIN").press("4821#")
    call.expect("nous vous rappellerons").press("*")
    call.expect("code PIN")


def test_a_short_ticket_number_is_asked_again(phone):
    call = phone.call(from_=ISABELLE)
    call.press("12#").expect("de 4 à 12 chiffres").expect("numéro de requête")
    assert call.pending == "gather"


def test_three_silences_end_the_call_with_the_reason(phone):
    call = phone.call(from_=ISABELLE)
    call.silence().expect("Nous n'avons rien entendu").expect("numéro de requête")
    call.silence().expect("Nous n'avons rien entendu")
    call.silence().expect("Sans réponse de votre part").expect("support.serveurcom.com").expect("au revoir")
    assert call.ended
    row = call_row(call)
    assert row.outcome is CallOutcome.REFUSED and row.reason == "no_input"


def test_two_records_the_message_again_and_only_the_last_one_is_kept(phone):
    call = up_to_the_beep(phone).record(seconds=5)
    first = call.recording_sids[-1]
    call.expect("tapez 1 pour envoyer").press("2")
    call.expect("après le bip").record(seconds=25)
    call.press("1").expect("30 minutes")
    voicemail = session.scalar(select(Voicemail))
    assert voicemail.recording_sid == call.recording_sids[-1] != first and voicemail.duration == 25
    assert session.scalar(select(Callout)).voicemail_id == voicemail.id


def test_no_message_after_the_beep_asks_again(phone):
    call = up_to_the_beep(phone).silence()
    call.expect("pas entendu de message").expect("après le bip")
    call.record(seconds=12).press("1").expect("30 minutes")


def test_the_message_time_counts_not_the_call_start(phone, clock):
    call = up_to_the_beep(phone)
    clock.advance(minutes=3)
    call.record(seconds=40).press("1")
    assert session.scalar(select(Callout)).due_at == paris("2026-11-24 23:13") + timedelta(minutes=30)


def test_the_callout_of_a_night_call_is_visible_in_the_api(phone, client):
    from dashboard.api import create_token

    up_to_the_beep(phone).record(seconds=20).press("1")
    token = create_token("test")
    resp = client.get("/api/callouts?ticket=104233", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    (callout,) = resp.get_json()["callouts"]
    assert callout["ticket"] == "104233" and callout["state"] == "paging" and callout["breached"] is False
    assert (callout["opened_at"], callout["due_at"]) == (
        "2026-11-24T23:10:00+01:00",
        "2026-11-24T23:40:00+01:00",
    )
    assert callout["pages"], "the first policy step pages at once"


def test_wrong_keys_at_the_message_confirmation_still_send_the_message(phone):
    call = up_to_the_beep(phone).record(seconds=20)
    call.press("7").expect("Nous n'avons pas compris").expect("tapez 1 pour envoyer")
    call.press("8").press("5")
    call.expect("au plus tard dans 30 minutes")
    assert call_row(call).outcome is CallOutcome.VOICEMAIL

"""Taking over: a key in the page call, an SMS reply, the mobile page's button. The first one wins,
the caller is told who took over and when, paging stops."""

from __future__ import annotations

import re
import threading

from sqlalchemy import select

from models import CalloutState, InboundSms, Page, Ticket, TicketEvent, TicketStatus, session
from oncall.sweeper import sweep

from .factories import told
from .oncall_helpers import ALICE, BRUNO, CALLER, CHLOE, leave_voicemail, refreshed
from .twilio_standin import fixtures

app_config, twilio_server, twilio = fixtures()


def test_alice_presses_1_in_the_page_call_and_takes_over(twilio, clock):
    callout = leave_voicemail("104233")
    call = twilio.ring(twilio.call_to(ALICE), answer="human")
    call.expect("Bonjour Alice").expect("Requête 1 0 4 2 3 3, Boulangerie Dupont").expect(
        "Il reste 30 minutes"
    )
    clock.advance(minutes=9)
    call.press("1").expect("vous avez pris en charge la requête 1 0 4 2 3 3").expect("prévenu par SMS")
    callout = refreshed(callout)
    assert callout.state is CalloutState.TAKEN_OVER and callout.taken_over_by == "alice"
    assert callout.taken_over_via.value == "voice" and not callout.breached
    assert twilio.sms_to(CALLER).body == (
        "Serveurcom astreinte : Alice a pris en charge votre demande 104233 à 23:19. Suivi : support.serveurcom.com"
    )
    ticket = session.scalar(select(Ticket).where(Ticket.number == "104233"))
    assert ticket.status is TicketStatus.IN_PROGRESS and ticket.taken_over_at == callout.taken_over_at
    clock.advance(minutes=30)
    sweep()  # nothing more is sent once taken over
    assert len(twilio.calls_to(ALICE)) == 1 and not twilio.calls_to(BRUNO)


def test_2_plays_the_message_and_3_calls_the_client_from_the_support_number(twilio, clock, client):
    leave_voicemail("104233")
    call = twilio.ring(twilio.call_to(ALICE))
    call.press("2")
    played = [line for line in call.said if line.startswith("[play ")][-1]
    url = played.removeprefix("[play ").removesuffix("]")
    assert url.startswith("https://astreinte.example.test/o/media/")
    media = client.get(url.removeprefix("https://astreinte.example.test"))
    assert media.status_code == 200 and media.mimetype == "audio/wav"
    call.expect("Pour prendre en charge, tapez 1")
    call.press("3").expect("Mise en relation avec le client")
    assert call.dialed == [CALLER]
    assert 'callerId="+33272646172"' in call.last_twiml


def test_a_forged_media_link_is_refused(twilio, client):
    assert client.get("/o/media/not-a-token").status_code == 404


def test_star_repeats_and_silence_ends_the_call_without_taking_over(twilio, clock):
    callout = leave_voicemail("104233")
    call = twilio.ring(twilio.call_to(ALICE))
    call.press("*").expect("Requête 1 0 4 2 3 3")
    call.press("7").expect("Touche non reconnue")
    call.silence().silence().silence()
    assert call.ended and "l'alerte continue" in call.said[-1]
    assert refreshed(callout).state is CalloutState.PAGING


def test_an_answering_machine_is_not_a_takeover(twilio, clock):
    callout = leave_voicemail("104233")
    call = twilio.ring(twilio.call_to(ALICE), answer="machine")
    assert call.ended and not call.said
    page = session.scalar(select(Page).where(Page.twilio_sid == twilio.call_to(ALICE).sid))
    assert page.status == "machine" and page.answered_by == "machine_start"
    assert refreshed(callout).state is CalloutState.PAGING
    event = session.scalar(select(TicketEvent).where(TicketEvent.kind == "page_failed"))
    assert "répondeur" in told(event)


def test_ok_with_the_ticket_number_by_sms_takes_over(twilio, clock):
    callout = leave_voicemail("104233")
    clock.advance(minutes=3)
    status, body = twilio.reply(ALICE, "ok 104233")
    assert status == 200 and "vous avez pris en charge la requête 104233 à 23:13" in body
    callout = refreshed(callout)
    assert callout.taken_over_via.value == "sms" and callout.taken_over_by == "alice"
    assert "Alice a pris en charge votre demande 104233 à 23:13" in twilio.sms_to(CALLER).body


def test_ok_alone_takes_over_the_only_callout_waiting(twilio, clock):
    callout = leave_voicemail("104233")
    _status, body = twilio.reply(ALICE, "OK")
    assert "pris en charge la requête 104233" in body
    assert refreshed(callout).state is CalloutState.TAKEN_OVER


def test_ok_alone_with_two_callouts_waiting_asks_which(twilio, clock):
    leave_voicemail("104233")
    leave_voicemail("104240")
    _status, body = twilio.reply(ALICE, "OK")
    assert "Plusieurs alertes en attente (104233, 104240)" in body


def test_a_known_person_gets_help_and_an_unknown_sender_gets_nothing(twilio, clock):
    leave_voicemail("104233")
    _status, body = twilio.reply(BRUNO, "j'arrive")
    assert "répondez OK suivi du numéro de requête (ex. OK 104233)" in body
    status, body = twilio.reply("+33699999999", "OK 104233")
    assert status == 200 and "<Message>" not in body
    row = session.scalar(select(InboundSms).where(InboundSms.from_number == "+33699999999"))
    assert row.outcome == "unknown_sender" and row.person_id is None


def test_a_second_ok_is_told_who_took_over(twilio, clock):
    leave_voicemail("104233")
    twilio.reply(ALICE, "OK 104233")
    clock.advance(minutes=1)
    _status, body = twilio.reply(BRUNO, "OK 104233")
    assert "Requête 104233 déjà prise en charge par Alice à 23:10." in body


def test_a_forged_sms_webhook_is_refused(twilio, client):
    resp = client.post("/sms/incoming", data={"From": ALICE, "Body": "OK 104233", "MessageSid": "SMx"})
    assert resp.status_code == 403


def _link(body: str) -> str:
    return re.search(r"https://astreinte\.example\.test(/o/\S+)", body).group(1)


def test_the_link_in_the_sms_opens_the_page_and_its_button_takes_over(twilio, clock, client):
    callout = leave_voicemail("104233")
    link = _link(twilio.sms_to(ALICE).body)
    page = client.get(link)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "104233 · Boulangerie Dupont" in html and "reste 30 min" in html
    assert page.headers["X-Frame-Options"] == "DENY"  # its button cannot be framed and clicked for them
    assert page.headers["Referrer-Policy"] == "no-referrer"  # the link is the credential
    assert f"/o/{link.split('/')[2]}/voicemail/{callout.id}" in html
    assert client.get(f"{link}/voicemail/{callout.id}").status_code == 200
    clock.advance(minutes=4)
    done = client.post(f"{link}/take/{callout.id}")
    assert done.status_code == 200
    assert "vous avez pris en charge la requête 104233 à 23:14" in done.get_data(as_text=True)
    assert "Le client est prévenu par SMS" in done.get_data(as_text=True)  # Isabelle's mobile
    assert refreshed(callout).taken_over_via.value == "web"


def test_the_link_expires(twilio, clock, client):
    leave_voicemail("104233")
    link = _link(twilio.sms_to(ALICE).body)
    clock.advance(hours=13)
    resp = client.get(link)
    assert resp.status_code == 410 and "Ce lien a expiré" in resp.get_data(as_text=True)
    assert client.get("/o/forged-token").status_code == 404


def test_two_people_pressing_1_at_once_one_wins_the_other_is_told_who(twilio, clock, app):
    callout = leave_voicemail("104233")
    clock.advance(minutes=10)
    sweep()  # bruno, the backup, is called too
    alice = twilio.ring(twilio.call_to(ALICE))
    bruno = twilio.ring(twilio.call_to(BRUNO))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def press(call):
        try:
            with app.app_context():
                barrier.wait(timeout=5)
                call.press("1")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=press, args=(c,)) for c in (alice, bruno)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert not errors, errors
    heard = {"alice": " ".join(alice.heard), "bruno": " ".join(bruno.heard)}
    winner = refreshed(callout).taken_over_by
    loser = "bruno" if winner == "alice" else "alice"
    assert "vous avez pris en charge" in heard[winner]
    assert f"déjà été prise en charge par {winner.capitalize()}" in heard[loser]
    assert len(twilio.sms_sent_to(CALLER)) == 1
    assert session.scalar(select(TicketEvent).where(TicketEvent.kind == "takeover")) is not None
    assert len(session.scalars(select(TicketEvent).where(TicketEvent.kind == "takeover")).all()) == 1


def test_a_page_call_answered_after_someone_took_over_says_who(twilio, clock):
    leave_voicemail("104233")
    clock.advance(minutes=10)
    sweep()  # bruno, the backup, is called
    twilio.reply(ALICE, "OK 104233")
    call = twilio.ring(twilio.call_to(BRUNO))
    call.expect("Bonjour Bruno").expect("déjà été prise en charge par Alice à 23 h 20").expect("au revoir")
    assert call.ended


def test_emma_hears_her_page_in_english(twilio, clock):
    leave_voicemail("104233")
    clock.advance(minutes=90)
    sweep()
    call = twilio.ring(twilio.call_to("+33656789012"))
    call.expect("Hello Emma, this is the on-call desk").expect("Ticket 1 0 4 2 3 3")
    call.expect("priority High").expect("The deadline passed 60 minutes ago").expect("To take over, press 1")
    call.press("1").expect("you took over ticket 1 0 4 2 3 3")
    assert twilio.sms_to(CALLER).body.endswith(
        "Emma a pris en charge votre demande 104233 à 00:40. Suivi : support.serveurcom.com"
    )  # the caller's language


def test_the_usual_ways_of_writing_ok_all_take_over(twilio, clock):
    for body, ticket in (("Ok 104233.", "104233"), ("OK104240", "104240"), (" ok : 104251 ", "104251")):
        callout = leave_voicemail(ticket)
        _status, answer = twilio.reply(ALICE, body)
        assert f"vous avez pris en charge la requête {ticket}" in answer, (body, answer)
        assert refreshed(callout).state is CalloutState.TAKEN_OVER


def test_ok_alone_with_nothing_waiting_says_how_to_take_over(twilio, clock):
    _status, body = twilio.reply(ALICE, "ok")
    assert "Aucune alerte en attente pour vous" in body and "OK suivi du numéro de requête" in body


def test_a_second_ok_from_the_one_who_took_over_confirms_it_again(twilio, clock):
    leave_voicemail("104233")
    twilio.reply(ALICE, "OK 104233")
    clock.advance(minutes=2)
    _status, body = twilio.reply(ALICE, "OK 104233")
    assert body.count("<Message>") == 1 and "Vous avez déjà pris en charge la requête 104233 à 23:10" in body


def test_ok_by_sms_takes_over_only_an_alert_that_paged_the_sender(twilio, clock):
    """Before, any active person of the organisation file took over any open alert by SMS (a
    colleague's borrowed phone, a spoofed sender). Now an SMS takes over only what paged its sender;
    the supervisor who saw the alert on the dashboard takes it over with the dashboard's button."""
    callout = leave_voicemail("104233")
    assert twilio.reply(CHLOE, "OK")[1].count("Aucune alerte en attente pour vous") == 1
    _status, body = twilio.reply(CHLOE, "OK 104233")
    assert (
        "Vous n'êtes pas alerté pour la requête 104233 : prenez-la en charge depuis le tableau de bord"
        in body
    )
    assert refreshed(callout).state is CalloutState.PAGING
    _status, body = twilio.reply(ALICE, "OK 104233")  # alice was paged
    assert "vous avez pris en charge la requête 104233" in body
    assert refreshed(callout).taken_over_by == "alice"


def test_stop_and_help_get_no_answer_from_us_twilio_answers_them(twilio, clock):
    leave_voicemail("104233")
    for word in ("STOP", "Stop", "HELP", "arret"):
        status, body = twilio.reply(ALICE, word)
        assert status == 200 and "<Message>" not in body, (word, body)
    outcomes = session.scalars(select(InboundSms.outcome).where(InboundSms.from_number == ALICE)).all()
    assert outcomes == ["keyword"] * 4
    _status, body = twilio.reply(ALICE, "aide")  # not a carrier keyword: our own help
    assert "répondez OK suivi du numéro de requête" in body


def test_the_take_over_page_on_a_second_tap_and_for_an_alert_of_another_link(twilio, clock, client):
    first = leave_voicemail("104233")
    link = _link(twilio.sms_to(ALICE).body)
    assert client.post(f"{link}/take/{first.id}").status_code == 200
    again = client.post(f"{link}/take/{first.id}")  # a double tap on a slow night network
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and "vous avez pris en charge la requête 104233" in html
    assert "Pris en charge par vous à 23:10" in html and "Déjà pris en charge par Alice" not in html
    other = leave_voicemail("104240")
    refused = client.post(f"{link}/take/{other.id}")
    assert refused.status_code == 404 and "Cette alerte n&#39;est pas dans ce lien" in refused.get_data(
        as_text=True
    )
    assert refreshed(other).state is CalloutState.PAGING


def test_a_caller_on_a_landline_gets_no_sms_and_the_technician_is_not_told_otherwise(twilio, clock, client):
    landline = "+33147200000"
    leave_voicemail("104233", callback=landline)
    call = twilio.ring(twilio.call_to(ALICE))
    call.press("1").expect("vous avez pris en charge la requête 1 0 4 2 3 3")
    assert not any("prévenu par SMS" in line for line in call.said)
    assert "Pas de SMS au client" in " ".join(told(e) for e in session.scalars(select(TicketEvent)))
    assert not twilio.sms_sent_to(landline)


def test_ok_with_the_number_spelt_in_groups_takes_over(twilio, clock):
    callout = leave_voicemail("104233")
    _status, body = twilio.reply(ALICE, "OK 104 233")
    assert "vous avez pris en charge la requête 104233" in body
    assert refreshed(callout).state is CalloutState.TAKEN_OVER


def test_an_english_caller_is_told_in_english_who_took_over(twilio, clock):
    leave_voicemail("104233", language="en")
    clock.advance(minutes=9)
    twilio.reply(ALICE, "OK 104233")
    assert twilio.sms_to(CALLER).body == (
        "Serveurcom on-call: Alice took over your ticket 104233 at 23:19. Follow it on support.serveurcom.com"
    )


def test_a_caller_who_rang_twice_is_taken_over_once_and_nobody_is_paged_again(twilio, clock):
    first = leave_voicemail("104233")
    clock.advance(minutes=5)
    second = leave_voicemail("104233")  # "nobody called me back": the same ticket, a second message
    _status, body = twilio.reply(ALICE, "OK 104233")
    assert "pris en charge la requête 104233" in body
    for callout in (first, second):
        callout = refreshed(callout)
        assert callout.state is CalloutState.TAKEN_OVER and callout.taken_over_by == "alice"
    assert [m.body for m in twilio.sms_sent_to(CALLER) if "a pris en charge" in m.body] == [
        "Serveurcom astreinte : Alice a pris en charge votre demande 104233 à 23:15. Suivi : support.serveurcom.com"
    ]  # one SMS for the caller, not one per message
    pages = len(twilio.messages) + len(twilio.calls)
    clock.advance(minutes=40)
    sweep()
    assert len(twilio.messages) + len(twilio.calls) == pages  # nobody is paged again for 104233


def test_ok_alone_with_two_messages_on_one_ticket_takes_over_that_ticket(twilio, clock):
    first = leave_voicemail("104233")
    clock.advance(minutes=3)
    second = leave_voicemail("104233")
    _status, body = twilio.reply(ALICE, "OK")
    assert "pris en charge la requête 104233" in body
    assert refreshed(first).state is refreshed(second).state is CalloutState.TAKEN_OVER


def test_the_page_call_and_sms_say_when_the_caller_speaks_english(twilio, clock):
    leave_voicemail("104233", language="en")
    sms = twilio.sms_to(ALICE).body
    assert "Client (parle anglais) : rappel via le lien." in sms
    call = twilio.ring(twilio.call_to(ALICE))
    call.expect("Requête 1 0 4 2 3 3").expect("Le client parle anglais").expect("Pour prendre en charge")


def test_a_french_caller_is_not_announced_by_language(twilio, clock):
    leave_voicemail("104233")
    assert "anglais" not in twilio.sms_to(ALICE).body
    twilio.ring(twilio.call_to(ALICE)).expect("Requête 1 0 4 2 3 3").expect_not("anglais")

"""Refused calls say why and what to do next, then hang up; nothing is said of a ticket before the PIN."""

from __future__ import annotations

from sqlalchemy import select

from models import Callout, CallOutcome, CalloutState, Channel, Ticket, TicketStatus, VoicemailKind, session
from org.load import load, read_file
from tests.conftest import ORG_FILE
from tests.factories import told
from tests.phone import ISABELLE, call_row


def _ticket(number: str) -> Ticket:
    return session.scalar(select(Ticket).where(Ticket.number == number))


def _with_pin(phone, ticket: str, pin: str, from_: str = ISABELLE):
    call = phone.call(from_=from_)
    call.expect("numéro de requête").press(f"{ticket}#")
    return call.expect("code PIN").press(f"{pin}#")


def _refused(call, reason: str) -> None:
    assert call.ended, call.transcript
    row = call_row(call)
    assert (row.outcome, row.reason) == (CallOutcome.REFUSED, reason)
    assert session.scalar(select(Callout)) is None


def test_an_unknown_ticket_is_keyed_again_then_the_call_goes_on(phone):
    call = phone.call(from_=ISABELLE)
    call.press("104223#")
    call.expect("aucune requête portant le numéro 1 0 4 2 2 3").expect("Tapez votre numéro de requête")
    call.expect_not("code PIN").press("104233#")
    call.expect("code PIN").press("4821#").expect("Coupure totale du lien SDSL")


def test_an_unknown_number_hears_at_once_that_the_line_serves_opened_tickets_and_where_to_open_one(phone):
    call = phone.call(from_=ISABELLE).press("555555#")
    call.expect("aucune requête portant le numéro 5 5 5 5 5 5")
    call.expect("Cette ligne sert aux requêtes déjà ouvertes").expect("portail client support.serveurcom.com")
    call.expect("Tapez votre numéro de requête")
    words = sum(len(line.split()) for line in call.said)
    assert words <= 60, call.transcript  # was 169 words (≈ 68 s) before the caller heard it


def test_a_caller_who_says_nothing_hears_what_the_line_is_for_after_the_first_silence(phone):
    call = phone.call(from_=ISABELLE).silence()
    call.expect("Nous n'avons rien entendu").expect("Cette ligne sert aux requêtes déjà ouvertes")
    call.expect("support.serveurcom.com").silence()
    call.expect_not("Cette ligne sert").silence()  # said once, then the call ends with the portal again
    call.expect("support.serveurcom.com").expect("Au revoir")
    _refused(call, "no_input")


def test_three_unknown_tickets_are_refused_with_the_portal_to_open_one(phone):
    call = phone.call(from_=ISABELLE)
    call.press("999999#").expect("aucune requête").press("999998#")
    call.press("999997#")
    call.expect("aucune requête portant le numéro 9 9 9 9 9 7").expect("support.serveurcom.com")
    call.expect("au revoir")
    _refused(call, "unknown_ticket")
    assert call_row(call).ticket is None


def test_three_malformed_ticket_numbers_end_with_how_to_get_one(phone):
    call = phone.call(from_=ISABELLE)
    call.press("12#").expect("de 4 à 12 chiffres").press("1234567890123#").press("7#")
    call.expect("de 4 à 12 chiffres").expect("ne traite que les requêtes déjà ouvertes")
    call.expect("support.serveurcom.com").expect_not("Sans réponse")
    _refused(call, "unknown_ticket")


def test_a_closed_ticket_is_refused_after_the_pin(phone):
    _ticket("104233").status = TicketStatus.CLOSED
    session.commit()
    call = phone.call(from_=ISABELLE)
    call.press("104233#").expect("code PIN").expect_not("close")
    call.press("4821#").expect("Cette requête est close").expect("support.serveurcom.com")
    _refused(call, "ticket_closed")


def test_a_wrong_pin_then_the_right_one_goes_on(phone):
    call = _with_pin(phone, "104233", "0000")
    call.expect("Ce code PIN est incorrect").expect("code PIN").expect_not("Coupure")
    call.press("4821#").expect("Coupure totale du lien SDSL").expect("nous vous rappellerons")


def _hang_up_at_the_desk_offer(call) -> None:
    """A refused caller who does not want to leave a message for the desk hangs up at the beep."""
    call.expect("laissez ici un message au service client").expect("support.serveurcom.com")
    assert call.pending == "record", call.transcript
    call.hangup()


def test_three_wrong_pins_end_the_call(phone):
    call = _with_pin(phone, "104233", "0000")
    call.press("1111#").press("2222#")
    call.expect("Le code PIN n'a pas été reconnu").expect("rouvre demain, mercredi 25 novembre, à 8 h 30")
    _hang_up_at_the_desk_offer(call)
    _refused(call, "bad_pin")
    assert call_row(call).ticket.number == "104233"  # known to the call log, never said aloud


STRANGER = "+33699887766"


def test_a_strangers_wrong_pins_lock_the_stranger_never_the_client(phone, clock):
    first = _with_pin(phone, "104233", "0000", from_=STRANGER).press("1111#").press("2222#")
    _hang_up_at_the_desk_offer(first)
    second = _with_pin(phone, "104233", "3333", from_=STRANGER).press("4444#")  # the fifth in 15 minutes
    second.expect("suspendu depuis ce numéro").expect("Rappelez dans 30 minutes").expect_not(
        "pas été reconnu"
    )
    _hang_up_at_the_desk_offer(second)
    _refused(second, "locked")

    clock.advance(minutes=2)
    again = _with_pin(phone, "104233", "4821", from_=STRANGER)  # even the right PIN, from that number
    again.expect("suspendu").expect("28 minutes").expect_not("Coupure").expect_not("incorrect")

    client = _with_pin(phone, "104233", "4821")  # the client, from her own phone, two minutes later
    client.expect("Coupure totale du lien SDSL").expect("nous vous rappellerons")
    colleague = _with_pin(phone, "104233", "4821", from_="+33677665544")  # a number the file does not know
    colleague.expect("Coupure totale du lien SDSL")


def test_guessing_spread_over_many_numbers_locks_the_account_except_the_clients_own_numbers(phone, app):
    app.config["PIN_ACCOUNT_MAX_FAILURES"] = 6
    for n in range(3):  # two wrong PINs from each of three numbers: no number reaches its own limit
        _with_pin(phone, "104233", "0000", from_=f"+3367000000{n}").press("1111#").hangup()
    stranger = _with_pin(phone, "104233", "4821", from_="+33670000009")
    stranger.expect("suspendu").expect_not("Coupure")
    _hang_up_at_the_desk_offer(stranger)
    _refused(stranger, "locked")
    client = _with_pin(phone, "104233", "4821")  # a registered contact of the client
    client.expect("Coupure totale du lien SDSL")


def test_a_locked_caller_leaves_a_message_for_the_desk_which_pages_nobody(phone):
    _with_pin(phone, "104233", "0000", from_=STRANGER).press("1111#").press("2222#").hangup()
    call = _with_pin(phone, "104233", "3333", from_=STRANGER).press("4444#")
    call.expect("suspendu").expect("laissez ici un message au service client").record(seconds=15)
    call.expect("transmis au service client")
    row = call_row(call)
    assert (row.outcome, row.reason) == (CallOutcome.DESK_MESSAGE, "locked")
    assert row.voicemail.kind is VoicemailKind.DESK and row.voicemail.duration == 15
    assert session.scalar(select(Callout)) is None


def test_the_lock_lifts_after_thirty_minutes(phone, clock):
    _with_pin(phone, "104233", "0000", from_=STRANGER).press("1111#").press("2222#").hangup()
    _with_pin(phone, "104233", "3333", from_=STRANGER).press("4444#").expect("suspendu").hangup()
    clock.advance(minutes=31)
    _with_pin(phone, "104233", "4821", from_=STRANGER).expect("Coupure totale du lien SDSL")


def test_a_client_without_the_astreinte_option_is_told_when_the_desk_opens(phone):
    call = _with_pin(phone, "104251", "1975", from_="+33244556677")
    call.expect("ne comprend pas l'option astreinte").expect("aux heures ouvrées")
    call.expect("rouvre demain, mercredi 25 novembre, à 8 h 30")
    _hang_up_at_the_desk_offer(call)
    _refused(call, "no_astreinte_option")


def test_a_refused_caller_may_leave_a_message_for_the_desk(phone):
    call = _with_pin(phone, "104240", "4821")
    call.expect("n'est pas couvert par l'astreinte").expect("support.serveurcom.com")
    call.expect("conservé 90 jours").record(seconds=12)
    call.expect("transmis au service client").expect("Au revoir")
    row = call_row(call)
    assert (row.outcome, row.reason) == (CallOutcome.DESK_MESSAGE, "service_not_covered")
    assert row.voicemail.kind is VoicemailKind.DESK and row.voicemail.ticket.number == "104240"
    assert session.scalar(select(Callout)) is None


def test_a_service_not_covered_waits_for_business_hours(phone):
    call = _with_pin(phone, "104240", "4821")
    call.expect("n'est pas couvert par l'astreinte").expect("traitée aux heures ouvrées").expect("8 h 30")
    _hang_up_at_the_desk_offer(call)
    _refused(call, "service_not_covered")


def test_a_low_priority_waits_for_business_hours(phone):
    dupont = _ticket("104233").client
    session.add(
        Ticket(
            number="104260",
            client=dupont,
            service=_ticket("104233").service,
            priority="low",
            subject="Question sur la facture",
        )
    )
    session.commit()
    call = _with_pin(phone, "104260", "4821")
    call.expect("ne relève pas de l'astreinte").expect("votre requête sera traitée aux heures ouvrées")
    _hang_up_at_the_desk_offer(call)
    _refused(call, "priority_waits")


def test_a_refusal_in_english_says_when_the_desk_opens(phone, clock):
    clock.set("2026-11-27 19:00")  # Friday evening: the desk opens on Monday
    call = phone.call(from_=ISABELLE).press("9")
    call.press("104240#").press("4821#")
    call.expect("not covered by the on-call service").expect("opens again Monday 30 November, at 8:30")


def test_a_desk_that_never_opens_still_gets_a_refusal_that_says_why(phone):
    doc = read_file(ORG_FILE)
    doc["business_hours"] = {}  # the astreinte answers around the clock
    load(doc)
    call = _with_pin(phone, "104240", "4821")
    call.expect(
        "n'est pas couvert par l'astreinte : votre requête sera traitée aux heures ouvrées. Contactez-nous"
    )
    _hang_up_at_the_desk_offer(call)
    _refused(call, "service_not_covered")


def test_a_ticket_resolved_yesterday_may_be_contested_it_reaches_the_astreinte_and_reopens(phone, clock):
    from tickets.service import change_status

    ticket = _ticket("104233")
    change_status(ticket, TicketStatus.RESOLVED, "desk")
    clock.advance(hours=30)  # within the 48 h of seed 004
    call = _with_pin(phone, "104233", "4821")
    call.expect("Cette requête est résolue : votre message la rouvrira").expect_not("close").silence()
    call.expect("après le bip").record(seconds=15).press("1")
    call.expect("au plus tard dans 30 minutes")
    ticket = _ticket("104233")
    session.refresh(ticket)
    assert ticket.status is TicketStatus.OPEN and ticket.resolved_at is None
    contest = next(e for e in ticket.events if e.kind == "contest")
    assert "conteste la résolution" in told(contest) and contest.data["by"] == ISABELLE
    assert session.scalar(select(Callout)).ticket_id == ticket.id


def test_a_ticket_closed_yesterday_may_be_contested_and_the_caller_hears_it_is_closed(phone, clock):
    from tickets.service import change_status

    change_status(_ticket("104233"), TicketStatus.RESOLVED, "desk")
    change_status(_ticket("104233"), TicketStatus.CLOSED, "desk")
    clock.advance(hours=30)  # within the 48 h of seed 004
    call = _with_pin(phone, "104233", "4821")
    call.expect("Cette requête est close : votre message la rouvrira").expect_not("résolue").silence()
    call.expect("après le bip").record(seconds=15).press("1")
    call.expect("au plus tard dans 30 minutes")
    ticket = _ticket("104233")
    session.refresh(ticket)
    assert ticket.status is TicketStatus.OPEN


def test_an_english_caller_contesting_a_closed_ticket_hears_it_is_closed(phone, clock):
    from tickets.service import change_status

    change_status(_ticket("104233"), TicketStatus.CLOSED, "desk")
    clock.advance(hours=30)
    call = phone.call(from_=ISABELLE).press("9").press("104233#").press("4821#")
    call.expect("This ticket is closed: your message will reopen it").expect_not("resolved").silence()
    call.expect("after the beep").record(seconds=15).press("1")
    assert _ticket("104233").status is TicketStatus.OPEN


def test_a_ticket_resolved_three_days_ago_is_closed_to_the_astreinte(phone, clock):
    from tickets.service import change_status

    change_status(_ticket("104233"), TicketStatus.RESOLVED, "desk")
    clock.advance(hours=72)
    call = _with_pin(phone, "104233", "4821")
    call.expect("Cette requête est close").expect("support.serveurcom.com")
    _refused(call, "ticket_closed")


def test_a_caller_on_a_ticket_already_taken_over_asks_for_escalation_with_3(phone, clock):
    phone.call(from_=ISABELLE).press("104233#").press("4821#").silence().record(seconds=10).press("1")
    callout = session.scalar(select(Callout))
    callout.state, callout.taken_over_at = CalloutState.TAKEN_OVER, clock.now()
    callout.taken_over_by, callout.taken_over_via = "alice", Channel.SMS
    session.commit()
    clock.advance(minutes=40)  # nothing has happened since: the client asks for escalation (000/001)
    call = _with_pin(phone, "104233", "4821")
    call.expect("Alice a pris en charge cette requête à 23 h 10").expect(
        "Pour demander une escalade, tapez 3"
    )
    call.press("3").expect("le responsable d'astreinte sera alerté").expect("après le bip").record(seconds=10)
    call.press("1").expect("au plus tard dans 30 minutes")
    second = session.scalars(select(Callout).order_by(Callout.id)).all()[-1]
    session.refresh(second)
    assert second.escalation_level == 1  # the supervisor is paged at once, not after a breach
    events = [e.kind for e in second.ticket.events]
    assert "escalation_request" in events and "escalation" in events

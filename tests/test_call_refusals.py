"""Refused calls say why and what to do next, then hang up; nothing is said of a ticket before the PIN."""

from __future__ import annotations

from sqlalchemy import select

from models import Callout, CallOutcome, Ticket, TicketStatus, session
from org.load import load, read_file
from tests.conftest import ORG_FILE
from tests.phone import ISABELLE, call_row


def _ticket(number: str) -> Ticket:
    return session.scalar(select(Ticket).where(Ticket.number == number))


def _with_pin(phone, ticket: str, pin: str, from_: str = ISABELLE):
    call = phone.call(from_=from_)
    call.expect("numéro de requête").press(f"{ticket}#").press("1")
    return call.expect("code PIN").press(f"{pin}#")


def _refused(call, reason: str) -> None:
    assert call.ended, call.transcript
    row = call_row(call)
    assert (row.outcome, row.reason) == (CallOutcome.REFUSED, reason)
    assert session.scalar(select(Callout)) is None


def test_an_unknown_ticket_is_keyed_again_then_the_call_goes_on(phone):
    call = phone.call(from_=ISABELLE)
    call.press("104223#").press("1")
    call.expect("aucune requête portant le numéro 1 0 4 2 2 3").expect("Tapez votre numéro de requête")
    call.expect_not("code PIN").press("104233#").press("1")
    call.expect("code PIN").press("4821#").expect("Coupure totale du lien SDSL")


def test_three_unknown_tickets_are_refused_with_the_portal_to_open_one(phone):
    call = phone.call(from_=ISABELLE)
    call.press("999999#").press("1").expect("aucune requête").press("999998#").press("1")
    call.press("999997#").press("1")
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
    call.press("104233#").press("1").expect("code PIN").expect_not("close")
    call.press("4821#").expect("Cette requête est close").expect("support.serveurcom.com")
    _refused(call, "ticket_closed")


def test_a_wrong_pin_then_the_right_one_goes_on(phone):
    call = _with_pin(phone, "104233", "0000")
    call.expect("Ce code PIN n'est pas le bon").expect("code PIN").expect_not("Coupure")
    call.press("4821#").expect("Coupure totale du lien SDSL").expect("nous vous rappellerons")


def test_three_wrong_pins_end_the_call(phone):
    call = _with_pin(phone, "104233", "0000")
    call.press("1111#").press("2222#")
    call.expect("Le code PIN n'a pas été reconnu").expect("rouvre demain, mercredi 25 novembre, à 8 h 30")
    _refused(call, "bad_pin")
    assert call_row(call).ticket.number == "104233"  # known to the call log, never said aloud


def test_wrong_pins_lock_the_client_and_the_number_for_another_call(phone, clock):
    first = _with_pin(phone, "104233", "0000").press("1111#").press("2222#")
    _refused(first, "bad_pin")
    second = _with_pin(phone, "104233", "3333").press("4444#")  # the fifth failure in 15 minutes
    second.expect("suspendu").expect("Rappelez dans 30 minutes").expect_not("n'a pas été reconnu")
    _refused(second, "locked")

    clock.advance(minutes=2)
    other_number = _with_pin(phone, "104233", "4821", from_="+33699887766")  # the right PIN, same client
    other_number.expect("suspendu").expect("28 minutes").expect_not("Coupure").expect_not("pas le bon")
    _refused(other_number, "locked")

    other_client = _with_pin(phone, "104251", "1975")  # the right PIN of another client, same number
    other_client.expect("suspendu").expect_not("Fibre")
    _refused(other_client, "locked")


def test_the_lock_lifts_after_thirty_minutes(phone, clock):
    _with_pin(phone, "104233", "0000").press("1111#").press("2222#")
    _with_pin(phone, "104233", "3333").press("4444#").expect("suspendu")
    clock.advance(minutes=31)
    _with_pin(phone, "104233", "4821").expect("Coupure totale du lien SDSL")


def test_a_client_without_the_astreinte_option_is_told_when_the_desk_opens(phone):
    call = _with_pin(phone, "104251", "1975", from_="+33244556677")
    call.expect("ne comprend pas l'option astreinte").expect("aux heures ouvrées")
    call.expect("rouvre demain, mercredi 25 novembre, à 8 h 30")
    _refused(call, "no_astreinte_option")


def test_a_service_not_covered_waits_for_business_hours(phone):
    call = _with_pin(phone, "104240", "4821")
    call.expect("n'est pas couvert par l'astreinte").expect("traitée aux heures ouvrées").expect("8 h 30")
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
    _refused(call, "priority_waits")


def test_a_refusal_in_english_says_when_the_desk_opens(phone, clock):
    clock.set("2026-11-27 19:00")  # Friday evening: the desk opens on Monday
    call = phone.call(from_=ISABELLE).press("9")
    call.press("104240#").press("1").press("4821#")
    call.expect("not covered by the on-call service").expect("opens again Monday 30 November, at 8:30")


def test_a_desk_that_never_opens_still_gets_a_refusal_that_says_why(phone):
    doc = read_file(ORG_FILE)
    doc["business_hours"] = {}  # the astreinte answers around the clock
    load(doc)
    call = _with_pin(phone, "104240", "4821")
    call.expect("n'est pas couvert par l'astreinte : votre requête sera traitée aux heures ouvrées. Merci")
    _refused(call, "service_not_covered")

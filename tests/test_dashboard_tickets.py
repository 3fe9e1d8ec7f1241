"""Tickets in the dashboard, as an agent works them: the list and its filters, a new ticket (an urgent one
at night pages at once), the priority and the major-incident switch, a resolution that stops the
paging and tells the client; behind the login and the form token."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import Callout, CalloutState, Channel, Person, Ticket, session
from oncall.sweeper import sweep
from oncall.takeover import take_over

from . import factories
from .oncall_helpers import ALICE, CALLER, CHLOE, leave_voicemail, refreshed
from .phone import sms_to

text = factories.visible_text


@pytest.fixture
def agent(client, clock, org):
    return factories.login(client)


def listed(client, query: str = "") -> list[str]:
    html = client.get(f"/tickets{query}").get_data(as_text=True)
    return re.findall(r'<tr data-ticket="(\d+)"', html)


def test_the_list_shows_every_ticket_and_filters_them(client, agent, clock):
    assert set(listed(client)) == {"104233", "104240", "104245", "104251"}
    assert listed(client, "?client=C1002") == ["104251"]
    assert listed(client, "?priority=medium") == ["104240"]
    token = factories.csrf(client, "/tickets/104233")
    client.post("/tickets/104233/status", data={"status": "resolved", "csrf_token": token})
    assert listed(client, "?status=resolved") == ["104233"]
    clock.advance(hours=1)  # high: ½ h to take over; medium: 2 h
    assert set(listed(client, "?breached=1")) == {"104245", "104251"}
    assert set(listed(client, "?tonight=1")) == {"104233", "104240", "104245", "104251"}  # this evening
    clock.advance(hours=20)
    assert listed(client, "?tonight=1") == []


def test_the_list_says_the_same_figure_as_the_ticket_page(client, agent, clock):
    clock.advance(minutes=62)
    row = re.search(r'<tr data-ticket="104251".*?</tr>', client.get("/tickets").get_data(as_text=True), re.S)
    assert "dépassé de 32 min" in text_of(row.group(0))
    assert "dépassé de 32 min" in text(client.get("/tickets/104251"))


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_an_urgent_ticket_opened_at_night_from_the_dashboard_pages_at_once(client, agent):
    form = {
        "client": "C1001",
        "service": "SDSL-4471",
        "priority": "urgent",
        "subject": "Site à l'arrêt",
        "csrf_token": factories.csrf(client, "/tickets/new"),
    }
    answer = client.post("/tickets/new", data=form)
    assert answer.status_code == 302
    number = answer.headers["Location"].rsplit("/", 1)[-1]
    assert any(number in body for body in sms_to(ALICE))
    page = text(client.get(f"/tickets/{number}"))
    assert "Alerte sans appel" in page and "alerté sans appel" in page
    now = client.get("/now")
    assert now.status_code == 200 and number in text(now)
    assert "alerte sans appel à 23:10 (priorité qui alerte dès l'ouverture)" in text(now)
    link = re.search(r"https://astreinte\.example\.test(/o/\S+)", sms_to(ALICE)[0]).group(1)
    mobile = client.get(link)  # the take-over page of the SMS: no message to play, the button
    assert mobile.status_code == 200 and number in text(mobile)
    assert "/voicemail/" not in mobile.get_data(as_text=True)
    assert session.scalar(select(Ticket.subject).where(Ticket.number == number)) == "Site à l'arrêt"


def test_a_bad_new_ticket_is_refused_and_keeps_what_was_typed(client, agent):
    form = {
        "client": "C1001",
        "priority": "critique",
        "subject": "Débit faible",
        "csrf_token": factories.csrf(client, "/tickets/new"),
    }
    answer = client.post("/tickets/new", data=form)
    assert answer.status_code == 400
    page = text(answer)
    assert "Requête refusée" in page and "critique" in page
    assert 'value="Débit faible"' in answer.get_data(as_text=True)
    duplicate = {**form, "priority": "high", "number": "104233"}
    assert "exists already" in text(client.post("/tickets/new", data=duplicate))


def test_the_major_incident_switch_pages_at_night_and_the_supervisor_too(client, agent):
    token = factories.csrf(client, "/tickets/104240")
    answer = client.post(
        "/tickets/104240/edit",
        data={"priority": "medium", "major_switch": "1", "major_incident": "on", "csrf_token": token},
    )
    assert answer.status_code == 302
    assert any("104240" in body for body in sms_to(ALICE))
    assert any("104240" in body for body in sms_to(CHLOE))
    page = text(client.get("/tickets/104240"))
    assert "déclarée incident majeur" in page and "agnes" in page
    client.post("/tickets/104240/edit", data={"priority": "low", "major_switch": "1", "csrf_token": token})
    row = factories.ticket("104240")
    assert row.priority == "low" and row.major_incident is False


def test_resolving_from_the_dashboard_stops_the_paging_and_texts_the_caller(client, agent):
    callout = leave_voicemail("104233")
    token = factories.csrf(client, "/tickets/104233")
    client.post(
        "/tickets/104233/status", data={"status": "resolved", "note": "lien rétabli", "csrf_token": token}
    )
    assert refreshed(callout).state is CalloutState.CANCELLED
    assert any("104233" in body and "48 h" in body for body in sms_to(CALLER))
    assert "client prévenu (résolue) : SMS au +33611223344" in text(client.get("/tickets/104233"))


def test_a_forged_form_changes_nothing_and_a_stranger_sees_nothing(client, org, clock):
    assert client.get("/tickets").status_code == 302  # to the login page
    factories.login(client)
    forged = client.post(
        "/tickets/104240/edit", data={"priority": "low", "major_switch": "1", "major_incident": "on"}
    )
    assert forged.status_code == 400
    assert (
        client.post(
            "/tickets/new", data={"client": "C1001", "priority": "urgent", "subject": "x"}
        ).status_code
        == 400
    )
    row = factories.ticket("104240")
    assert row.priority == "medium" and not row.major_incident
    assert session.scalar(select(Callout.id)) is None and sms_to(ALICE) == []


def test_the_ticket_page_tells_both_takeover_figures_in_one_sentence(client, agent, clock):
    ticket = factories.extra_ticket("104253", priority="high", opened="2026-11-25 01:55")
    clock.set("2026-11-25 02:10")
    callout = leave_voicemail(ticket.number)
    clock.set("2026-11-25 02:57")
    take_over(callout, session.get(Person, "chloe"), Channel.SMS)
    page = text(client.get("/tickets/104253"))
    assert (
        "Prise en charge à 02:57 par Chloé Durand : 1 h 02 min après l'ouverture de la requête (délai de la "
        "requête), 47 min après le message de 02:10 (délai d'astreinte)." in page
    )
    assert "hors délai" in page  # the ticket's ½ h, missed by its own count


def test_a_medium_ticket_whose_night_alert_was_missed_is_listed_overdue(client, agent, clock):
    factories.extra_ticket("104260", priority="medium", opened="2026-11-24 23:00")
    leave_voicemail("104260")
    clock.advance(minutes=40)  # the message's 30 minutes are gone; the ticket's own 2 h are not
    sweep()
    assert "104260" in listed(client, "?breached=1")
    row = re.search(r'<tr data-ticket="104260".*?</tr>', client.get("/tickets").get_data(as_text=True), re.S)
    assert "astreinte hors délai" in text_of(row.group(0)) and "reste 1 h" in text_of(row.group(0))

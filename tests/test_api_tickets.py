"""The ticket side of the night through the JSON API, as an external ticketing tool uses it: its own
numbers, status changes both ways, a ticket that pages without a call, the client told of the
resolution, and who is on call."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dashboard.api import create_token
from models import (
    Callout,
    CalloutState,
    Channel,
    MessageState,
    OutgoingMessage,
    Person,
    RefusalReason,
    Ticket,
    session,
)
from oncall.client_notices import EMAIL_SENDER
from oncall.overrides import cover
from oncall.sweeper import sweep
from oncall.takeover import take_over
from tickets.eligibility import refusal

from . import factories
from .conftest import paris
from .oncall_helpers import ALICE, CALLER, CHLOE, leave_voicemail, refreshed


@pytest.fixture
def api(client):
    token = create_token("itsm")
    auth = {"Authorization": f"Bearer {token}"}

    class Api:
        def get(self, path, **kw):
            return client.get(path, headers=auth, **kw)

        def post(self, path, **kw):
            return client.post(path, headers=auth, **kw)

        def patch(self, path, **kw):
            return client.patch(path, headers=auth, **kw)

    return Api()


# A message that left (a bundle is one message): the carrier took it.
LEFT = (OutgoingMessage.carrier_id.is_not(None), OutgoingMessage.state != MessageState.BUNDLED)


def sms_to(number: str) -> list[str]:
    return list(
        session.scalars(
            select(OutgoingMessage.body)
            .where(OutgoingMessage.to_address == number, OutgoingMessage.channel == Channel.SMS, *LEFT)
            .order_by(OutgoingMessage.id)
        )
    )


def about(number: str) -> list[str]:
    """Every SMS that names the ticket (a page's SMS goes with its call)."""
    return [
        b
        for b in session.scalars(select(OutgoingMessage.body).where(*LEFT).order_by(OutgoingMessage.id))
        if b and number in b
    ]


def sent_count() -> int:
    return session.scalar(select(func.count()).select_from(OutgoingMessage).where(*LEFT))


# --- POST keeps the ITSM's number -----------------------------------------------------------------


def test_a_ticket_keeps_the_number_its_ticketing_tool_gave_it_and_a_duplicate_is_a_409(api, clock, org):
    answer = api.post("/api/tickets", json=factories.payload(number="880042"))
    assert answer.status_code == 201 and answer.json["number"] == "880042"
    again = api.post("/api/tickets", json=factories.payload(number="880042", subject="autre"))
    assert again.status_code == 409
    assert again.json["field"] == "number" and "880042" in again.json["error"]
    assert session.scalar(select(func.count()).select_from(Ticket).where(Ticket.number == "880042")) == 1
    assert api.post("/api/tickets", json=factories.payload(number="104233")).status_code == 409  # the file's


@pytest.mark.parametrize("number", ["12", "1234567890123", "12a45", "１２３４５", 880042])
def test_a_number_a_caller_could_not_key_is_refused(api, clock, org, number):
    answer = api.post("/api/tickets", json=factories.payload(number=number))
    assert answer.status_code == 400 and answer.json["field"] == "number"


# --- PATCH ----------------------------------------------------------------------------------------


def test_a_status_change_reaches_the_timeline_with_the_tokens_name(api, clock, org):
    answer = api.patch("/api/tickets/104233", json={"status": "taken_over", "note": "vu par le NOC"})
    assert answer.status_code == 200
    assert answer.json["status"] == "taken_over"
    last = answer.json["timeline"][-1]
    assert last["kind"] == "status" and last["actor"] == "api:itsm" and "vu par le NOC" in last["text"]
    assert answer.json["sla"]["takeover"]["stopped_at"] == "2026-11-24T23:10:00+01:00"
    standby = api.patch("/api/tickets/104233", json={"status": "standby"})
    assert standby.json["status"] == "standby" and standby.json["sla"]["resolution"]["paused"] is True


def test_priority_flag_and_note_each_reach_the_timeline(api, clock, org):
    answer = api.patch("/api/tickets/104240", json={"priority": "low", "note": "pas urgent finalement"})
    assert answer.status_code == 200 and answer.json["priority"] == "low"
    kinds = [(e["kind"], e["actor"]) for e in answer.json["timeline"]]
    assert ("priority", "api:itsm") in kinds and ("note", "api:itsm") in kinds
    assert any("priorité Moyenne → Faible" in e["text"] for e in answer.json["timeline"])
    flagged = api.patch("/api/tickets/104240", json={"major_incident": True})
    assert flagged.json["major_incident"] is True
    assert ("major_incident", "api:itsm") in [(e["kind"], e["actor"]) for e in flagged.json["timeline"]]
    assert any("104240" in body for body in sms_to(ALICE))  # a major incident pages, whatever its priority


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "fixed"}, "status"),
        ({"status": 3}, "status"),
        ({"priority": "critique"}, "priority"),
        ({"priority": None, "status": None}, "body"),
        ({"major_incident": "yes"}, "major_incident"),
        ({"note": "x" * 5001}, "note"),
        ({"note": "   "}, "note"),
        ({"colour": "red"}, "colour"),
        ({}, "body"),
        ([1], "body"),
    ],
)
def test_a_bad_change_is_refused_naming_the_field_and_nothing_changes(api, clock, org, body, field):
    before = api.get("/api/tickets/104233").json
    answer = api.patch("/api/tickets/104233", json=body)
    assert answer.status_code == 400
    assert answer.json["field"] == field and answer.json["error"]
    assert api.get("/api/tickets/104233").json == before


def test_an_unknown_ticket_is_a_404_and_a_closed_one_a_409(api, clock, org):
    assert api.patch("/api/tickets/999999", json={"status": "resolved"}).status_code == 404
    assert api.patch("/api/tickets/104233", json={"status": "closed"}).status_code == 200
    refused = api.patch("/api/tickets/104233", json={"status": "open"})
    assert refused.status_code == 409 and "closed" in refused.json["error"]
    assert api.patch("/api/tickets/104233", json={"note": "archivé"}).status_code == 200  # a note still


def test_a_patch_without_a_token_changes_nothing(client, org):
    assert client.patch("/api/tickets/104233", json={"status": "resolved"}).status_code == 401
    assert session.scalar(select(Ticket.status).where(Ticket.number == "104233")).value == "open"


def test_resolving_stops_the_paging_at_once_and_texts_the_caller_with_48_hours_to_contest(api, clock, org):
    callout = leave_voicemail("104233")
    pages = len(sms_to(ALICE))
    assert pages >= 1
    answer = api.patch("/api/tickets/104233", json={"status": "resolved", "note": "lien rétabli"})
    assert answer.status_code == 200 and answer.json["status"] == "resolved"
    assert refreshed(callout).state is CalloutState.CANCELLED
    told = sms_to(CALLER)
    assert any("104233" in body and "résolue" in body and "48 h" in body for body in told)
    notice = [e["text"] for e in answer.json["timeline"] if e["kind"] == "client_notice"]
    assert notice == [
        "client prévenu (résolue) : SMS au +33611223344, pas d'e-mail (envoi d'e-mails non configuré)"
    ]
    count = len(about("104233"))
    clock.advance(hours=6)  # the resolution target (4 h) and every escalation would have run by now
    sweep()
    assert len(about("104233")) == count  # nobody paged, no false "non résolue" SMS to the supervisor


def test_closure_texts_the_clients_mobile_contact_when_nobody_called(api, clock, org):
    answer = api.patch("/api/tickets/104240", json={"status": "closed"})
    assert answer.status_code == 200
    body = sms_to(CALLER)[-1]  # Isabelle Dupont's mobile, the client's contact
    assert "104240" in body and "cloturée" in body and "48 h" in body  # GSM-7: ô folded
    notice = answer.json["timeline"][-1]
    assert notice["kind"] == "client_notice" and "e-mail" in notice["text"]  # no e-mail sending configured


# --- tickets that page without a call ------------------------------------------------------------


def test_an_urgent_ticket_opened_at_night_pages_the_technician_at_once(api, clock, org):
    answer = api.post("/api/tickets", json=factories.payload(priority="urgent", subject="Site à l'arrêt"))
    assert answer.status_code == 201
    pages = sms_to(ALICE)
    assert len(pages) == 1 and answer.json["number"] in pages[0]
    assert "Client : rappel via le lien." in pages[0]  # nobody called: the client's contact, masked
    callout = session.scalar(select(Callout).where(Callout.ticket.has(number=answer.json["number"])))
    assert callout.origin == "page_on_open" and callout.voicemail_id is None
    listed = api.get(f"/api/callouts?ticket={answer.json['number']}").json["callouts"]
    assert listed[0]["state"] == "paging" and {p["person"] for p in listed[0]["pages"]} == {"alice"}


def test_an_urgent_ticket_opened_in_business_hours_pages_nobody(api, clock, org):
    clock.set("2026-11-24 10:00")
    assert api.post("/api/tickets", json=factories.payload(priority="urgent")).status_code == 201
    assert sent_count() == 0


def test_a_high_ticket_waits_for_a_call_but_flagged_major_it_pages_then_with_the_supervisor(api, clock, org):
    number = api.post("/api/tickets", json=factories.payload(priority="high")).json["number"]
    assert sent_count() == 0  # high does not page on open
    api.patch(f"/api/tickets/{number}", json={"major_incident": True})
    assert any(number in body for body in sms_to(ALICE))
    assert any(number in body for body in sms_to(CHLOE))  # 001: a major incident escalates at once
    api.patch(f"/api/tickets/{number}", json={"status": "resolved"})
    count = sent_count()
    clock.advance(minutes=20)  # alice's re-page (5 min) and the backup (10 min) would have run
    sweep()
    assert sent_count() == count


def test_the_technician_takes_over_a_ticket_callout_by_sms(api, clock, org, client):
    number = api.post("/api/tickets", json=factories.payload(priority="urgent")).json["number"]
    callout = session.scalar(select(Callout).where(Callout.ticket.has(number=number)))
    result = take_over(callout, session.get(Person, "alice"), Channel.SMS)
    assert result.won
    assert sms_to(CALLER) == []  # nobody called: no "pris en charge" SMS to a caller
    assert api.get(f"/api/tickets/{number}").json["status"] == "taken_over"


# --- who is on call ------------------------------------------------------------------------------


def test_oncall_names_tonights_holders_and_where_each_comes_from(api, clock, org):
    answer = api.get("/api/oncall")
    assert answer.status_code == 200
    positions = {p["position"]: p for p in answer.json["positions"]}
    assert positions["primary"]["person"] == "alice" and positions["primary"]["source"] == "rota"
    assert positions["backup"]["person"] == "bruno"
    assert [r["person"] for r in answer.json["roles"]] == ["chloe", "david", "emma"]
    covered = api.get("/api/oncall", query_string={"at": "2026-11-25T23:00:00+01:00"}).json
    primary = {p["position"]: p for p in covered["positions"]}["primary"]
    assert primary["person"] == "bruno" and primary["source"] == "override"  # the file's override
    local = api.get("/api/oncall?at=2026-11-25T23:00").json
    assert local["at"] == "2026-11-25T23:00:00+01:00"


@pytest.mark.parametrize("at", ["tonight", "0001-01-01T00:00:00%2B14:00", "9999-12-31T23:59", "2026-13-01"])
def test_oncall_refuses_a_time_it_cannot_read(api, org, at):
    answer = api.get(f"/api/oncall?at={at}")
    assert answer.status_code == 400 and answer.json["field"] == "at"


def test_a_resolution_sent_twice_tells_the_client_once(api, clock, org):
    leave_voicemail("104233")
    for _ in range(2):  # the ticketing tool retries
        assert api.patch("/api/tickets/104233", json={"status": "resolved"}).status_code == 200
    assert len([b for b in sms_to(CALLER) if "résolue" in b]) == 1
    timeline = api.get("/api/tickets/104233").json["timeline"]
    assert [e["kind"] for e in timeline].count("client_notice") == 1


def test_an_oversized_body_is_refused_before_it_is_read(api, org):
    answer = api.patch(
        "/api/tickets/104233", data=b"{" + b" " * (2 * 1024 * 1024) + b"}", content_type="application/json"
    )
    assert answer.status_code == 413 and "error" in answer.json


def test_oncall_says_when_a_desk_change_holds_the_position(api, clock, org):
    cover(
        org,
        "chloe",
        "primary",
        paris("2026-11-24 22:00"),
        paris("2026-11-25 08:30"),
        "Alice est malade",
        "agnes",
    )
    primary = {p["position"]: p for p in api.get("/api/oncall").json["positions"]}["primary"]
    assert (primary["person"], primary["name"], primary["source"]) == ("chloe", "Chloé Durand", "desk_change")


def test_a_closure_contested_within_48_hours_reopens_the_ticket_and_pages(api, clock, org):
    assert api.patch("/api/tickets/104233", json={"status": "closed"}).status_code == 200
    clock.advance(hours=30)
    assert refusal(factories.ticket("104233"), org) is None  # still the astreinte's: the client contests
    callout = leave_voicemail("104233")
    assert api.get("/api/tickets/104233").json["status"] == "open"
    assert (
        refreshed(callout).state is CalloutState.PAGING and refreshed(callout).pages
    )  # bruno, by the override


def test_a_closure_older_than_48_hours_is_closed_to_the_astreinte(api, clock, org):
    api.patch("/api/tickets/104233", json={"status": "closed"})
    clock.advance(hours=49)
    assert refusal(factories.ticket("104233"), org) is RefusalReason.TICKET_CLOSED


def test_with_an_email_sender_plugged_in_the_contacts_get_the_notice_by_email(api, app, clock, org):
    class Mailbox:  # the process edge: what an SMTP carrier would hand to the server
        def __init__(self) -> None:
            self.sent: list[tuple[str, str, str]] = []

        def send_email(self, to: str, subject: str, body: str) -> str:
            self.sent.append((to, subject, body))
            return f"<{len(self.sent)}@test>"

    mailbox = Mailbox()
    app.extensions[EMAIL_SENDER] = mailbox
    try:
        answer = api.patch("/api/tickets/104240", json={"status": "resolved"})
    finally:
        del app.extensions[EMAIL_SENDER]
    assert [(to, subject) for to, subject, _ in mailbox.sent] == [
        ("isabelle@boulangerie-dupont.example", "Requête 104240 résolue")
    ]
    assert "48 h pour contester" in mailbox.sent[0][2]
    notice = answer.json["timeline"][-1]["text"]
    assert (
        notice
        == "client prévenu (résolue) : SMS au +33611223344, e-mail à isabelle@boulangerie-dupont.example"
    )

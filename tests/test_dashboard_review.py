"""The morning review, as an agent goes through it: the status form, the order of the timeline, the
time of each page."""

from __future__ import annotations

import re

import pytest

from dashboard.api import create_token
from models import TicketEvent, TicketStatus, session
from oncall.callouts import set_ticket_status as change_status

from . import factories

text = factories.visible_text


@pytest.fixture
def agent(client, clock, org):
    return factories.login(client)


def offered(client, number: str) -> tuple[str | None, list[str]]:
    """The status form of a ticket page: the option selected, and every option offered."""
    html = client.get(f"/tickets/{number}").get_data(as_text=True)
    select = re.search(r'<select name="status">(.*?)</select>', html, flags=re.S)
    if select is None:
        return None, []
    options = re.findall(r'<option value="([a-z_]+)"( selected)?>', select.group(1))
    chosen = [value for value, selected in options if selected]
    return (chosen[0] if chosen else options[0][0]), [value for value, _ in options]


def test_the_status_form_proposes_the_next_step_not_the_current_status(client, agent):
    ticket = factories.ticket("104233")
    change_status(ticket, "in_progress", actor="agnes")
    chosen, options = offered(client, "104233")
    assert chosen == "resolved"
    assert "in_progress" not in options
    assert "Statut actuel : en cours" in text(client.get("/tickets/104233"))


@pytest.mark.parametrize(
    ("status", "proposed"),
    [("open", "in_progress"), ("client_standby", "in_progress"), ("resolved", "closed")],
)
def test_each_status_proposes_its_usual_next_step(client, agent, status, proposed):
    ticket = factories.ticket("104233")
    if status != "open":
        ticket.status = TicketStatus(status)
        session.commit()
    assert offered(client, "104233")[0] == proposed


def test_a_resolved_ticket_can_be_reopened_from_its_page(client, agent):
    change_status(factories.ticket("104233"), "resolved", actor="agnes")
    token = factories.csrf(client, "/tickets/104233")
    answer = client.post(
        "/tickets/104233/status",
        data={"status": "in_progress", "note": "le client rappelle", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Statut changé." in text(answer)
    assert factories.ticket("104233").status is TicketStatus.IN_PROGRESS


def test_a_closed_ticket_offers_no_status_change_and_refuses_one(client, agent):
    change_status(factories.ticket("104233"), "closed", actor="agnes")
    page = text(client.get("/tickets/104233"))
    assert offered(client, "104233") == (None, [])
    assert "Requête clôturée : son statut ne change plus." in page
    token = factories.csrf(client, "/tickets/104233")
    answer = client.post(
        "/tickets/104233/status", data={"status": "open", "csrf_token": token}, follow_redirects=True
    )
    assert "Statut refusé" in text(answer)
    assert factories.ticket("104233").status is TicketStatus.CLOSED


def test_the_timeline_tells_the_night_in_the_order_it_happened(client, agent):
    factories.night()
    page = text(client.get("/tickets/104233"))
    timeline = page[page.index("Historique") :]
    moments = ("23:02 appel", "23:05 message", "astreinte alertée", "23:06 alerte", "23:19 prise en charge")
    order = [timeline.index(moment) for moment in moments]
    assert order == sorted(order)


def test_a_page_held_back_by_the_throttle_shows_when_it_left(client, agent, clock):
    night = factories.night()
    held = factories.page(night.open_callout, "bruno", "voice", "completed", "2026-11-25 03:40")
    held.sent_at = factories.at("2026-11-25 03:41")
    session.commit()
    page = text(client.get("/tickets/104260"))
    assert "03:41 Bruno Petit appel" in page
    assert "03:40 Bruno Petit appel" not in page


def english(client) -> None:
    token = factories.csrf(client, "/now")
    client.post("/language", data={"lang": "en", "csrf_token": token, "next": "/now"})


def test_the_timeline_speaks_english_when_the_agent_does(client, agent, clock):
    night = factories.night()
    callout = night.answered_callout
    ticket = callout.ticket
    ticket.events.append(
        TicketEvent(
            kind="takeover",
            at=factories.at("2026-11-24 23:19"),
            actor="Alice Martin",
            data={
                "callout": callout.id,
                "person": "alice",
                "name": "Alice Martin",
                "via": "voice",
                "seconds": 810,
                "breached": False,
            },
        )
    )
    ticket.events.append(
        TicketEvent(
            kind="escalation",
            at=factories.at("2026-11-24 23:40"),
            data={
                "callout": callout.id,
                "step": 3,
                "level": 1,
                "person": "chloe",
                "name": "Chloé Durand",
                "position": "supervisor",
            },
        )
    )
    session.commit()
    change_status(ticket, "client_standby", actor="agnes", note="waiting for the engineer")
    english(client)
    page = text(client.get("/tickets/104233"))
    assert "Taken over by Alice Martin by call in 13 min" in page
    assert "Escalation level 1: Chloé Durand" in page
    assert "open → client standby: waiting for the engineer" in page
    assert "Current status: client standby" in page
    assert "opened organisation file" in page
    for french in ("Pris en charge par", "Escalade niveau", "ouverte →", "Statut actuel"):
        assert french not in page
    client.post("/language", data={"lang": "fr", "csrf_token": factories.csrf(client, "/now")})
    page = text(client.get("/tickets/104233"))
    assert "Pris en charge par Alice Martin par appel en 13 min" in page
    assert "ouverture fichier d'organisation" in page


def test_the_rota_table_marks_the_overridden_shift(client, clock, org):
    clock.set("2026-11-24 10:00")
    factories.login(client)
    page = text(client.get("/rota"))
    assert "mer. 25/11 18:00 jeu. 26/11 08:30 Bruno Petit remplacement" in page
    assert "lun. 30/11 18:00 lun. 07/12 18:00 Bruno Petit Alice Martin" in page  # an ordinary week
    assert page.count("remplacement") == 1


def test_the_csv_exports_hold_no_formula_and_foreign_numbers_as_dialled_from_france(client, agent):
    factories.call("2026-11-25 04:00", caller="+442079460000", number="=HYPERLINK(1)", duration=12)
    factories.call("2026-11-25 04:05", caller="anonymous", number="104233", duration=5)
    lines = client.get("/calls.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[2].startswith("2026-11-25;04:00:00;00 44 20 7946 0000;'=HYPERLINK(1);")
    assert lines[1].startswith("2026-11-25;04:05:00;anonymous;104233;")


def test_a_refused_note_or_status_is_explained_in_french(client, agent):
    token = factories.csrf(client, "/tickets/104233")
    note = client.post(
        "/tickets/104233/notes", data={"note": " ", "csrf_token": token}, follow_redirects=True
    )
    assert "Note refusée : le texte est vide" in text(note)
    change_status(factories.ticket("104233"), "closed", actor="agnes")
    late = client.post(  # a page left open before the ticket was closed
        "/tickets/104233/status", data={"status": "open", "csrf_token": token}, follow_redirects=True
    )
    assert "Statut refusé : une requête clôturée ne change plus" in text(late)


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "1999-12"])
def test_a_month_out_of_range_is_a_clear_400_not_a_crash(client, agent, month):
    for path in ("/reports", "/reports.csv"):
        answer = client.get(f"{path}?month={month}")
        assert answer.status_code == 400
        assert "month" in text(answer) and "out of range" in text(answer)
    assert client.get("/reports?month=2000-01").status_code == 200


@pytest.mark.parametrize("query", ["from=0001-01-01", "to=9999-12-31"])
def test_a_call_log_date_out_of_range_is_named_not_a_crash(client, agent, query):
    field = query.split("=")[0]
    assert "Filtre invalide" in text(client.get(f"/calls?{query}"))
    assert client.get(f"/calls.csv?{query}").status_code == 400
    answer = client.get(f"/api/calls?{query}", headers={"Authorization": f"Bearer {create_token('crm')}"})
    assert answer.status_code == 400 and answer.json["field"] == field
    assert "out of range" in answer.json["error"]


def test_a_mistyped_address_gets_the_dashboards_own_404(client, agent):
    answer = client.get("/tickts/104233")
    assert answer.status_code == 404
    assert "404 · Introuvable Cette page n'existe pas. Retour au tableau de bord" in text(answer)
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert client.get("/api/nothing").json["error"]  # the API still answers in JSON


def test_a_session_kept_busy_still_ends_a_day_after_its_login(client, agent, clock):
    for _ in range(47):  # the Now page on a wall screen, reloading all day and night
        clock.advance(minutes=30)
        assert client.get("/now").status_code == 200
    clock.advance(minutes=31)
    answer = client.get("/now", follow_redirects=True)
    assert "Votre session a expiré" in text(answer)


def test_pages_breaches_and_the_callers_sms_read_in_english_too(client, agent):
    night = factories.night()
    callout = night.open_callout
    failed = next(p for p in callout.pages if p.error_code == "13225")
    ticket = callout.ticket
    for kind, data in [
        (
            "page_failed",
            {
                "page": failed.id,
                "callout": callout.id,
                "channel": "voice",
                "name": "Bruno Petit",
                "status": "failed",
            },
        ),
        ("breach", {"callout": callout.id, "minutes": 30}),
        ("caller_sms", {"callout": callout.id, "sent": True, "body": "Astreinte : pris en charge"}),
        (
            "callout",
            {"callout": callout.id, "cancelled": True, "reason": "requête résolue", "status": "resolved"},
        ),
    ]:
        ticket.events.append(TicketEvent(kind=kind, at=factories.at("2026-11-25 03:40"), data=data))
    session.commit()
    english(client)
    page = text(client.get("/tickets/104260"))
    assert "call to Bruno Petit: failed" in page
    assert "Takeover deadline missed (30 min)" in page
    assert "SMS to the caller: “Astreinte : pris en charge”" in page  # what the caller read, as sent
    assert "on-call paging stopped: ticket resolved" in page

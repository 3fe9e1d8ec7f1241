# ruff: noqa: F811 - the browser fixtures are imported, then named as test arguments
"""The rota in a real browser (Debian's chromium through Playwright): a swap that changes who is paged
that night, a cover refused for its overlap, then undone; a calendar address picked up by a parser."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from icalendar import Calendar

from models import session
from tests import factories
from tests.oncall_helpers import ALICE, BRUNO, leave_voicemail
from tests.phone import sms_to

from .browser import browser, live_server, log_in, page  # noqa: F401 - fixtures

PASSWORD = "correct horse battery"


@pytest.fixture
def desk(app, clock, org):
    factories.user("sophie", PASSWORD, role="admin")


def test_a_swap_made_in_the_browser_changes_who_is_paged_that_night(page, desk):
    log_in(page, "sophie", PASSWORD)
    page.get_by_role("link", name="Planning").click()
    assert page.locator("#primary-now").inner_text() == "Alice Martin"
    swap = page.locator("form.swap-form")
    swap.get_by_label("Personne").select_option("alice")
    swap.get_by_label("Sa semaine").first.select_option("2026-11-23")
    swap.get_by_label("Avec").select_option("bruno")
    swap.get_by_label("Sa semaine").last.select_option("2026-11-30")
    swap.get_by_label("Raison").fill("Mariage d'Alice samedi")
    swap.get_by_role("button", name="Enregistrer l'échange").click()
    assert page.locator(".flash").first.inner_text() == "Changement n° 1 enregistré."
    assert page.locator("#primary-now").inner_text() == "Bruno Petit"
    assert page.locator("#backup-now").inner_text() == "Alice Martin"
    assert "Mariage d'Alice samedi" in page.locator(".rota-timeline").inner_text()

    session.rollback()  # this thread reads what the browser's requests wrote
    leave_voicemail("104233")
    assert sms_to(BRUNO)[0].startswith("Astreinte 104233") and sms_to(ALICE) == []


def test_a_cover_refused_for_its_overlap_then_undone_in_the_browser(page, desk):
    log_in(page, "sophie", PASSWORD)
    page.goto("/rota")
    cover = page.locator("form.cover-form")

    def fill(person: str, start: str, end: str, reason: str) -> None:
        cover.get_by_label("Qui remplace").select_option(person)
        cover.get_by_label("Rôle").select_option("primary")
        cover.get_by_label("Du (heure locale)").fill(start)
        cover.get_by_label("Au (heure locale)").fill(end)
        cover.get_by_label("Raison").fill(reason)
        cover.get_by_role("button", name="Enregistrer le remplacement").click()

    fill("chloe", "2026-11-24T23:30", "2026-11-25T08:30", "Alice a de la fièvre")
    assert page.locator(".flash").first.inner_text() == "Changement n° 1 enregistré."
    assert page.locator("tr[data-change='1']").is_visible()

    fill("david", "2026-11-25T06:00", "2026-11-25T12:00", "Relève de Chloé")
    refusal = page.locator(".flash.error").first.inner_text()
    assert refusal.startswith("Chevauchement : le changement n° 1 couvre déjà le rôle principal")
    assert page.locator("tr[data-change]").count() == 1

    page.locator("tr[data-change='1']").get_by_role("link", name="Annuler…").click()
    assert "Chloé Durand est principal" in page.locator(".undo-what").inner_text()  # asked first
    page.get_by_role("button", name="Oui, annuler ce changement").click()
    assert page.locator(".flash").first.inner_text() == "Changement n° 1 annulé."
    assert page.locator("tr[data-change]").count() == 0
    assert page.locator("#primary-now").inner_text() == "Alice Martin"
    assert [e.get_attribute("data-event") for e in page.locator(".rota-timeline li").all()] == [
        "undo",
        "cover",
    ]


def test_a_calendar_address_made_in_the_browser_is_read_by_a_parser(page, desk):
    log_in(page, "sophie", PASSWORD)
    page.goto("/rota")
    page.locator("tr[data-feed='alice']").get_by_role("button", name="Créer l'adresse").click()
    address = page.locator("#feed-url").inner_text()
    answer = page.request.get(urlsplit(address).path)
    assert answer.ok and answer.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(answer.body())
    first = min(calendar.walk("VEVENT"), key=lambda e: e.decoded("DTSTART"))
    assert first.decoded("DTSTART").strftime("%a %d/%m %H:%M %Z") == "Mon 26/10 18:00 CET"

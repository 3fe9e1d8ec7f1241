# ruff: noqa: F811 - the browser fixtures are imported, then named as test arguments
"""The dashboard on a phone (390 × 844, Debian's chromium through Playwright): a busy night with long
names and long subjects, and no page scrolls sideways; records read as cards, one per row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from dashboard.api import create_token
from models import Client, PageTest, session
from oncall.links import make_token
from oncall.overrides import cover
from org.load import current_org, load, read_file
from tests import factories
from tests.conftest import ORG_FILE, paris

from .browser import browser, live_server, log_in  # noqa: F401 - fixtures
from .oncall_helpers import BRUNO

PASSWORD = "correct horse battery"
PHONE = {"width": 390, "height": 844}
LONG_SUBJECT = (
    "Coupure intermittente du lien fibre FTTO principal et bascule 4G de secours inopérante depuis la "
    "mise à jour du routeur (référence constructeur RTR-8842-XG-2026-REV-B-FIRMWARE-7.4.12)"
)
PAGES = [
    "/now",
    "/calls",
    "/calls?outcome=refused",
    "/tickets/104233",
    "/tickets/104261",
    "/rota",
    "/reports?month=2026-11",
    "/admin/users",
    "/page-tests",
    "/no-such-page",
]


@pytest.fixture
def busy_night(app, clock, org) -> dict[str, Any]:
    """The tests' night, with a long client name, three more messages on long subjects waiting, a
    change of the rota made at the desk, and an API token."""
    clock.set("2026-11-24 22:40")
    doc = read_file(ORG_FILE)
    doc["rota"]["agents_may_change"] = True  # the rota page with its forms and the desk's changes
    load(doc)
    factories.night()
    dupont = session.scalar(select(Client).where(Client.account == "C1001"))
    dupont.name = "Boulangerie-Pâtisserie Dupont et Fils, succursale de Saint-Herblain-Atlantis"
    session.commit()
    links = []
    for minute, number in enumerate(("104261", "104262", "104263")):
        factories.extra_ticket(number, subject=LONG_SUBJECT, opened="2026-11-25 02:00")
        waiting = factories.callout(
            factories.voicemail(factories.call(f"2026-11-25 03:{33 + minute}", number=number))
        )
        sms = factories.page(waiting, "bruno", "sms", "delivered", f"2026-11-25 03:{34 + minute}")
        links.append(f"/o/{make_token(sms.id)}")
        factories.page(
            waiting, "bruno", "voice", "failed", f"2026-11-25 03:{34 + minute}", error_code="13225"
        )
    cover(
        current_org(),
        "chloe",
        "primary",
        paris("2026-11-27 18:00"),
        paris("2026-11-28 08:30"),
        "Alice en formation à Nantes toute la semaine, remplacement convenu avec le responsable d'astreinte",
        "sophie",
    )
    session.add(  # a pager that failed its evening test, with a long requester name
        PageTest(
            person_id="bruno",
            origin="evening",
            requested_by="responsable-astreinte-du-centre-de-services",
            night="2026-11-24",
            to_number=BRUNO,
            channels="sms voice",
            sms_sid="SM" + "4" * 32,
            sms_status="undelivered",
            sms_error="30003",
            call_sid="CA" + "2" * 32,
            call_status="no-answer",
            created_at=paris("2026-11-24 18:05"),
            outcome="failed",
        )
    )
    session.commit()
    create_token("supervision-externale-du-centre-de-services-partages")
    factories.user("sophie", PASSWORD, role="admin")
    factories.user("sam", PASSWORD, role="admin", language="en")
    clock.set("2026-11-25 03:45")
    return {"link": links[0]}


@pytest.fixture
def phone_page(browser, live_server) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server, locale="fr-FR", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sideways(page: Any) -> int:
    """How far the page itself scrolls sideways, in CSS pixels (0: it fits the screen)."""
    width, screen = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert screen == PHONE["width"]
    return int(width - screen)


@pytest.mark.parametrize("who", ["sophie", "sam"])  # French, English
def test_no_dashboard_page_scrolls_sideways_on_a_phone(phone_page, busy_night, who):
    log_in(phone_page, who, PASSWORD)
    for path in PAGES:
        phone_page.goto(path)
        assert sideways(phone_page) <= 0, path
    phone_page.goto(busy_night["link"])  # the technician's take-over page, opened from the SMS
    assert phone_page.get_by_role("button", name="Je prends en charge 104261").is_visible()  # Bruno's French
    assert sideways(phone_page) <= 0


def test_on_a_phone_each_call_of_the_log_is_a_card_with_its_values_named(phone_page, busy_night):
    log_in(phone_page, "sophie", PASSWORD)
    phone_page.goto("/calls?outcome=refused")
    assert not phone_page.locator("table.calls thead").is_visible()
    card = phone_page.locator("tr[data-call]").first
    box = card.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    named = card.locator("td").evaluate_all(
        "cells => cells.filter(c => c.offsetParent).map("
        "c => [getComputedStyle(c, '::before').content, c.innerText.trim()])"
    )
    assert ['"Issue"', "refusé"] in named and ['"Motif"', "requête inconnue"] in named


def test_on_a_phone_a_waiting_ticket_fits_the_screen_pages_and_all(phone_page, busy_night):
    log_in(phone_page, "sophie", PASSWORD)
    card = phone_page.locator("article.callout").first
    assert card.locator(".left").inner_text() == "reste 15 min 30 s"
    assert (
        "échec · erreur 13225 : destination interdite par les autorisations géographiques du compte"
        in card.inner_text()
    )
    rightmost = card.evaluate(
        "c => Math.max(...[c, ...c.querySelectorAll('*')].map(e => e.getBoundingClientRect().right))"
    )
    assert rightmost <= PHONE["width"]


def test_on_a_wide_screen_the_call_log_is_still_a_table(browser, live_server, busy_night):
    context = browser.new_context(
        base_url=live_server, locale="fr-FR", viewport={"width": 1280, "height": 900}
    )
    try:
        page = context.new_page()
        log_in(page, "sophie", PASSWORD)
        page.goto("/calls")
        assert page.locator("table.calls thead").is_visible()
        assert page.locator("table.calls th").first.inner_text() == "HEURE"
    finally:
        context.close()


def test_on_a_phone_the_report_charts_labels_read_at_their_own_size(phone_page, busy_night):
    log_in(phone_page, "sophie", PASSWORD)
    phone_page.goto("/reports?month=2026-11")
    heights = phone_page.evaluate(
        "[...document.querySelectorAll('svg.chart text')].map(t => t.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 10, heights  # 11 px labels, not scaled down to the screen
    assert sideways(phone_page) <= 0  # the chart scrolls in its box, the page does not

# ruff: noqa: F811 - the browser fixtures are imported, then named as test arguments
"""The morning review in a real browser (Debian's chromium through Playwright): log in, filter the
call log, open a ticket, play its recording, put it in client standby and see its clock stop."""

from __future__ import annotations

import re

import pytest

from . import factories
from .browser import browser, live_server, log_in, page  # noqa: F401 - fixtures

PASSWORD = "correct horse battery"


@pytest.fixture
def night(app, clock, org):
    night = factories.night()
    factories.user("agnes", PASSWORD)
    clock.set("2026-11-25 03:45")
    return night


def test_an_agent_reviews_the_night_in_the_browser(page, night):
    log_in(page, "agnes", PASSWORD)
    assert page.locator("article.callout h2").first.inner_text() == "Requête 104260 · Boulangerie Dupont"
    assert page.locator(".left").first.inner_text() == "reste 15 min 30 s"

    page.get_by_role("link", name="Journal des appels").click()
    assert page.locator("tr[data-call]").count() == 6
    page.get_by_label("Issue").select_option("refused")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url(re.compile(r"outcome=refused"))
    rows = page.locator("tr[data-call]")
    assert rows.count() == 3
    assert "code PIN erroné" in rows.nth(2).inner_text()

    rows.nth(2).get_by_role("link", name="104233").click()
    page.wait_for_url("**/tickets/104233")
    assert "Requête 104233" in page.locator("h1").inner_text()
    assert "pris en charge par Alice Martin à 23:19" in page.locator("article.callout").inner_text()


def test_a_recording_plays_in_the_browser(page, night):
    log_in(page, "agnes", PASSWORD)
    with page.expect_response(re.compile(r"/voicemails/\d+/audio")) as media:
        page.goto("/tickets/104233")
    answer = media.value
    assert answer.status in (200, 206)
    assert answer.headers["content-type"] == "audio/wav"
    audio = page.locator("article.callout audio")
    page.wait_for_function("a => a.readyState >= 1 && a.duration > 0", arg=audio.element_handle())
    assert audio.evaluate("a => a.duration") == pytest.approx(3.0, abs=0.1)
    audio.evaluate("a => a.play().catch(() => null)")
    page.wait_for_function("a => a.currentTime > 0 || a.ended", arg=audio.element_handle())


def test_client_standby_stops_the_clock_in_the_browser(page, night, clock):
    log_in(page, "agnes", PASSWORD)
    page.goto("/tickets/104260")
    resolution = page.locator("[data-clock=resolution]")
    assert "reste" in resolution.inner_text()
    page.get_by_label("Nouveau statut").select_option("client_standby")
    page.get_by_label("Commentaire (facultatif)").fill("le client teste son lien")
    page.get_by_role("button", name="Changer le statut").click()
    assert page.locator(".flash").first.inner_text() == "Statut changé."
    assert page.locator("#ticket-status").inner_text() == "attente client"
    stopped = resolution.inner_text()
    assert "Horloge arrêtée : attente client" in stopped
    clock.advance(hours=3)
    page.reload()
    assert resolution.inner_text() == stopped  # three hours later: not a second more
    assert "ouverte → attente client : le client teste son lien" in page.locator("ol.timeline").inner_text()


def test_resuming_after_client_standby_is_the_proposed_step_and_restarts_the_clock(page, night, clock):
    log_in(page, "agnes", PASSWORD)
    page.goto("/tickets/104260")
    page.get_by_label("Nouveau statut").select_option("client_standby")
    page.get_by_role("button", name="Changer le statut").click()
    assert page.get_by_label("Nouveau statut").input_value() == "in_progress"  # what comes next
    clock.advance(hours=2)
    page.get_by_role("button", name="Changer le statut").click()
    assert page.locator("#ticket-status").inner_text() == "en cours"
    resolution = page.locator("[data-clock=resolution]")
    running = resolution.inner_text()
    assert "Horloge arrêtée" not in running and "Attente client cumulée : 2 h 00 min" in page.content()
    clock.advance(minutes=30)
    page.reload()
    assert resolution.inner_text() != running  # the clock runs again
    assert page.get_by_label("Nouveau statut").input_value() == "resolved"


def test_a_stranger_only_sees_the_login_page(page, night):
    page.goto("/calls")
    assert page.get_by_role("button", name="Se connecter").is_visible()
    page.goto("/login")
    page.get_by_label("Nom").fill("agnes")
    page.get_by_label("Mot de passe").fill("wrong password")
    page.get_by_role("button", name="Se connecter").click()
    assert page.locator(".flash").inner_text() == "Nom ou mot de passe incorrect."


def test_browser_tests_are_skipped_without_chromium_unless_on_ci(monkeypatch, tmp_path):
    from . import browser as fixtures

    monkeypatch.setattr(fixtures, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        fixtures.need_chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="missing on CI"):
        fixtures.need_chromium()

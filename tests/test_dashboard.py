"""The agents' dashboard: login, sessions and CSRF, and the morning review of a night."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from models import Role, Ticket, TicketStatus, User, session
from words.ui import EN

from . import factories

TEMPLATES = Path(__file__).resolve().parent.parent / "tickets" / "templates" / "desk"


@pytest.fixture
def agent(client, clock, org):
    return factories.login(client)


text = factories.visible_text


# --- who gets in --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/now",
        "/calls",
        "/calls.csv",
        "/tickets/104233",
        "/rota",
        "/reports",
        "/reports.csv",
        "/voicemails/1/audio",
        "/admin/users",
    ],
)
def test_every_page_sends_a_stranger_to_the_login_page(client, org, path):
    answer = client.get(path)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login")


def test_nothing_but_login_api_webhooks_and_signed_links_answers_a_stranger(app, client, org):
    """Walk every route of the application without credentials: none may hand out data."""
    open_to_all = {"auth.login", "auth.static", "static", "healthz", "metrics.metrics", "api.openapi"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in open_to_all:
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<int:{arg}>", "1").replace(f"<{arg}>", "x").replace(f"<path:{arg}>", "x")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            status = client.open(url, method=method).status_code
            assert status in (302, 400, 401, 403, 404, 405), f"{method} {url} answered {status}"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client, org):
    factories.user("agnes", "correct horse battery")
    token = factories.csrf(client)
    for name, password in [("agnes", "wrong"), ("nobody", "correct horse battery")]:
        answer = client.post("/login", data={"name": name, "password": password, "csrf_token": token})
        assert answer.status_code == 401
        assert "Nom ou mot de passe incorrect." in text(answer)
    assert client.get("/now").status_code == 302


def test_password_guessing_is_stopped_after_ten_tries(client, org):
    factories.user("agnes", "correct horse battery")
    token = factories.csrf(client)
    for _ in range(10):
        client.post("/login", data={"name": "agnes", "password": "guess", "csrf_token": token})
    answer = client.post(
        "/login", data={"name": "agnes", "password": "correct horse battery", "csrf_token": token}
    )
    assert answer.status_code == 429
    assert "Trop d'essais" in text(answer)


def test_passwords_are_stored_hashed(app, org):
    result = CliRunner().invoke(
        app.cli, ["user", "add", "bea", "--role", "admin"], input="a long passphrase\n"
    )
    assert result.exit_code == 0, result.output
    bea = session.scalar(select(User).where(User.name == "bea"))
    assert bea.role is Role.ADMIN and "a long passphrase" not in bea.password_hash
    again = CliRunner().invoke(app.cli, ["user", "add", "bea"], input="another passphrase\n")
    assert again.exit_code == 1 and "exists" in again.output
    short = CliRunner().invoke(app.cli, ["user", "add", "carl"], input="short\n")
    assert short.exit_code == 1


def test_the_login_form_needs_its_token(client, org):
    factories.user("agnes", "correct horse battery")
    answer = client.post("/login", data={"name": "agnes", "password": "correct horse battery"})
    assert answer.status_code == 400
    assert client.get("/now").status_code == 302


def test_a_form_without_its_token_changes_nothing(client, agent):
    answer = client.post("/tickets/104233/status", data={"status": "resolved"})
    assert answer.status_code == 400
    assert "Formulaire expiré ou falsifié" in text(answer)
    assert session.scalar(select(Ticket.status).where(Ticket.number == "104233")) is TicketStatus.OPEN
    forged = client.post("/tickets/104233/notes", data={"note": "x", "csrf_token": "forged"})
    assert forged.status_code == 400


def test_the_session_expires_after_the_idle_lifetime(app, client, agent, clock):
    assert client.get("/now").status_code == 200
    clock.advance(hours=7)
    assert client.get("/now").status_code == 200  # used: the idle lifetime starts again
    clock.advance(hours=8, minutes=1)
    answer = client.get("/now", follow_redirects=True)
    assert "Votre session a expiré" in text(answer)
    assert "Connexion" in text(answer)


def test_logging_out_ends_the_session(client, agent):
    client.post("/logout", data={"csrf_token": factories.csrf(client, "/now")})
    assert client.get("/now").status_code == 302


def test_after_login_the_agent_lands_where_they_were_going_but_never_elsewhere(client, clock, org):
    factories.user("agnes", "correct horse battery")
    for target, landing in [
        ("/calls?outcome=refused", "/calls?outcome=refused"),
        ("https://evil.example/", "/now"),
        ("//evil.example/", "/now"),
    ]:
        answer = client.post(
            "/login",
            data={
                "name": "agnes",
                "password": "correct horse battery",
                "next": target,
                "csrf_token": factories.csrf(client),
            },
        )
        assert answer.headers["Location"] == landing
        client.post("/logout", data={"csrf_token": factories.csrf(client, "/now")})


def test_only_administrators_see_the_users_page(client, clock, org):
    factories.login(client)
    assert client.get("/admin/users").status_code == 403
    client.post("/logout", data={"csrf_token": factories.csrf(client, "/now")})
    factories.login(client, "root", "another long password", role="admin")
    assert "agnes" in text(client.get("/admin/users"))


def test_pages_forbid_framing_and_foreign_scripts(client, agent):
    headers = client.get("/now").headers
    assert headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in headers["Content-Security-Policy"]


# --- the morning review -------------------------------------------------------------------------


def test_now_shows_the_open_callout_with_its_time_left_and_the_pages(client, agent, clock):
    factories.night()
    clock.set("2026-11-25 03:45")
    page = text(client.get("/now"))
    assert "Requête 104260 · Boulangerie Dupont" in page
    assert "reste 15 min 30 s" in page
    assert "Bruno Petit SMS remis" in page
    assert "Bruno Petit appel occupé" in page
    assert (
        "échec · erreur 13225 : destination interdite par les autorisations géographiques du compte" in page
    )
    assert "Alice Martin · appel · 23:19" in page  # the night's first callout, taken over
    clock.set("2026-11-25 04:10")
    assert "délai dépassé de 9 min 30 s" in text(client.get("/now"))


def test_the_call_log_lists_every_call_and_filters_it(client, agent):
    factories.night()
    page = text(client.get("/calls"))
    assert "25/11/2026 02:10 06 99 88 77 66 999999 — refusé requête inconnue 35 s" in page
    assert "24/11/2026 23:02 06 11 22 33 44 104233 Boulangerie Dupont refusé code PIN erroné 50 s" in page
    refused = client.get("/calls?outcome=refused").get_data(as_text=True)
    assert refused.count("data-call=") == 3
    assert client.get("/calls?client=C1002").get_data(as_text=True).count("data-call=") == 1
    assert client.get("/calls?ticket=104233").get_data(as_text=True).count("data-call=") == 2
    assert client.get("/calls?caller=06 99 88 77 66").get_data(as_text=True).count("data-call=") == 1
    assert client.get("/calls?from=2026-11-24&to=2026-11-24").get_data(as_text=True).count("data-call=") == 3


def test_a_bad_filter_is_shown_not_crashed(client, agent):
    answer = client.get("/calls?caller=nobody")
    assert answer.status_code == 400
    assert "Filtre invalide : Appelant" in text(answer)


def test_the_call_log_pages_by_keyset(client, agent):
    factories.night()
    html = client.get("/calls?limit=4").get_data(as_text=True)
    assert html.count("data-call=") == 4
    following = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    rest = client.get(following).get_data(as_text=True)
    assert rest.count("data-call=") == 2 and 'rel="next"' not in rest
    assert "17:40" in text(client.get(following))


def test_the_call_log_exports_the_filtered_calls_as_csv(client, agent):
    factories.night()
    answer = client.get("/calls.csv?outcome=refused")
    assert answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"].startswith("attachment")
    lines = answer.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "date;heure;appelant;requête;client;issue;motif;durée (s);rappel;message (s)"
    assert lines[1:] == [
        "2026-11-25;02:10:00;06 99 88 77 66;999999;;refusé;requête inconnue;35;;",
        "2026-11-25;01:40:00;02 44 55 66 77;104251;C1002;refusé;client sans option astreinte;40;;",
        "2026-11-24;23:02:00;06 11 22 33 44;104233;C1001;refusé;code PIN erroné;50;;",
    ]


def test_recordings_stream_to_logged_in_agents_and_can_be_sought(client, agent):
    night = factories.night()
    voicemail = night.answered.voicemail
    answer = client.get(f"/voicemails/{voicemail.id}/audio")
    assert answer.status_code == 200 and answer.mimetype == "audio/wav"
    assert answer.data[:4] == b"RIFF"
    part = client.get(f"/voicemails/{voicemail.id}/audio", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.data) == 100
    assert "api.twilio.com" not in client.get("/calls").get_data(as_text=True)


def test_a_purged_recording_is_gone_for_everyone(client, agent, clock):
    night = factories.night()
    voicemail = night.answered.voicemail
    voicemail.purged_at = clock.now()
    session.commit()
    assert client.get(f"/voicemails/{voicemail.id}/audio").status_code == 404
    assert "enregistrement effacé" in text(client.get("/calls"))


def test_the_ticket_page_shows_details_clocks_callouts_and_timeline(client, agent, clock):
    factories.night()
    clock.set("2026-11-25 03:45")
    page = text(client.get("/tickets/104233"))
    assert "Requête 104233 ouverte" in page
    assert "Boulangerie Dupont (C1001)" in page and "SDSL-4471" in page and "Élevée" in page
    assert "pris en charge par Alice Martin à 23:19 (appel), en 13 min 30 s" in page
    assert "Alice Martin SMS remis" in page
    assert "code PIN erroné" in page
    assert "prise en charge Alice Martin pris en charge par alice" in page


def test_client_standby_stops_the_clock_on_the_ticket_page(client, agent, clock):
    factories.night()
    clock.set("2026-11-25 03:52")
    token = factories.csrf(client, "/tickets/104260")
    client.post(
        "/tickets/104260/status",
        data={"status": "client_standby", "note": "test du lien", "csrf_token": token},
    )
    page = text(client.get("/tickets/104260"))
    assert "attente client" in page and "Horloge arrêtée : attente client" in page
    assert "ouverte → attente client : test du lien" in page
    clock.advance(hours=6)
    assert "Horloge arrêtée" in text(client.get("/tickets/104260"))
    clock.advance(hours=4)
    client.post("/tickets/104260/status", data={"status": "in_progress", "csrf_token": token})
    assert "Attente client cumulée : 10 h 00 min" in text(client.get("/tickets/104260"))


def test_an_agent_adds_a_note_to_the_timeline(client, agent):
    token = factories.csrf(client, "/tickets/104233")
    answer = client.post(
        "/tickets/104233/notes",
        data={"note": "Client rappelé à 9 h", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Note ajoutée." in text(answer)
    assert "note agnes Client rappelé à 9 h" in text(answer)
    refused = client.post(
        "/tickets/104233/notes", data={"note": " ", "csrf_token": token}, follow_redirects=True
    )
    assert "Note refusée" in text(refused)


def test_an_unknown_ticket_is_a_clear_404(client, agent):
    answer = client.get("/tickets/999999")
    assert answer.status_code == 404 and "Aucune requête n° 999999." in text(answer)
    back = client.get("/tickets?number=999999", headers={"Referer": "http://localhost/calls?outcome=refused"})
    assert back.headers["Location"] == "/calls?outcome=refused"
    foreign = client.get("/tickets?number=999999", headers={"Referer": "https://evil.example/x"})
    assert foreign.headers["Location"] == "/now"
    assert client.get("/tickets?number=104233").headers["Location"] == "/tickets/104233"


def test_the_rota_page_shows_who_is_on_call_now_and_the_override(client, clock, org):
    clock.set("2026-11-25 20:00")  # Bruno replaces Alice tonight
    factories.login(client)
    page = text(client.get("/rota"))
    assert re.search(r"Maintenant Principal Bruno Petit Renfort Alice Martin", page)
    assert "25/11/2026 18:00 → 26/11/2026 08:30 : Bruno Petit (principal)" in page
    assert "lun. 30/11 18:00" in page


def test_the_monthly_report_counts_takeovers_within_the_commitment(client, agent, clock):
    night = factories.night()
    factories.take_over(night.open_callout, "bruno", "sms", "2026-11-25 04:12")  # 41 min 30 s: late
    page = text(client.get("/reports?month=2026-11"))
    assert "50 % prises en charge dans le délai" in page
    assert "1 / 2 astreintes dans le délai" in page
    assert "27,5 min délai médian" in page  # (13.5 + 41.5) / 2
    assert "Alice Martin 1 100 %" in page and "Bruno Petit 1 0 %" in page
    assert "code PIN erroné 1" in page
    assert "<svg" in client.get("/reports?month=2026-11").get_data(as_text=True)
    lines = client.get("/reports.csv?month=2026-11").get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[1] == "2026-11;(tous);2;2;1;50,0;27,5;38,7"  # decimal commas: numbers in a French sheet
    assert "2026-11;code PIN erroné;1" in lines
    assert client.get("/reports?month=11-2026").status_code == 400


def test_the_interface_switches_to_english(client, agent):
    client.post(
        "/language", data={"lang": "en", "next": "/calls", "csrf_token": factories.csrf(client, "/now")}
    )
    page = text(client.get("/calls"))
    assert "Call log" in page and "Outcome" in page
    assert session.scalar(select(User.language).where(User.name == "agnes")) == "en"


def test_every_french_text_of_the_templates_has_its_english(app):
    used: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        source = template.read_text()
        used |= set(re.findall(r'\bt\(\s*"([^"]+)"', source)) | set(re.findall(r"\bt\(\s*'([^']+)'", source))
    missing = sorted(s for s in used if s not in EN)
    assert not missing


def test_each_clock_on_the_ticket_page_says_what_it_counts_from(client, agent, clock):
    factories.night()
    clock.set("2026-11-25 03:45")
    page = text(client.get("/tickets/104233"))
    assert "Comptés depuis l'ouverture de la requête, le" in page  # the SLA box: from the ticket
    assert "30 min après le message" in page  # the callout: from the message

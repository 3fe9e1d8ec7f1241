"""The words of a French astreinte desk: « alerte » for what a technician receives, « planning
d'astreinte » for the rota, elisions made (« d'Alice »), carrier error codes explained, and the demo's
night told in words rather than internal codes, with no log line in the middle of the script."""

from __future__ import annotations

import io
import os
import re
import subprocess
import wave

import pytest

from models import session
from words.carriers import ERRORS, carrier_error
from words.catalogue import de, elide
from words.ui import t
from wsgi import create_app

from . import factories
from .processes import astreinte

text = factories.visible_text


@pytest.mark.parametrize(
    "written, said",
    [
        ("à la place de Alice Martin", "à la place d'Alice Martin"),
        ("le test d'alerte de Émile", "le test d'alerte d'Émile"),
        ("parce que Yves dort", "parce qu'Yves dort"),
        ("De Alice", "D'Alice"),
        ("à la place de Bruno Petit", "à la place de Bruno Petit"),
        ("un délai de 30 minutes", "un délai de 30 minutes"),
        ("la liste des Irlandais", "la liste des Irlandais"),  # « des » is not elided
    ],
)
def test_french_elides_de_and_que_before_a_vowel(written, said):
    assert elide(written) == said


def test_names_filled_into_french_sentences_are_elided_and_english_is_left_alone():
    assert de("Alice") == "d'Alice" and de("Bruno") == "de Bruno" and de("Alice", "en") == "Alice"
    assert t("Test d'alerte de {name} envoyé : SMS et appel.", "fr", name="Alice Martin") == (
        "Test d'alerte d'Alice Martin envoyé : SMS et appel."
    )
    assert t("Test d'alerte de {name} envoyé : SMS et appel.", "en", name="Alice Martin") == (
        "Alert test of Alice Martin sent: SMS and call."
    )


@pytest.mark.parametrize("code", ["30003", "30005", "30006", "30007", "30008", "13225", "21610", "21211"])
def test_the_carrier_codes_we_meet_are_explained_in_both_languages(code):
    french, english = carrier_error(code, "fr"), carrier_error(code, "en")
    assert french.startswith(f"erreur {code} : ") and len(french) > len(f"erreur {code} : ") + 5
    assert english.startswith(f"error {code}: ") and english != french
    assert ERRORS[code][0] in french and ERRORS[code][1] in english


def test_an_unknown_carrier_code_is_shown_as_it_is():
    assert carrier_error("99999", "fr") == "erreur 99999"
    assert carrier_error(None, "fr") == ""


def test_the_menu_says_planning_and_alert_tests_in_french_and_rota_in_english(client, clock, org):
    factories.login(client)
    page = text(client.get("/now"))
    assert "Planning Tests d'alerte Rapports" in page and "Rota" not in page
    rota = text(client.get("/rota"))
    assert "Planning d'astreinte" in rota and "Historique du planning" in rota
    tests_page = text(client.get("/page-tests"))
    assert "Tests d'alerte" in tests_page and "Tests des pages" not in tests_page
    client.post(
        "/language", data={"lang": "en", "csrf_token": factories.csrf(client, "/now"), "next": "/now"}
    )
    english = text(client.get("/now"))
    assert "Rota Alert tests Reports" in english


def test_the_demo_tells_the_night_in_words_without_log_lines(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "LOG_LEVEL")}
    env["ASTREINTE_INSTANCE"] = str(tmp_path / "instance")
    out = subprocess.run(
        astreinte("demo", "--night", "2026-11-24"), env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    said = out.stdout + out.stderr
    assert " INFO " not in said and " DEBUG " not in said
    for code in (
        " opened ",
        " callout ",
        " page_failed ",
        " caller_sms ",
        "(no-answer)",
        "(busy)",
        "escalade niveau 0",
    ):
        assert code not in said, code
    assert "alerte en échec  appel vers Bruno Petit : sans réponse" in said
    assert "Bruno Petit ne répond pas (sans réponse)" in said
    assert "prise en charge sans escalade" in said


def test_a_kept_demo_night_plays_its_messages_in_the_dashboard_with_their_length(tmp_path):
    kept = tmp_path / "night.db"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "LOG_LEVEL")}
    env["ASTREINTE_INSTANCE"] = str(tmp_path / "instance")
    out = subprocess.run(
        astreinte("demo", "--night", "2026-11-24", "--keep", str(kept)),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    recordings = tmp_path / "night-recordings"
    assert f"RECORDINGS_DIR={recordings}" in out.stdout

    app = create_app(
        {"INSTANCE": tmp_path / "instance", "DATABASE_URL": f"sqlite:///{kept}", "RECORDINGS_DIR": recordings}
    )
    with app.app_context():
        client = app.test_client()
        factories.login(client)
        calls = client.get("/calls").get_data(as_text=True)
        assert calls.count('<span class="muted duration">0:25</span>') == 2, calls
        audio = re.search(r'<audio[^>]* src="(/voicemails/\d+/audio)"', calls).group(1)
        answer = client.get(audio)
        assert answer.status_code == 200
        with wave.open(io.BytesIO(answer.data)) as wav:
            assert round(wav.getnframes() / wav.getframerate()) == 25
        session.remove()
    app.extensions["engine"].dispose()

"""A gap in the rota shows as a banner on every dashboard page (and as a warning of /healthz, which
stays 200): the desk sees it in the morning, before the night that would page nobody. The banner speaks
the agent's language; /healthz speaks French unless asked for English (`?lang=en`, Accept-Language)."""

from __future__ import annotations

import pytest

from models import Person, session

from . import factories

text = factories.visible_text

BACKUP_NOW_FR = "planning d'astreinte : personne pour le rôle « astreinte de secours » (backup) en ce moment"
BACKUP_NOW_EN = "rota: nobody in the role “backup on-call” (backup) right now"
PRIMARY_COMING_FR = "planning d'astreinte : personne pour le rôle « astreinte principale » (primary) à partir du 25/11 à 18:00"
PRIMARY_COMING_EN = "rota: nobody in the role “primary on-call” (primary) from 25/11 at 18:00"


@pytest.fixture
def bruno_left(org):
    session.get(Person, "bruno").active = False  # left, still in the rota: backup now, primary tomorrow
    session.commit()


def test_a_gap_in_the_rota_is_a_banner_on_the_dashboard(client, org, clock):
    factories.login(client)
    assert "personne pour le rôle" not in client.get("/now").get_data(as_text=True)
    session.get(Person, "bruno").active = False  # left, still in the rota
    session.commit()
    for page in ("/now", "/calls", "/rota"):
        assert BACKUP_NOW_FR in text(client.get(page)), page
    assert client.get("/healthz").status_code == 200


def test_an_english_speaking_agent_reads_the_banner_in_english(client, clock, bruno_left):
    factories.login(client, "sam", language="en")
    page = text(client.get("/now"))
    assert BACKUP_NOW_EN in page and PRIMARY_COMING_EN in page
    assert "personne pour le rôle" not in page


def test_the_banner_follows_the_language_switch(client, clock, bruno_left):
    factories.login(client)
    assert PRIMARY_COMING_FR in text(client.get("/calls"))
    client.post(
        "/language", data={"lang": "en", "next": "/calls", "csrf_token": factories.csrf(client, "/now")}
    )
    page = text(client.get("/calls"))
    assert PRIMARY_COMING_EN in page and PRIMARY_COMING_FR not in page


def test_healthz_warns_in_french_unless_asked_for_english(client, clock, bruno_left):
    assert client.get("/healthz").get_json()["warnings"] == [BACKUP_NOW_FR, PRIMARY_COMING_FR]
    for answer in (
        client.get("/healthz?lang=en"),
        client.get("/healthz", headers={"Accept-Language": "en-GB,en;q=0.9"}),
    ):
        assert answer.status_code == 200
        assert answer.get_json()["warnings"] == [BACKUP_NOW_EN, PRIMARY_COMING_EN]
    assert client.get("/healthz?lang=xx").get_json()["warnings"] == [BACKUP_NOW_FR, PRIMARY_COMING_FR]


def test_healthz_without_an_organisation_says_what_to_run_in_either_language(client, clock):
    assert client.get("/healthz").get_json()["warnings"] == [
        "aucun fichier d'organisation chargé : lancez `astreinte load examples/org.yaml`"
    ]
    assert client.get("/healthz?lang=en").get_json()["warnings"] == [
        "no organisation file loaded: run `astreinte load examples/org.yaml`"
    ]

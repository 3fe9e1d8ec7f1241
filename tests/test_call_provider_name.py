"""The provider's name and portal come from the organisation file: another provider sets its own and
is heard and read under that name, without touching code."""

from __future__ import annotations

from pathlib import Path

import pytest

from org.load import load, read_file
from org.orgfile import OrgFileError, parse
from tests.conftest import ORG_FILE
from tests.phone import ISABELLE, sms_to, up_to_the_beep

SHARED_EXAMPLE = Path("/work/shared/examples/org.yaml")


@pytest.fixture
def breizh(org):
    """The example organisation under another provider's name and portal."""
    doc = read_file(ORG_FILE)
    doc["name"] = "Breizh Télécom"
    doc["portal"] = "https://aide.breizh-telecom.example/"
    load(doc)


def test_another_provider_is_named_in_the_greeting_and_its_portal_given_to_a_caller_without_ticket(
    phone, breizh
):
    call = phone.call(from_=ISABELLE)
    call.expect("l'astreinte Breizh Télécom").expect_not("Serveurcom").silence()
    call.expect("contactez-nous sur le portail client aide.breizh-telecom.example").expect_not("serveurcom")


def test_another_provider_is_named_in_english_too(phone, breizh):
    call = phone.call(from_=ISABELLE).press("9")
    call.expect("Good evening, this is Breizh Télécom on-call").expect_not("Serveurcom")


def test_another_provider_is_named_in_the_desk_greeting(phone, clock, breizh):
    clock.set("2026-11-25 10:00")
    phone.call(from_=ISABELLE).expect("Breizh Télécom, bonjour").expect_not("Serveurcom")


def test_another_provider_signs_the_callers_sms_with_its_name_and_portal(phone, breizh):
    up_to_the_beep(phone).record(seconds=20).press("1")
    assert sms_to(ISABELLE) == [
        "Breizh Télécom astreinte : votre message de 23:10 sur la demande 104233 est transmis. "
        "Prise en charge avant 23:40. Suivi : aide.breizh-telecom.example"
    ]


def test_a_file_without_name_or_portal_still_loads_and_names_nobody(phone, org):
    doc = read_file(ORG_FILE)
    del doc["name"], doc["portal"]
    load(doc)
    call = phone.call(from_=ISABELLE)
    call.expect("Bonsoir, ici l'astreinte, réservée aux requêtes déjà ouvertes").silence()
    call.expect("Pour en ouvrir une, contactez-nous aux heures ouvrées")
    call.press("104233#").expect("code PIN").press("4821#").expect("nous vous rappellerons").silence()
    call.expect("après le bip").record(seconds=20).press("1")
    assert sms_to(ISABELLE)[0].startswith("Astreinte : votre message de 23:10")
    assert sms_to(ISABELLE)[0].endswith("Prise en charge avant 23:40.")


@pytest.mark.skipif(not SHARED_EXAMPLE.exists(), reason="the shared example is not on this machine")
def test_the_shared_example_without_name_or_portal_parses():
    org = parse(read_file(SHARED_EXAMPLE))
    assert (org.name, org.portal, org.live_connect) == ("", "", None)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"name": ["Serveurcom"]}, "name: expected the provider's name"),
        ({"name": "x" * 41}, "name: 41 characters: at most 40"),
        ({"portal": "support serveurcom com"}, "portal: expected a web address"),
        ({"portal": "<script>"}, "portal: expected a web address"),
    ],
)
def test_a_bad_name_or_portal_is_refused_with_its_key(value, problem):
    doc = read_file(ORG_FILE)
    doc.update(value)
    with pytest.raises(OrgFileError) as refused:
        parse(doc)
    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems


def test_no_provider_name_is_left_in_the_code():
    root = ORG_FILE.parent.parent
    rooms = ("words", "voice", "oncall", "tickets", "org", "dashboard", "devtools", "serving")
    named = [
        str(path.relative_to(root))
        for room in rooms
        for path in (root / room).rglob("*.py")
        if "serveurcom" in path.read_text(encoding="utf-8").lower()
    ]
    assert named == []

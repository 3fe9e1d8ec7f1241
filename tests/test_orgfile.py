"""Loading the organisation file: idempotent, and refused as a whole with named problems."""

from __future__ import annotations

import copy

import pytest
import yaml
from sqlalchemy import func, select

from models import Client, Person, Service, Ticket, session
from org.load import current_org, load
from org.orgfile import OrgFileError
from org.pins import pin_matches

from .conftest import ORG_FILE


@pytest.fixture
def doc() -> dict:
    return yaml.safe_load(ORG_FILE.read_text())


def test_loading_the_example_creates_people_clients_services_and_tickets(app, doc):
    load(doc)
    assert session.scalar(select(func.count()).select_from(Person)) == 5
    assert session.get(Person, "bruno").phone == "+33623456789"
    client = session.scalar(select(Client).where(Client.account == "C1001"))
    assert client.contacts[0].phone == "+33611223344"
    assert {s.ref for s in client.services} == {"SDSL-4471", "VOIP-0400"}
    assert session.scalar(select(Ticket).where(Ticket.number == "104233")).priority == "high"


def test_pins_are_stored_hashed(app, doc):
    load(doc)
    client = session.scalar(select(Client).where(Client.account == "C1001"))
    assert "4821" not in client.pin_hash.split("$")  # a hex digest may hold the digits by chance
    assert pin_matches("4821", client.pin_hash)
    assert not pin_matches("4822", client.pin_hash)


def test_loading_twice_changes_nothing(app, doc):
    load(doc)
    before = session.scalar(select(Client.pin_hash).where(Client.account == "C1001"))
    changed = load(copy.deepcopy(doc))
    assert sum(changed.values()) == 0
    assert session.scalar(select(Client.pin_hash).where(Client.account == "C1001")) == before


def test_a_changed_file_updates_in_place(app, doc):
    load(doc)
    doc["clients"][1]["astreinte"] = True
    doc["people"][0]["phone"] = "07 81 22 33 44"
    changed = load(doc)
    assert changed["clients"] == 1 and changed["people"] == 1
    assert session.get(Person, "alice").phone == "+33781223344"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["rota"]["primary"].append("zoe"), "rota.primary[2]: unknown person 'zoe'"),
        (lambda d: d["people"][1].update(phone="06 12"), "people[1].phone"),
        (
            lambda d: d["business_hours"].update(mon=["08:30-12:30", "12:00-18:00"]),
            "business_hours.mon: ranges overlap",
        ),
        (
            lambda d: d["astreinte"].update(takeover="half an hour"),
            "astreinte.takeover: 'half an hour' is not a duration",
        ),
        (
            lambda d: d["tickets"][0].update(priority="critical"),
            "tickets[0].priority: unknown priority 'critical'",
        ),
        (
            lambda d: d["priorities"]["urgent"].update(page_on_open="yes"),
            "priorities.urgent.page_on_open: 'yes': expected true or false",
        ),
        (
            lambda d: d["priorities"]["high"].update(inactivity="soon"),
            "priorities.high.inactivity",
        ),
        (lambda d: d["tickets"][0].update(service="FIBRE-9012"), "tickets[0].service"),
        (lambda d: d["astreinte"]["policy"][1].update(notify="nobody"), "astreinte.policy[1].notify"),
        (lambda d: d.update(timezone="Europe/Lemans"), "timezone: unknown time zone"),
        (lambda d: d.update(holidays="XX"), "holidays: no public-holiday calendar"),
        (lambda d: d["clients"][0].update(pin="12"), "clients[0].pin"),
    ],
)
def test_a_bad_file_is_refused_whole_with_the_key_named(app, doc, mutate, expected):
    mutate(doc)
    with pytest.raises(OrgFileError) as err:
        load(doc)
    assert any(expected in p for p in err.value.problems), err.value.problems
    assert session.scalar(select(func.count()).select_from(Person)) == 0
    assert session.scalar(select(func.count()).select_from(Service)) == 0


def test_every_problem_is_listed_at_once(app, doc):
    doc["rota"]["backup"] = ["ghost"]
    doc["people"][2]["phone"] = "not a number"
    with pytest.raises(OrgFileError) as err:
        load(doc)
    assert len(err.value.problems) == 2


def test_the_loaded_organisation_is_read_back(app, doc):
    load(doc)
    org = current_org()
    assert org.takeover.total_seconds() == 30 * 60
    assert [s.notify for s in org.policy][:3] == ["primary", "primary", "backup"]
    assert org.policy[3].escalation_level == 1

"""The rota part of the organisation file: a misspelt key is refused by name (it used to drop an override
silently), overrides may not overlap on one position, and a local time the clocks skip is refused."""

from __future__ import annotations

import pytest
import yaml

from org.orgfile import OrgFileError, parse

from .conftest import ORG_FILE


@pytest.fixture
def doc() -> dict:
    return yaml.safe_load(ORG_FILE.read_text())


def problems(doc: dict) -> list[str]:
    with pytest.raises(OrgFileError) as refused:
        parse(doc)
    return refused.value.problems


def test_a_misspelt_override_key_is_refused_by_name(doc):
    doc["rota"]["overrides"][0]["persn"] = doc["rota"]["overrides"][0].pop("person")
    found = problems(doc)
    assert "rota.overrides[0].persn: unknown key (did you mean person?)" in found


def test_a_misspelt_rota_key_is_refused_by_name(doc):
    doc["rota"]["agents_may_chnage"] = True
    assert problems(doc) == ["rota.agents_may_chnage: unknown key (did you mean agents_may_change?)"]


def test_agents_may_change_the_rota_only_when_the_file_says_so(doc):
    assert parse(doc).rota.agents_may_change is False
    doc["rota"]["agents_may_change"] = True
    assert parse(doc).rota.agents_may_change is True
    doc["rota"]["agents_may_change"] = "yes"
    assert problems(doc) == ["rota.agents_may_change: expected true or false, got 'yes'"]


def test_two_overrides_of_one_position_may_not_overlap(doc):
    doc["rota"]["overrides"].append(
        {"from": "2026-11-26 06:00", "to": "2026-11-26 12:00", "position": "primary", "person": "chloe"}
    )
    assert problems(doc) == [
        "rota.overrides[1]: overlaps rota.overrides[0] for primary (2026-11-26 06:00 is before 2026-11-26 08:30)"
    ]
    doc["rota"]["overrides"][1]["position"] = "backup"
    parse(doc)


def test_a_local_time_the_clocks_skip_is_refused(doc):
    doc["rota"]["overrides"] = [
        {"from": "2027-03-28 02:30", "to": "2027-03-28 08:00", "position": "primary", "person": "chloe"}
    ]
    assert problems(doc) == [
        "rota.overrides[0].from: '2027-03-28 02:30' does not exist in Europe/Paris (the clocks skip it when they change)"
    ]

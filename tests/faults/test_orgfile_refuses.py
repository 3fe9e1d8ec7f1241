"""The organisation file refuses what used to load silently, and names each problem by its key."""

from __future__ import annotations

import copy

import pytest
import yaml

from org.orgfile import OrgFileError, parse

from ..conftest import ORG_FILE

EXAMPLE = yaml.safe_load(ORG_FILE.read_text())


def _problems(change) -> list[str]:
    doc = copy.deepcopy(EXAMPLE)
    change(doc)
    with pytest.raises(OrgFileError) as refused:
        parse(doc)
    return refused.value.problems


def test_the_example_file_loads():
    assert parse(copy.deepcopy(EXAMPLE)).rota.overrides


def test_a_misspelt_key_is_named_with_the_key_it_meant():
    def typo(doc):
        doc["rota"]["overides"] = doc["rota"].pop("overrides")

    assert _problems(typo) == ["rota.overides: unknown key (did you mean overrides?)"]


def test_unknown_keys_are_found_at_every_depth_alongside_the_other_problems():
    def typos(doc):
        doc["clossures"] = doc.pop("closures")
        doc["people"][1]["langage"] = "fr"
        doc["clients"][0]["services"][0]["astriente"] = True
        doc["priorities"]["high"]["takover"] = "30m"
        doc["desk_ring"] = "soon"
        doc["zzz"] = 1

    problems = _problems(typos)
    assert "clossures: unknown key (did you mean closures?)" in problems
    assert "people[1].langage: unknown key (did you mean language?)" in problems
    assert "clients[0].services[0].astriente: unknown key (did you mean astreinte?)" in problems
    assert "priorities.high.takover: unknown key (did you mean takeover?)" in problems
    assert "zzz: unknown key" in problems
    assert any(p.startswith("desk_ring: ") for p in problems)  # today's messages stay


def test_two_overrides_of_one_position_at_once_are_refused():
    def overlap(doc):
        doc["rota"]["overrides"].append(
            {"from": "2026-11-26 06:00", "to": "2026-11-26 12:00", "position": "primary", "person": "alice"}
        )

    assert _problems(overlap) == [
        "rota.overrides[1]: overlaps rota.overrides[0] for primary (2026-11-26 06:00 is before 2026-11-26 08:30)"
    ]


def test_overrides_of_two_positions_at_once_are_fine():
    doc = copy.deepcopy(EXAMPLE)
    doc["rota"]["overrides"].append(
        {"from": "2026-11-26 06:00", "to": "2026-11-26 12:00", "position": "backup", "person": "alice"}
    )
    assert len(parse(doc).rota.overrides) == 2


def test_the_same_person_primary_and_backup_every_week_is_refused():
    def same(doc):
        doc["rota"]["primary"] = ["alice", "bruno"]
        doc["rota"]["backup"] = ["alice", "bruno"]

    assert _problems(same) == [
        "rota.backup: alice, bruno would be primary and backup every week: nobody would back up"
    ]


def test_an_override_at_a_time_the_clocks_skip_is_refused():
    def gap(doc):
        doc["rota"]["overrides"][0] = {
            "from": "2027-03-28 02:30",  # Paris goes from 02:00 straight to 03:00
            "to": "2027-03-28 08:00",
            "position": "primary",
            "person": "bruno",
        }

    assert _problems(gap) == [
        "rota.overrides[0].from: '2027-03-28 02:30' does not exist in Europe/Paris "
        "(the clocks skip it when they change)"
    ]


def test_languages_given_as_a_word_say_a_list_is_expected():
    def word(doc):
        doc["languages"] = "fr"

    assert _problems(word) == ["languages: expected a list like [fr, en], got 'fr'"]

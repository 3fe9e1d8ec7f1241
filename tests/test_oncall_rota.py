"""Who is on call at an instant: weekly handoffs, overrides, daylight-saving changes, gaps."""

from __future__ import annotations

import copy

import pytest
import yaml

from oncall.rota import next_handoff, shifts, target, who_is, who_is_on_call
from org.load import current_org, load

from .conftest import ORG_FILE, paris


@pytest.fixture
def doc() -> dict:
    return yaml.safe_load(ORG_FILE.read_text())


def test_alice_is_primary_and_bruno_backup_on_the_tuesday_night(org):
    on_call = who_is_on_call(org, paris("2026-11-24 23:10"))
    assert (on_call.primary, on_call.backup) == ("alice", "bruno")


def test_the_week_changes_hands_at_the_monday_handoff(org):
    assert who_is(org, "primary", paris("2026-11-30 17:59")) == "alice"
    assert who_is(org, "primary", paris("2026-11-30 18:00")) == "bruno"
    assert who_is(org, "backup", paris("2026-11-30 18:00")) == "alice"
    assert next_handoff(org, paris("2026-11-24 23:10")) == paris("2026-11-30 18:00")


def test_the_first_week_is_the_one_containing_the_start_date(org):
    assert who_is(org, "primary", paris("2026-11-02 09:00")) == "alice"
    assert who_is(org, "primary", paris("2026-11-02 18:00")) == "bruno"


def test_an_override_replaces_the_primary_for_its_hours_only(org):
    assert who_is(org, "primary", paris("2026-11-25 17:59")) == "alice"
    assert who_is(org, "primary", paris("2026-11-25 18:00")) == "bruno"
    assert who_is(org, "primary", paris("2026-11-26 08:29")) == "bruno"
    assert who_is(org, "primary", paris("2026-11-26 08:30")) == "alice"
    assert who_is(org, "backup", paris("2026-11-24 20:00")) == "bruno"


def test_an_override_that_moves_the_backup_up_is_a_swap(org):
    # Bruno, backup that week, takes the primary night: Alice, displaced, backs him up (not Bruno twice).
    assert who_is(org, "primary", paris("2026-11-25 20:00")) == "bruno"
    assert who_is(org, "backup", paris("2026-11-25 20:00")) == "alice"
    assert who_is(org, "backup", paris("2026-11-26 08:30")) == "bruno"


def test_an_override_by_someone_else_leaves_the_other_position_alone(app, doc):
    doc["rota"]["overrides"] = [
        {"from": "2026-11-25 18:00", "to": "2026-11-26 08:30", "position": "primary", "person": "chloe"}
    ]
    load(doc)
    org = current_org()
    assert who_is(org, "primary", paris("2026-11-25 20:00")) == "chloe"
    assert who_is(org, "backup", paris("2026-11-25 20:00")) == "bruno"


def test_the_autumn_daylight_saving_night_keeps_the_week_and_its_handoff(app, doc):
    doc["rota"]["start"] = "2026-10-05"  # Monday: weeks of 5, 12, 19, 26 October
    load(doc)
    org = current_org()
    # 25 October 2026, 02:00-03:00 happens twice in Paris: one rota week covers both.
    before = paris("2026-10-25 01:30")
    from datetime import UTC, datetime

    first_0230 = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second_0230 = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    assert (
        who_is(org, "primary", before)
        == who_is(org, "primary", first_0230)
        == who_is(org, "primary", second_0230)
        == "bruno"
    )
    # The next handoff is Monday 18:00 local (CET now): 17:00 UTC, not 16:00.
    assert next_handoff(org, second_0230) == datetime(2026, 10, 26, 17, 0, tzinfo=UTC)
    assert who_is(org, "primary", datetime(2026, 10, 26, 16, 59, tzinfo=UTC)) == "bruno"
    assert who_is(org, "primary", datetime(2026, 10, 26, 17, 0, tzinfo=UTC)) == "alice"


def test_the_spring_change_moves_the_handoff_by_an_hour_in_utc(app, doc):
    doc["rota"]["start"] = "2027-03-01"
    load(doc)
    org = current_org()
    from datetime import UTC, datetime

    # 28 March 2027 is the spring change: Monday 29 March 18:00 is 16:00 UTC (CEST).
    assert next_handoff(org, paris("2027-03-27 12:00")) == datetime(2027, 3, 29, 16, 0, tzinfo=UTC)


def test_escalation_roles_are_targets_too(org):
    at = paris("2026-11-24 23:10")
    assert [target(org, role, at) for role in ("supervisor", "manager", "director")] == [
        "chloe",
        "david",
        "emma",
    ]


def test_nobody_is_on_call_before_the_rota_starts(org):
    assert who_is_on_call(org, paris("2026-10-20 22:00")).primary is None


def test_an_empty_backup_list_is_a_gap(app, doc):
    doc2 = copy.deepcopy(doc)
    doc2["rota"]["backup"] = []
    load(doc2)
    assert who_is(current_org(), "backup", paris("2026-11-24 23:10")) is None


def test_shifts_list_the_rota_with_its_override(org):
    found = shifts(org, paris("2026-11-24 12:00"), paris("2026-12-01 12:00"))
    assert [(s.start.strftime("%d %H:%M"), s.primary, s.backup) for s in found] == [
        ("24 12:00", "alice", "bruno"),
        ("25 18:00", "bruno", "alice"),
        ("26 08:30", "alice", "bruno"),
        ("30 18:00", "bruno", "alice"),
    ]

"""Business hours (HOJO) in Paris: weekly ranges, public holidays, closures, daylight-saving changes."""

from __future__ import annotations

import pytest

from org.hours import is_business_hours, next_opening

from .conftest import paris


@pytest.mark.parametrize(
    ("at", "open_"),
    [
        ("2026-11-24 10:00", True),  # Tuesday morning
        ("2026-11-24 08:29", False),  # before opening
        ("2026-11-24 12:30", False),  # lunch break starts
        ("2026-11-24 13:59", False),
        ("2026-11-24 14:00", True),
        ("2026-11-24 18:00", False),  # evening: the astreinte answers
        ("2026-11-27 17:30", False),  # Friday closes at 17:00
        ("2026-11-28 10:00", False),  # Saturday
        ("2026-11-11 10:00", False),  # Armistice, a Wednesday
        ("2026-12-25 10:00", False),  # Christmas, a Friday
        ("2026-12-24 10:00", False),  # closure of the organisation file
        ("2026-12-23 10:00", True),
    ],
)
def test_the_desk_answers_only_in_business_hours(org, at, open_):
    assert is_business_hours(org, paris(at)) is open_


def test_hours_follow_paris_time_across_the_daylight_saving_change(org):
    # Monday 30 March 2026, the day after clocks went forward: 08:30 Paris is 06:30 UTC (it was 07:30 UTC
    # the week before).
    from datetime import UTC, datetime

    assert is_business_hours(org, datetime(2026, 3, 30, 6, 30, tzinfo=UTC))
    assert not is_business_hours(org, datetime(2026, 3, 23, 6, 30, tzinfo=UTC))


def test_the_next_opening_skips_weekends_holidays_and_closures(org):
    assert next_opening(org, paris("2026-11-27 19:00")) == paris("2026-11-30 08:30")
    assert next_opening(org, paris("2026-11-10 19:00")) == paris("2026-11-12 08:30")  # 11th is a holiday
    assert next_opening(org, paris("2026-12-23 19:00")) == paris("2026-12-28 08:30")  # 24 closed, 25 holiday
    assert next_opening(org, paris("2026-11-24 12:45")) == paris("2026-11-24 14:00")


def test_a_regional_calendar_adds_its_own_holidays(app):
    import yaml

    from org.load import current_org, load

    from .conftest import ORG_FILE

    doc = yaml.safe_load(ORG_FILE.read_text())
    doc["holidays"] = "FR-57"  # Moselle: Good Friday and 26 December are public holidays
    load(doc)
    org = current_org()
    assert not is_business_hours(org, paris("2026-04-03 10:00"))
    assert not is_business_hours(org, paris("2026-12-26 10:00"))  # a Saturday anyway
    doc["holidays"] = "FR"
    load(doc)
    assert is_business_hours(current_org(), paris("2026-04-03 10:00"))

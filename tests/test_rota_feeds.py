"""Calendar feeds: each person's own shifts and the team's, at secret addresses that can be revoked
and renewed, parsed back with icalendar; local times right across the 2027-03-28 daylight-saving change."""

from __future__ import annotations

import html
import re
from datetime import UTC, timedelta
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar

from tests import factories


@pytest.fixture
def admin(client, clock, org):
    clock.set("2027-03-20 10:00")  # the week of 22 March: Bruno primary, Alice backup
    return factories.login(client, "sophie", role="admin")


def renew(client, person: str) -> str:
    page = client.post(
        "/rota/feeds/renew",
        data={"person": person, "csrf_token": factories.csrf(client, "/rota")},
        follow_redirects=True,
    ).get_data(as_text=True)
    found = re.search(r'<code id="feed-url">([^<]+)</code>', page)
    assert found, "the new address is shown once"
    return urlsplit(html.unescape(found.group(1))).path


def events(client, path: str) -> list:
    answer = client.get(path)
    assert answer.status_code == 200 and answer.mimetype == "text/calendar"
    calendar = Calendar.from_ical(answer.get_data())
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    return sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("DTSTART"))


def hours(event) -> float:
    """How long an event lasts, counted in UTC (Python subtracts datetimes of one zone by wall time)."""
    span = event.decoded("DTEND").astimezone(UTC) - event.decoded("DTSTART").astimezone(UTC)
    return span / timedelta(hours=1)


def local(event, key: str) -> str:
    return event.decoded(key).strftime("%Y-%m-%d %H:%M %Z")


def test_a_persons_feed_shows_their_shifts_in_local_time_across_the_spring_change(client, admin):
    path = renew(client, "alice")
    assert path.startswith("/calendar/") and path.endswith(".ics")
    mine = [e for e in events(client, path) if "2027-03-2" in local(e, "DTSTART")]
    backup_week, primary_week = mine[0], mine[1]
    assert str(backup_week["SUMMARY"]) == "Astreinte (renfort)"
    assert local(backup_week, "DTSTART") == "2027-03-22 18:00 CET"
    assert local(backup_week, "DTEND") == "2027-03-29 18:00 CEST"
    assert hours(backup_week) == 7 * 24 - 1  # the spring night is an hour short
    assert backup_week["DTSTART"].params["TZID"] == "Europe/Paris"
    assert str(primary_week["SUMMARY"]) == "Astreinte (principal)"
    assert local(primary_week, "DTSTART") == "2027-03-29 18:00 CEST"


def test_a_cover_across_the_change_night_lasts_eleven_hours_in_the_feed(client, admin):
    client.post(
        "/rota/cover",
        data={
            "person": "chloe",
            "position": "primary",
            "start": "2027-03-27T20:00",
            "end": "2027-03-28T08:00",
            "reason": "Bruno au mariage de sa sœur",
            "csrf_token": factories.csrf(client, "/rota"),
        },
    )
    shifts = [e for e in events(client, renew(client, "chloe")) if "2027-03-2" in local(e, "DTSTART")]
    assert [(local(e, "DTSTART"), local(e, "DTEND")) for e in shifts] == [
        ("2027-03-27 20:00 CET", "2027-03-28 08:00 CEST")
    ]
    assert hours(shifts[0]) == 11


def test_the_team_feed_names_each_positions_holder(client, admin):
    team = events(client, renew(client, "team"))
    week = [str(e["SUMMARY"]) for e in team if local(e, "DTSTART") == "2027-03-22 18:00 CET"]
    assert sorted(week) == ["Astreinte principal : Bruno Petit", "Astreinte renfort : Alice Martin"]


def test_a_revoked_address_stops_working_and_a_renewed_one_replaces_it(client, admin):
    old = renew(client, "alice")
    new = renew(client, "alice")
    assert client.get(old).status_code == 404 and client.get(new).status_code == 200
    client.post("/rota/feeds/revoke", data={"person": "alice", "csrf_token": factories.csrf(client, "/rota")})
    assert client.get(new).status_code == 404
    assert client.get("/calendar/guessed-token.ics").status_code == 404


def test_the_renewed_address_is_shown_once_and_reloading_the_page_renews_nothing(client, admin):
    path = renew(client, "alice")
    again = client.get("/rota").get_data(as_text=True)  # the agent reloads the page
    assert 'id="feed-url"' not in again
    assert client.get(path).status_code == 200  # still the address handed over

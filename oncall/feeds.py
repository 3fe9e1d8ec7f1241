"""Calendar feeds of the rota (iCalendar, RFC 5545): each person's own shifts, and the team's, at secret
addresses that can be revoked and renewed. Times carry the organisation's time zone (TZID and its
VTIMEZONE), so a phone's calendar shows the right local hours across a daylight-saving change.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select, update

import clock
from models import CalendarFeed, Person, session
from oncall.rota import shifts, week_start
from org.orgfile import POSITIONS, Org
from words.catalogue import text
from words.rota import position_word

BEHIND = timedelta(weeks=4)  # a calendar keeps the recent past
AHEAD = timedelta(weeks=12)
PRODID = "-//astreinte//rota//FR"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def renew(person_id: str | None, actor: str) -> str:
    """A new secret address for `person_id` (None: the team's); the previous one stops working.
    Returns the token, shown once: only its hash is kept."""
    revoke(person_id)
    token = secrets.token_urlsafe(24)
    session.add(
        CalendarFeed(person_id=person_id, token_hash=_hash(token), created_by=actor, created_at=clock.now())
    )
    session.commit()
    return token


def revoke(person_id: str | None) -> int:
    """The address of `person_id`'s feed (None: the team's) stops working. Returns how many were live."""
    owner = CalendarFeed.person_id.is_(None) if person_id is None else CalendarFeed.person_id == person_id
    result = session.execute(
        update(CalendarFeed).where(owner, CalendarFeed.revoked_at.is_(None)).values(revoked_at=clock.now())
    )
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def live_feeds() -> dict[str | None, CalendarFeed]:
    """The live feed of each person who has one (key None: the team's)."""
    rows = session.scalars(select(CalendarFeed).where(CalendarFeed.revoked_at.is_(None)))
    return {row.person_id: row for row in rows}


def find(token: str) -> CalendarFeed | None:
    """The live feed a secret address names, or None (unknown, revoked)."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(
        select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token), CalendarFeed.revoked_at.is_(None))
    )
    if row is not None:
        row.last_read_at = clock.now()
        session.commit()
    return row


def _calendar(org: Org, name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", org.timezone.key)
    return cal


def _event(org: Org, uid: str, summary: str, start: datetime, end: datetime) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", clock.now().astimezone(UTC))
    event.add("summary", summary)
    event.add("dtstart", start.astimezone(org.timezone))
    event.add("dtend", end.astimezone(org.timezone))
    event.add("transp", "OPAQUE")
    return event


def _zone(cal: Calendar, now: datetime) -> None:
    """The VTIMEZONE of the events' TZID, its rules for the years the feed covers (not since 1970)."""
    cal.add_missing_timezones(
        first_date=(now - BEHIND - timedelta(days=366)).date(),
        last_date=(now + AHEAD + timedelta(days=366)).date(),
    )


def _uid(position: str, start: datetime, who: str) -> str:
    return f"{position}-{start.astimezone(UTC):%Y%m%dT%H%M%SZ}-{who}@astreinte"


def _stretches(org: Org, position: str, now: datetime) -> list[tuple[datetime, datetime, str | None]]:
    """(start, end, holder) of one position, merged where the holder stays the same."""
    out: list[tuple[datetime, datetime, str | None]] = []
    start = week_start(org, now - BEHIND)
    for shift in shifts(org, start, now + AHEAD):
        holder = shift[position]
        if out and out[-1][2] == holder and out[-1][1] == shift.start:
            out[-1] = (out[-1][0], shift.end, holder)
        else:
            out.append((shift.start, shift.end, holder))
    return out


def person_feed(org: Org, person: Person) -> bytes:
    """The shifts `person` holds, from four weeks ago to twelve weeks ahead."""
    lang = person.language
    cal = _calendar(org, text("rota.feed_name_mine", lang, name=person.name))
    now = clock.now()
    for position in POSITIONS:
        for start, end, holder in _stretches(org, position, now):
            if holder == person.id:
                summary = text("rota.feed_mine", lang, position=position_word(position, lang))
                cal.add_component(_event(org, _uid(position, start, person.id), summary, start, end))
    _zone(cal, now)
    return bytes(cal.to_ical())


def team_feed(org: Org, lang: str = "fr") -> bytes:
    """Every position's holders, from four weeks ago to twelve weeks ahead (gaps say nobody)."""
    cal = _calendar(org, text("rota.feed_name_team", lang))
    now = clock.now()
    for position in POSITIONS:
        for start, end, holder in _stretches(org, position, now):
            entry = org.people.get(holder) if holder else None
            name = entry.name if entry else holder or text("rota.feed_nobody", lang)
            summary = text("rota.feed_team", lang, position=position_word(position, lang), name=name)
            cal.add_component(_event(org, _uid(position, start, holder or "nobody"), summary, start, end))
    _zone(cal, now)
    return bytes(cal.to_ical())

"""What /healthz warns of beyond reachability: what an operator must fix before tonight.

A position of the policy that nobody holds now (an empty list, someone in the rotation or an override
who is no longer active) would page nobody tonight; one that nobody will hold within the next 24 hours
is coming. Both are warnings (and the metric `astreinte_rota_gaps`), never a failed health check.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

import clock
from models import Person, session
from oncall import pagetests
from oncall.policy import role_label
from oncall.rota import shifts, who_is_on_call
from org.load import NoOrganisation, current_org
from words.catalogue import text

LOOKAHEAD = timedelta(hours=24)


def _active() -> set[str]:
    return set(session.scalars(select(Person.id).where(Person.active.is_(True))))


def rota_gaps() -> list[str]:
    """On-call positions that nobody holds now, or a person no longer active holds (a loud problem:
    the next policy step would run)."""

    try:
        org = current_org()
    except NoOrganisation:
        return []
    positions = {step.notify for step in org.policy}
    on_call, active = who_is_on_call(org, clock.now()), _active()
    return [p for p in ("primary", "backup") if p in positions and on_call[p] not in active]


def coming_gaps(within: timedelta = LOOKAHEAD) -> list[tuple[str, datetime]]:
    """(position, local start) of each gap that opens after now and within `within`, first one only."""

    org = current_org()
    positions = [p for p in ("primary", "backup") if p in {step.notify for step in org.policy}]
    now, active = clock.now(), _active()
    found: dict[str, datetime] = {}
    for shift in shifts(org, now, now + within):
        for position in positions:
            holder = shift.primary if position == "primary" else shift.backup
            if holder not in active and position not in found and shift.start > now:
                found[position] = shift.start
    return sorted(found.items(), key=lambda item: item[1])


def warnings(lang: str = "fr") -> list[str]:
    """What an operator must fix, in `lang`, listed by /healthz, which stays 200 (the web application
    must keep answering calls; a rota gap is a business condition, not an outage) and shown as the
    dashboard's banner: a pager that failed its latest test, a position nobody holds now, one nobody
    will hold within 24 hours, no organisation loaded."""
    try:
        current_org()
    except NoOrganisation:
        return [text("health.no_org", lang)]
    now_gaps = rota_gaps()
    pagers = pagetests.warnings(clock.now(), lang)  # a pager that failed its test
    found = [text("health.gap_now", lang, role=role_label(p, lang), position=p) for p in now_gaps]
    return (
        pagers
        + found
        + [
            text(
                "health.gap_from",
                lang,
                role=role_label(position, lang),
                position=position,
                day=f"{start:%d/%m}",
                time=f"{start:%H:%M}",
            )
            for position, start in coming_gaps()
            if position not in now_gaps
        ]
    )

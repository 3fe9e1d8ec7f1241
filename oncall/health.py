"""What /healthz warns of beyond reachability: what an operator must fix before tonight.

A position of the policy that nobody holds now (an empty list, someone in the rotation or an override
who is no longer active) would page nobody tonight; one that nobody will hold within the next 24 hours
is coming. Both are warnings (and the metric `astreinte_rota_gaps`), never a failed health check.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import clock
from oncall import carriers, pagetests
from oncall.policy import role_label
from oncall.rota import active_people, paged_positions, shifts, who_is_on_call
from org.load import NoOrganisation, current_org
from org.orgfile import Org
from words.carriers import carrier_named
from words.catalogue import text

LOOKAHEAD = timedelta(hours=24)


def rota_gaps() -> list[str]:
    """On-call positions that nobody holds now, or a person no longer active holds (a loud problem:
    the next policy step would run)."""

    try:
        org = current_org()
    except NoOrganisation:
        return []
    return _gaps_now(org, clock.now(), active_people())


def _gaps_now(org: Org, now: datetime, active: set[str]) -> list[str]:
    on_call = who_is_on_call(org, now)
    return [p for p in paged_positions(org) if on_call[p] not in active]


def _coming_gaps(org: Org, now: datetime, active: set[str]) -> list[tuple[str, datetime]]:
    """(position, local start) of each gap that opens after now and within LOOKAHEAD, first one only."""
    found: dict[str, datetime] = {}
    positions = paged_positions(org)
    for shift in shifts(org, now, now + LOOKAHEAD):
        for position in positions:
            holder = shift.primary if position == "primary" else shift.backup
            if holder not in active and position not in found and shift.start > now:
                found[position] = shift.start
    return sorted(found.items(), key=lambda item: item[1])


def carrier_warnings(org: Org, lang: str) -> list[str]:
    """A carrier set aside after repeated failures (pages go through the others meanwhile)."""
    return [
        text(
            "health.carrier_set_aside",
            lang,
            carrier=carrier_named(row.carrier),
            time=f"{clock.as_utc(row.set_aside_at).astimezone(org.timezone):%H:%M}",
        )
        for row in carriers.set_aside()
        if row.set_aside_at is not None
    ]


def warnings(lang: str = "fr", named: bool = True) -> list[str]:
    """What an operator must fix, in `lang`, listed by /healthz, which stays 200 (the web application
    must keep answering calls; a rota gap is a business condition, not an outage) and shown as the
    dashboard's banner: a carrier set aside, a pager that failed its latest test, a position nobody
    holds now, one nobody will hold within 24 hours, no organisation loaded. `named=False`: nobody's
    name (/healthz without the metrics token, which anyone may read)."""
    try:
        org = current_org()
    except NoOrganisation:
        return [text("health.no_org", lang)]
    now, active = clock.now(), active_people()
    now_gaps = _gaps_now(org, now, active)
    pagers = carrier_warnings(org, lang) + pagetests.warnings(
        now, lang, named
    )  # a carrier set aside, a pager
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
            for position, start in _coming_gaps(org, now, active)
            if position not in now_gaps
        ]
    )

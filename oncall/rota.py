"""Who is on call at an instant: the weekly rotation, its overrides, the escalation roles, the gaps.

Overrides come from two places: the organisation file (`rota.overrides`, planned ahead) and the desk's
changes made in the dashboard (table `rota_override`, see `oncall.overrides`). Where both speak of the same
hours, the desk's change wins: it is the later word, and loading the file again keeps it.

The on-call week starts at the handoff (local wall time, "mon 18:00"), so weeks are counted on local
dates: a daylight-saving change moves the instant of the handoff, never who holds the week.
Instants are compared in UTC only (aware datetimes sharing a ZoneInfo compare by wall time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import g, has_app_context
from sqlalchemy import select

from models import Person, RotaChange, RotaOverride, session
from org.orgfile import POSITIONS, ROLES, Org, Override, RotaConfig

Overrides = tuple[Override, ...]
_DESK = "rota_desk_overrides"


def active_people() -> set[str]:
    """The ids of the people who may hold a position (someone inactive holding one is a gap)."""
    return set(session.scalars(select(Person.id).where(Person.active.is_(True))))


def paged_positions(org: Org) -> list[str]:
    """The positions the policy pages: a gap matters only there."""
    wanted = {step.notify for step in org.policy}
    return [p for p in POSITIONS if p in wanted]


def desk_overrides() -> Overrides:
    """The overrides of the desk's changes not undone, read once per request or job."""
    if has_app_context() and (memo := g.get(_DESK)) is not None:
        return memo  # type: ignore[no-any-return]
    rows = session.scalars(
        select(RotaOverride)
        .join(RotaChange)
        .where(RotaChange.undone_at.is_(None))
        .order_by(RotaChange.made_at, RotaOverride.id)
    )
    found = tuple(Override(r.starts_at, r.ends_at, r.position, r.person_id) for r in rows)
    if has_app_context():
        setattr(g, _DESK, found)
    return found


def forget_desk_overrides() -> None:
    """After a change: the next question reads the table again."""
    if has_app_context():
        g.pop(_DESK, None)


def all_overrides(org: Org) -> Overrides:
    """The file's overrides, then the desk's: the last matching one wins, so the desk's."""
    return org.rota.overrides + desk_overrides()


@dataclass(frozen=True)
class OnCall:
    """The people on call at one instant (None: a gap)."""

    primary: str | None
    backup: str | None

    def __getitem__(self, position: str) -> str | None:
        return self.primary if position == "primary" else self.backup


def _handoff(org: Org, day: date) -> datetime:
    return datetime.combine(day, org.rota.handoff_time, tzinfo=org.timezone)


def week_start(org: Org, at: datetime) -> datetime:
    """The handoff that began the on-call week containing `at` (aware, local time zone)."""
    rota = org.rota
    local = at.astimezone(org.timezone)
    day = local.date() - timedelta(days=(local.weekday() - rota.handoff_weekday) % 7)
    if _handoff(org, day).astimezone(UTC) > at.astimezone(UTC):
        day -= timedelta(days=7)
    return _handoff(org, day)


def next_handoff(org: Org, at: datetime) -> datetime:
    """The next handoff strictly after `at`."""
    return _handoff(org, week_start(org, at).date() + timedelta(days=7))


def _first_week(org: Org) -> date:
    """The date of the handoff that began the week containing `rota.start` (its first minute)."""
    start = datetime.combine(org.rota.start, datetime.min.time(), tzinfo=org.timezone)
    return week_start(org, start).date()


def week_index(org: Org, at: datetime) -> int:
    """How many on-call weeks since the first one (negative before the rota starts)."""
    return (week_start(org, at).date() - _first_week(org)).days // 7


def _rotation(rota: RotaConfig, position: str, index: int) -> str | None:
    people = rota.primary if position == "primary" else rota.backup
    if index < 0 or not people:
        return None
    return people[index % len(people)]


def _override(overrides: Overrides, position: str, at: datetime) -> str | None:
    """Who an override puts in `position` at `at`: the last matching override wins."""
    instant = at.astimezone(UTC)
    for override in reversed(overrides):
        if override.position == position and override.start.astimezone(
            UTC
        ) <= instant < override.end.astimezone(UTC):
            return override.person
    return None


def who_is_on_call(org: Org, at: datetime, overrides: Overrides | None = None) -> OnCall:
    """Primary and backup at `at`: the weekly rotation, then the overrides.

    Overrides are swaps as well as replacements (the organisation file says so): an override that
    gives one position to the other position's holder hands that other position to the person it
    displaced, so a night never has the same person as primary and backup while someone is free.
    `overrides` (the file's and the desk's when not given) lets a change be tried before it is saved.
    """
    if overrides is None:
        overrides = all_overrides(org)
    index = week_index(org, at)
    rotation = {p: _rotation(org.rota, p, index) for p in POSITIONS}
    held = {p: _override(overrides, p, at) for p in POSITIONS}
    on = {p: held[p] or rotation[p] for p in POSITIONS}
    for position, other in (("primary", "backup"), ("backup", "primary")):
        if held[position] and not held[other] and on[other] == on[position] != rotation[position]:
            on[other] = rotation[position]
    return OnCall(on["primary"], on["backup"])


def who_is(org: Org, position: str, at: datetime) -> str | None:
    """The person holding `position` (primary, backup) at `at`."""
    if position not in POSITIONS:
        raise ValueError(f"{position!r} is not an on-call position")
    return who_is_on_call(org, at)[position]


def target(org: Org, notify: str, at: datetime) -> str | None:
    """The person a policy step notifies: an on-call position at `at`, or an escalation role."""
    if notify in ROLES:
        return org.escalation.get(notify)
    return who_is(org, notify, at)


def gaps(org: Org, at: datetime) -> list[str]:
    """The positions nobody holds at `at`."""
    on_call = who_is_on_call(org, at)
    return [position for position in POSITIONS if on_call[position] is None]


@dataclass(frozen=True)
class Shift:
    """One stretch of the rota: who holds a position from `start` to `end` (local times)."""

    start: datetime
    end: datetime
    primary: str | None
    backup: str | None

    def __getitem__(self, position: str) -> str | None:
        return self.primary if position == "primary" else self.backup


def shifts(org: Org, start: datetime, end: datetime, overrides: Overrides | None = None) -> list[Shift]:
    """The rota between two instants, cut at every handoff and override edge (for the dashboard)."""
    if overrides is None:
        overrides = all_overrides(org)
    cuts = {start.astimezone(UTC), end.astimezone(UTC)}
    at = start
    while (at := next_handoff(org, at)).astimezone(UTC) < end.astimezone(UTC):
        cuts.add(at.astimezone(UTC))
    for override in overrides:
        for edge in (override.start, override.end):
            if start.astimezone(UTC) < edge.astimezone(UTC) < end.astimezone(UTC):
                cuts.add(edge.astimezone(UTC))
    ordered = sorted(cuts)
    out: list[Shift] = []
    for a, b in zip(ordered, ordered[1:], strict=False):
        on_call = who_is_on_call(org, a, overrides)
        if out and (out[-1].primary, out[-1].backup) == (on_call.primary, on_call.backup):
            out[-1] = Shift(out[-1].start, b.astimezone(org.timezone), on_call.primary, on_call.backup)
        else:
            out.append(
                Shift(a.astimezone(org.timezone), b.astimezone(org.timezone), on_call.primary, on_call.backup)
            )
    return out

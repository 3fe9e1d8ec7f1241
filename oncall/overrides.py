"""The desk's changes of the rota: "X covers the primary from … to …", "X and Y swap weeks", undo.

Each change is checked before it is saved with the organisation file's rules: nobody inactive, no two
changes on one position at the same hours, and, over the hours it touches, no new gap and nobody made
primary and backup at once. Local times that the daylight-saving night skips are refused when typed
(`org.values.local_time`). Each change and each undo is written to the rota's timeline with who and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

import clock
from models import Organisation, Person, RotaChange, RotaChangeKind, RotaEvent, RotaOverride, session
from oncall.rota import (
    Overrides,
    active_people,
    all_overrides,
    desk_overrides,
    forget_desk_overrides,
    next_handoff,
    paged_positions,
    shifts,
    week_start,
)
from org.orgfile import POSITIONS, Org, Override

REASON_MAX = 500


@dataclass(frozen=True)
class Problem:
    """Why a change is refused: a code (`inactive`, `overlap`, `gap`, `twice`, …) and its facts."""

    code: str
    values: dict[str, Any] = field(default_factory=dict)


class RotaRefused(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(", ".join(p.code for p in problems))
        self.problems = problems


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


Trouble = tuple[str, str, str | None]  # code, position, person


def _troubles(
    org: Org, overrides: Overrides, start: datetime, end: datetime, active: set[str]
) -> dict[Trouble, datetime]:
    """What is wrong between two instants: {(code, position, person): first local start}."""
    found: dict[Trouble, datetime] = {}
    for shift in shifts(org, start, end, overrides):
        for position in paged_positions(org):
            holder = shift.primary if position == "primary" else shift.backup
            if holder is None:
                found.setdefault(("gap", position, None), shift.start)
            elif holder not in active:
                found.setdefault(("inactive", position, holder), shift.start)
        if shift.primary is not None and shift.primary == shift.backup:
            found.setdefault(("twice", "backup", shift.primary), shift.start)
    return found


def _check(org: Org, before: Overrides, after: Overrides, start: datetime, end: datetime) -> list[Problem]:
    """The problems the change brings over its hours (those already there are not its doing)."""
    active = active_people()
    old = _troubles(org, before, start, end, active)
    new = _troubles(org, after, start, end, active)
    return [
        Problem(code, {"position": position, "person": person, "at": at.isoformat()})
        for (code, position, person), at in sorted(new.items(), key=lambda item: item[1])
        if (code, position, person) not in old
    ]


def _overlaps(new: list[Override]) -> list[Problem]:
    """A change may not cover hours of a position another live change already covers: undo it first."""
    rows = session.scalars(select(RotaOverride).join(RotaChange).where(RotaChange.undone_at.is_(None))).all()
    problems: list[Problem] = []
    for o in new:
        for row in rows:
            if (
                row.position == o.position
                and _utc(row.starts_at) < _utc(o.end)
                and _utc(o.start) < row.ends_at
            ):
                problems.append(
                    Problem(
                        "overlap",
                        {
                            "position": o.position,
                            "change": row.change_id,
                            "at": max(_utc(o.start), row.starts_at),
                        },
                    )
                )
                break
    return problems


def _basics(org: Org, people: list[str], reason: str) -> list[Problem]:
    problems: list[Problem] = []
    if not reason.strip():
        problems.append(Problem("no_reason"))
    elif len(reason) > REASON_MAX:
        problems.append(Problem("long_reason", {"max": REASON_MAX}))
    active = active_people()
    for person in people:
        if person in active and person in org.people:
            continue
        known = session.get(Person, person) is not None if person else False
        problems.append(Problem("inactive" if known else "unknown", {"person": person}))
    return problems


def _save(
    org: Org, kind: RotaChangeKind, new: list[Override], reason: str, actor: str, data: dict[str, Any]
) -> RotaChange:
    change = RotaChange(kind=kind, reason=reason.strip(), made_by=actor, made_at=clock.now())
    for o in new:
        change.overrides.append(
            RotaOverride(position=o.position, person_id=o.person, starts_at=o.start, ends_at=o.end)
        )
    session.add(change)
    session.flush()
    session.add(
        RotaEvent(
            at=clock.now(),
            kind=kind.value,
            actor=actor,
            change_id=change.id,
            data=data | {"reason": change.reason},
        )
    )
    session.commit()
    forget_desk_overrides()
    return change


def _one_at_a_time() -> None:
    """Changes of the rota are made one at a time: two desks saving overlapping covers together would
    each pass the check. The organisation row's lock (PostgreSQL; SQLite writes one at a time) is held
    until the commit or the rollback; what the desk changed meanwhile is read again after it."""
    session.execute(select(Organisation.id).with_for_update())
    forget_desk_overrides()


def _iso(at: datetime, org: Org) -> str:
    return at.astimezone(org.timezone).isoformat()


def cover(
    org: Org, person: str, position: str, start: datetime, end: datetime, reason: str, actor: str
) -> RotaChange:
    """`person` holds `position` from `start` to `end` (aware instants), in place of whoever held it."""
    problems = _basics(org, [person], reason)
    if position not in POSITIONS:
        problems.append(Problem("position", {"position": position}))
    if _utc(end) <= _utc(start):
        problems.append(Problem("backwards"))
    elif _utc(end) <= clock.now():
        problems.append(Problem("past"))
    if problems:
        raise RotaRefused(problems)
    _one_at_a_time()
    new = [Override(start.astimezone(org.timezone), end.astimezone(org.timezone), position, person)]
    before = all_overrides(org)
    replaced = [s[position] for s in shifts(org, start, end, before) if s[position] != person]
    if not replaced:
        raise RotaRefused([Problem("already", {"person": person, "position": position})])
    problems = _overlaps(new) + _check(org, before, before + tuple(new), start, end)
    if problems:
        raise RotaRefused(problems)
    data = {
        "person": person,
        "position": position,
        "start": _iso(start, org),
        "end": _iso(end, org),
        "replaced": sorted({p for p in replaced if p}),
    }
    return _save(org, RotaChangeKind.COVER, new, reason, actor, data)


def weeks(org: Org, count: int, at: datetime | None = None) -> list[datetime]:
    """The handoffs that begin the on-call weeks from the current one, `count` of them (local)."""
    first = week_start(org, at or clock.now())
    out = [first]
    while len(out) < count:
        out.append(next_handoff(org, out[-1]))
    return out


def _week(org: Org, day: date) -> tuple[datetime, datetime]:
    start = week_start(org, datetime.combine(day, org.rota.handoff_time, tzinfo=org.timezone))
    return start, next_handoff(org, start)


def swap(
    org: Org, first: str, first_week: date, second: str, second_week: date, reason: str, actor: str
) -> RotaChange:
    """`first` and `second` swap weeks: in the week that begins on `first_week` (the handoff's local
    date) and in the one that begins on `second_week`, every position one holds goes to the other."""
    problems = _basics(org, [first, second], reason)
    if first == second:
        problems.append(Problem("same_person"))
    (a0, a1), (b0, b1) = _week(org, first_week), _week(org, second_week)
    if a0 == b0:
        problems.append(Problem("same_week"))
    if min(a1, b1).astimezone(UTC) <= clock.now():
        problems.append(Problem("past"))
    if problems:
        raise RotaRefused(problems)
    _one_at_a_time()
    before = all_overrides(org)
    trade = {first: second, second: first}
    new: list[Override] = []
    for (w0, w1), owner in (((a0, a1), first), ((b0, b1), second)):
        if not any(owner in (s.primary, s.backup) for s in shifts(org, w0, w1, before)):
            problems.append(Problem("not_on_call", {"person": owner, "week": w0.isoformat()}))
        start = max(w0, clock.now().astimezone(org.timezone))
        for s in shifts(org, start, w1, before):
            for position in POSITIONS:
                holder = s[position]
                if holder in trade:
                    last = new[-1] if new else None
                    if (
                        last
                        and last.position == position
                        and last.person == trade[holder]
                        and last.end == s.start
                    ):
                        new[-1] = Override(last.start, s.end, position, trade[holder])
                    else:
                        new.append(Override(s.start, s.end, position, trade[holder]))
    if problems:
        raise RotaRefused(problems)
    new.sort(key=lambda o: (o.position, _utc(o.start)))
    problems = _overlaps(new)
    after = before + tuple(new)
    for w0, w1 in ((a0, a1), (b0, b1)):
        problems += _check(org, before, after, w0, w1)
    if problems:
        raise RotaRefused(problems)
    data = {"first": first, "second": second, "first_week": a0.isoformat(), "second_week": b0.isoformat()}
    return _save(org, RotaChangeKind.SWAP, new, reason, actor, data)


def undo(org: Org, change_id: int, actor: str, reason: str = "") -> RotaChange:
    """Take a change back (checked like a change: undoing may not open a gap that it closed)."""
    _one_at_a_time()
    change = session.get(RotaChange, change_id, populate_existing=True)
    if change is None:
        raise RotaRefused([Problem("no_change", {"change": change_id})])
    if change.undone_at is not None:
        raise RotaRefused([Problem("undone", {"change": change_id})])
    if len(reason) > REASON_MAX:
        raise RotaRefused([Problem("long_reason", {"max": REASON_MAX})])
    mine = {(o.position, o.person_id, o.starts_at, o.ends_at) for o in change.overrides}
    before = all_overrides(org)
    desk = set(desk_overrides())
    after = tuple(
        o for o in before if not (o in desk and (o.position, o.person, _utc(o.start), _utc(o.end)) in mine)
    )
    start = max(min(o.starts_at for o in change.overrides), clock.now())
    end = max(o.ends_at for o in change.overrides)
    problems = _check(org, before, after, start, end) if end > start else []
    if problems:
        raise RotaRefused(problems)
    change.undone_at, change.undone_by = clock.now(), actor
    session.add(
        RotaEvent(
            at=clock.now(),
            kind="undo",
            actor=actor,
            change_id=change.id,
            data={"change": change.id, "change_kind": change.kind.value, "reason": reason.strip()},
        )
    )
    session.commit()
    forget_desk_overrides()
    return change


def live_changes(now: datetime | None = None) -> list[RotaChange]:
    """Changes not undone that still matter (some of their hours are ahead), soonest first."""
    now = now or clock.now()
    changes = session.scalars(
        select(RotaChange)
        .where(RotaChange.undone_at.is_(None))
        .where(RotaChange.overrides.any(RotaOverride.ends_at > now))
        .order_by(RotaChange.made_at)
    ).all()
    return sorted(changes, key=lambda c: min(o.starts_at for o in c.overrides))


def timeline(limit: int = 50) -> list[RotaEvent]:
    """The rota's timeline, newest first."""
    return list(
        session.scalars(select(RotaEvent).order_by(RotaEvent.at.desc(), RotaEvent.id.desc()).limit(limit))
    )


def desk_positions(org: Org, start: datetime, end: datetime) -> set[str]:
    """The positions a live desk change covers somewhere between two instants (to mark them)."""
    return {o.position for o in desk_overrides() if _utc(o.start) < _utc(end) and _utc(start) < _utc(o.end)}


def file_positions(org: Org, start: datetime, end: datetime) -> set[str]:
    """The positions an override of the organisation file covers somewhere between two instants."""
    return {o.position for o in org.rota.overrides if _utc(o.start) < _utc(end) and _utc(start) < _utc(o.end)}

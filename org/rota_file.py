"""The `rota` of the organisation file checked into a `RotaConfig`: the weekly handoff, the rotations of
each position, and the overrides.

An override is in local time and must exist (a time the daylight-saving night skips is refused); two
overrides of one position may not overlap, and a backup who is the primary every week is refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from org.orgtypes import POSITIONS, WEEKDAYS, Override, RotaConfig
from org.values import Checker, local_time, parse_date, parse_hhmm


def read_rota(c: Checker, r: Any, tz: ZoneInfo, known: Callable[[str, Any], str]) -> RotaConfig:
    """The rota section; `known(key, person)` checks that each person named is in `people`."""
    empty = RotaConfig(0, time(0), date(2000, 1, 3), (), ())
    if not isinstance(r, dict):
        c.fail("rota", "missing, or not a mapping")
        return empty
    agents = r.get("agents_may_change", False)
    if not isinstance(agents, bool):
        c.fail("rota.agents_may_change", f"expected true or false, got {agents!r}")
        agents = False
    weekday, handoff = 0, time(18, 0)
    text = str(r.get("handoff", "mon 18:00")).split()
    if len(text) != 2 or text[0] not in WEEKDAYS:
        c.fail("rota.handoff", f'{r.get("handoff")!r} is not like "mon 18:00"')
    else:
        weekday = WEEKDAYS.index(text[0])
        handoff = c.run("rota.handoff", parse_hhmm, text[1]) or handoff
    start = c.run("rota.start", parse_date, r.get("start")) or empty.start
    lists: dict[str, tuple[str, ...]] = {}
    for pos in POSITIONS:
        names = r.get(pos) or []
        if not isinstance(names, list) or (pos == "primary" and not names):
            c.fail(f"rota.{pos}", "expected a non-empty list of people")
            names = []
        lists[pos] = tuple(known(f"rota.{pos}[{i}]", n) for i, n in enumerate(names))
    overrides: list[Override] = []
    for i, o in enumerate(r.get("overrides") or []):
        where = f"rota.overrides[{i}]"
        if not isinstance(o, dict):
            c.fail(where, "expected a mapping")
            continue
        a = c.run(f"{where}.from", local_time, o.get("from"), tz)
        b = c.run(f"{where}.to", local_time, o.get("to"), tz)
        if a and b and b <= a:
            c.fail(f"{where}.to", "ends before it starts")
        pos = str(o.get("position"))
        if pos not in POSITIONS:
            c.fail(f"{where}.position", f"{pos!r} is not a position ({', '.join(POSITIONS)})")
        person = known(f"{where}.person", o.get("person"))
        if a and b:
            overrides.append(Override(a, b, str(pos), person))
    _overlaps(c, overrides)
    _same_person_both(c, lists["primary"], lists["backup"])
    return RotaConfig(
        weekday, handoff, start, lists["primary"], lists["backup"], tuple(overrides), agents_may_change=agents
    )


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)  # aware datetimes sharing a ZoneInfo compare by wall time: compare in UTC


def _overlaps(c: Checker, overrides: list[Override]) -> None:
    """Two overrides of one position at once: which of them is on call would be a coin toss."""
    latest: dict[str, tuple[int, Override]] = {}  # per position, the override that ends last so far
    for i, o in sorted(enumerate(overrides), key=lambda pair: (pair[1].position, _utc(pair[1].start))):
        before = latest.get(o.position)
        if before is not None and _utc(o.start) < _utc(before[1].end):
            j = before[0]
            c.fail(
                f"rota.overrides[{max(i, j)}]",
                f"overlaps rota.overrides[{min(i, j)}] for {o.position} "
                f"({o.start:%Y-%m-%d %H:%M} is before {before[1].end:%Y-%m-%d %H:%M})",
            )
        if before is None or _utc(o.end) > _utc(before[1].end):
            latest[o.position] = (i, o)


def _same_person_both(c: Checker, primary: tuple[str, ...], backup: tuple[str, ...]) -> None:
    """A backup who is the primary every week is no backup at all."""
    if not primary or not backup:
        return
    weeks = range(math.lcm(len(primary), len(backup)))
    pairs = {(primary[w % len(primary)], backup[w % len(backup)]) for w in weeks}
    if all(a == b for a, b in pairs):
        names = ", ".join(sorted({a for a, _ in pairs}))
        c.fail("rota.backup", f"{names} would be primary and backup every week: nobody would back up")

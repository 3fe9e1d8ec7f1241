"""One value of the organisation file read (a duration, a time of day, hour ranges, a date, a local
time), and the `Checker` that collects every problem instead of stopping at the first.

A reader raises ValueError with what is wrong in the administrator's words; the checker files it
under the key that held the value (`rota.overrides[1].from: …`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class Checker:
    """Collects problems instead of stopping at the first one."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, key: str, problem: str) -> None:
        self.problems.append(f"{key}: {problem}")

    def run(self, key: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except (ValueError, TypeError) as exc:
            self.fail(key, str(exc))
            return None

    def need(self, doc: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
        if key not in doc:
            self.fail(f"{where}{key}", "missing")
            return None
        value = doc[key]
        if not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            self.fail(f"{where}{key}", f"expected a {names}, got {value!r}")
            return None
        return value


def parse_duration(value: Any) -> timedelta:
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a duration (write it like 90s, 30m, 4h or 2d)")
    return timedelta(**{_UNIT[m.group(2)]: int(m.group(1))})


def parse_hhmm(text: str) -> time:
    try:
        return datetime.strptime(text.strip(), "%H:%M").time()
    except ValueError:
        raise ValueError(f"{text!r} is not a time (HH:MM)") from None


def parse_ranges(value: Any) -> tuple[tuple[time, time], ...]:
    """`["08:30-12:30", "14:00-18:00"]`: the ranges of one day, sorted, none overlapping."""
    if not isinstance(value, list):
        raise ValueError(f'expected a list of ranges like "08:30-12:30", got {value!r}')
    out: list[tuple[time, time]] = []
    for item in value:
        if not isinstance(item, str) or item.count("-") != 1:
            raise ValueError(f'{item!r} is not a range like "08:30-12:30"')
        a, b = (parse_hhmm(x) for x in item.split("-"))
        if b <= a:
            raise ValueError(f"{item!r} ends before it starts")
        out.append((a, b))
    out.sort()
    for (_, end), (start, _) in zip(out, out[1:], strict=False):
        if start < end:
            raise ValueError(f"ranges overlap around {start:%H:%M}")
    return tuple(out)


# An address a person reads their mail at: one @, a dotted domain, nothing a header could be split on.
_EMAIL = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+")


def parse_email(value: Any) -> str:
    text = str(value).strip()
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        raise ValueError(f"{value!r} is not an e-mail address (name@example.fr)")
    return text


def parse_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def local_time(text: Any, tz: ZoneInfo) -> datetime:
    """A local wall time "YYYY-MM-DD HH:MM" (or the browser's "YYYY-MM-DDTHH:MM"), aware in `tz`.

    A time the clocks skip (02:30 on the spring daylight-saving night) does not exist and is refused;
    a time the autumn night repeats is its first occurrence.
    """
    try:
        naive = datetime.strptime(str(text).strip().replace("T", " "), "%Y-%m-%d %H:%M")
    except ValueError:
        raise ValueError(f"{text!r} is not a local time (YYYY-MM-DD HH:MM)") from None
    aware = naive.replace(tzinfo=tz)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise ValueError(f"{text!r} does not exist in {tz.key} (the clocks skip it when they change)")
    return aware

"""The organisation file: parsed and checked as a whole into an `Org`, or refused with every problem.

Each problem names its key (`rota.primary[1]`, `people[2].phone`) and what is wrong with it, so an
administrator can fix a file in one go. Nothing here touches the database.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
import phonenumbers

from org.phones import parse_phone

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
POSITIONS = ("primary", "backup")
ROLES = ("supervisor", "manager", "director")
CHANNELS = ("sms", "voice")
CLOCKS = ("24/7", "business_hours")
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

# Every key the file may hold, by place: a typo (`overides`) would otherwise drop what it carries.
# "*" stands for the keys an administrator names (priorities); "[]" for each item of a list.
_KEYS: dict[str, Any] = {
    "timezone": None,
    "support_number": None,
    "desk_numbers": None,
    "desk_ring": None,
    "business_hours": None,
    "holidays": None,
    "closures": None,
    "languages": None,
    "priorities": {"*": {"label", "takeover", "resolution", "clock", "astreinte", "escalate_after_breach"}},
    "astreinte": {
        "takeover": None,
        "policy": {"[]": {"after", "notify", "by"}},
        "repeat": {"every", "notify", "by"},
        "self_test": {"at", "notify", "by"},
        "contest_resolved": None,
    },
    "escalation": None,
    "people": {"[]": {"id", "name", "phone", "language"}},
    "rota": {
        "handoff": None,
        "start": None,
        "primary": None,
        "backup": None,
        "overrides": {"[]": {"from", "to", "position", "person", "reason"}},
        "agents_may_change": None,
    },
    "clients": {
        "[]": {
            "account": None,
            "name": None,
            "site": None,
            "pin": None,
            "pin_hash": None,
            "astreinte": None,
            "contacts": {"[]": {"name", "phone", "email"}},
            "services": {"[]": {"ref", "kind", "astreinte"}},
        }
    },
    "tickets": {"[]": {"number", "client", "service", "priority", "subject"}},
}


class OrgFileError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Priority:
    key: str
    label: str
    takeover: timedelta | None  # None: no takeover target (never breached)
    resolution: timedelta | None  # None: no resolution target
    clock: str  # "24/7" or "business_hours"
    astreinte: bool
    escalate_after_breach: tuple[timedelta, ...] = ()


@dataclass(frozen=True)
class PolicyStep:
    after: timedelta  # counted from the message
    notify: str  # a position (primary, backup) or an escalation role
    by: tuple[str, ...]  # sms, voice

    @property
    def escalation_level(self) -> int:
        """1-3 for the escalation roles, 0 for the on-call positions."""
        return ROLES.index(self.notify) + 1 if self.notify in ROLES else 0


@dataclass(frozen=True)
class Repeat:
    """Policies repeat (003: nobody is left unpaged): until someone takes over, the on-call positions
    are paged again `every` so long after the last page, between the steps and after the last one."""

    every: timedelta
    notify: tuple[str, ...]  # positions
    by: tuple[str, ...]


@dataclass(frozen=True)
class SelfTest:
    """Every evening at `at` (local time), the people then on call in `notify` get a test page `by`
    each channel: a silent pager is found before the night, not during it."""

    at: time
    notify: tuple[str, ...]  # positions
    by: tuple[str, ...]


@dataclass(frozen=True)
class Override:
    start: datetime  # aware, in the organisation's time zone
    end: datetime
    position: str
    person: str


@dataclass(frozen=True)
class RotaConfig:
    handoff_weekday: int  # 0 = Monday
    handoff_time: time
    start: date
    primary: tuple[str, ...]
    backup: tuple[str, ...]
    overrides: tuple[Override, ...] = ()
    agents_may_change: bool = False  # agents, not only administrators, may change it in the dashboard


@dataclass(frozen=True)
class PersonEntry:
    id: str
    name: str
    phone: str
    language: str


@dataclass(frozen=True)
class Org:
    timezone: ZoneInfo
    support_number: str
    desk_numbers: tuple[str, ...]
    desk_ring: timedelta
    business_hours: dict[int, tuple[tuple[time, time], ...]]
    holiday_country: str | None
    holiday_subdiv: str | None
    closures: frozenset[date]
    languages: tuple[str, ...]
    priorities: dict[str, Priority]
    takeover: timedelta
    policy: tuple[PolicyStep, ...]
    escalation: dict[str, str]
    people: dict[str, PersonEntry]
    rota: RotaConfig
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)
    repeat: Repeat | None = None
    self_test: SelfTest | None = None
    contest_window: timedelta = timedelta(hours=48)  # 004: a resolved ticket may be contested for 48 h

    @property
    def region(self) -> str:
        """The phone region of the support number (FR), for numbers keyed without a prefix."""
        return phonenumbers.region_code_for_number(phonenumbers.parse(self.support_number)) or "FR"


def parse_duration(value: Any) -> timedelta:
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a duration (write it like 90s, 30m, 4h or 2d)")
    return timedelta(**{_UNIT[m.group(2)]: int(m.group(1))})


class _Checker:
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


def unknown_keys(value: Any, keys: Any = None, where: str = "") -> list[str]:
    """`rota.overides: unknown key (did you mean overrides?)`, for every key the file does not know."""
    keys = _KEYS if keys is None and not where else keys
    if keys is None:
        return []
    if isinstance(keys, set):
        keys = dict.fromkeys(keys)
    problems: list[str] = []
    if "[]" in keys:
        if isinstance(value, list):
            for i, item in enumerate(value):
                problems += unknown_keys(item, keys["[]"], f"{where}[{i}]")
        return problems
    if not isinstance(value, dict):
        return problems
    if "*" in keys:
        for name, item in value.items():
            problems += unknown_keys(item, keys["*"], f"{where}.{name}" if where else str(name))
        return problems
    for name, item in value.items():
        key = f"{where}.{name}" if where else str(name)
        if name in keys:
            problems += unknown_keys(item, keys[name], key)
            continue
        close = difflib.get_close_matches(str(name), [str(k) for k in keys], n=1, cutoff=0.6)
        problems.append(f"{key}: unknown key" + (f" (did you mean {close[0]}?)" if close else ""))
    return problems


def _hhmm(text: str) -> time:
    try:
        return datetime.strptime(text.strip(), "%H:%M").time()
    except ValueError:
        raise ValueError(f"{text!r} is not a time (HH:MM)") from None


def _ranges(value: Any) -> tuple[tuple[time, time], ...]:
    if not isinstance(value, list):
        raise ValueError(f'expected a list of ranges like "08:30-12:30", got {value!r}')
    out: list[tuple[time, time]] = []
    for item in value:
        if not isinstance(item, str) or item.count("-") != 1:
            raise ValueError(f'{item!r} is not a range like "08:30-12:30"')
        a, b = (_hhmm(x) for x in item.split("-"))
        if b <= a:
            raise ValueError(f"{item!r} ends before it starts")
        out.append((a, b))
    out.sort()
    for (_, end), (start, _) in zip(out, out[1:], strict=False):
        if start < end:
            raise ValueError(f"ranges overlap around {start:%H:%M}")
    return tuple(out)


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


_local = local_time


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)  # aware datetimes sharing a ZoneInfo compare by wall time: compare in UTC


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def parse(doc: Any) -> Org:
    """Check a whole organisation document; raise OrgFileError listing every problem found."""
    c = _Checker()
    if not isinstance(doc, dict):
        raise OrgFileError(["(file): expected a mapping of keys (timezone, people, rota, …)"])
    c.problems.extend(unknown_keys(doc))

    tz = ZoneInfo("Europe/Paris")
    if (name := c.need(doc, "timezone", "", str)) is not None:
        try:
            tz = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            c.fail("timezone", f"unknown time zone {name!r}")

    support = c.run("support_number", parse_phone, doc.get("support_number", ""))
    region = "FR"
    if support:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(support)) or "FR"
    desk = tuple(
        n
        for i, v in enumerate(doc.get("desk_numbers") or [])
        if (n := c.run(f"desk_numbers[{i}]", parse_phone, v, region))
    )
    desk_ring = c.run("desk_ring", parse_duration, doc.get("desk_ring", "25s")) or timedelta(seconds=25)

    hours: dict[int, tuple[tuple[time, time], ...]] = {}
    bh = c.need(doc, "business_hours", "", dict) or {}
    for day, value in bh.items():
        if day not in WEEKDAYS:
            c.fail(f"business_hours.{day}", f"unknown day (use {', '.join(WEEKDAYS)})")
            continue
        if (r := c.run(f"business_hours.{day}", _ranges, value)) is not None:
            hours[WEEKDAYS.index(day)] = r

    country = subdiv = None
    hol = doc.get("holidays", [])
    if isinstance(hol, str) and hol:
        country, _, sub = hol.partition("-")
        subdiv = sub or None
        try:
            holidays_lib.country_holidays(country, subdiv=subdiv)
        except NotImplementedError:
            c.fail("holidays", f"no public-holiday calendar for {hol!r}")
        except Exception as exc:  # noqa: BLE001 - the holidays package raises several kinds
            c.fail("holidays", f"no public-holiday calendar for {hol!r} ({exc})")
    elif hol not in ([], None):
        c.fail("holidays", f"expected a country code like FR or FR-57, or [], got {hol!r}")
    closures = frozenset(
        d for i, v in enumerate(doc.get("closures") or []) if (d := c.run(f"closures[{i}]", _date, v))
    )

    raw_languages = doc.get("languages") or ["fr"]
    if not isinstance(raw_languages, list):
        c.fail("languages", f"expected a list like [fr, en], got {raw_languages!r}")
        raw_languages = ["fr"]
    languages = tuple(raw_languages)
    for i, lang in enumerate(languages):
        if lang not in ("fr", "en"):
            c.fail(f"languages[{i}]", f"unsupported language {lang!r} (fr, en)")

    priorities: dict[str, Priority] = {}
    for key, p in (c.need(doc, "priorities", "", dict) or {}).items():
        where = f"priorities.{key}"
        if not isinstance(p, dict):
            c.fail(where, "expected a mapping")
            continue
        clock_kind = p.get("clock", "24/7")
        if clock_kind not in CLOCKS:
            c.fail(f"{where}.clock", f"{clock_kind!r} is not a clock ({', '.join(CLOCKS)})")
        steps = tuple(
            d
            for i, v in enumerate(p.get("escalate_after_breach") or [])
            if (d := c.run(f"{where}.escalate_after_breach[{i}]", parse_duration, v)) is not None
        )
        priorities[str(key)] = Priority(
            key=str(key),
            label=str(p.get("label", key)),
            takeover=c.run(f"{where}.takeover", parse_duration, p["takeover"]) if p.get("takeover") else None,
            resolution=c.run(f"{where}.resolution", parse_duration, p["resolution"])
            if p.get("resolution")
            else None,
            clock=clock_kind,
            astreinte=bool(p.get("astreinte", False)),
            escalate_after_breach=steps,
        )

    people: dict[str, PersonEntry] = {}
    for i, p in enumerate(c.need(doc, "people", "", list) or []):
        where = f"people[{i}]"
        if not isinstance(p, dict) or not p.get("id"):
            c.fail(where, "expected a mapping with an id")
            continue
        pid = str(p["id"])
        if pid in people:
            c.fail(f"{where}.id", f"{pid!r} appears twice")
        lang = p.get("language", languages[0] if languages else "fr")
        if lang not in ("fr", "en"):
            c.fail(f"{where}.language", f"unsupported language {lang!r}")
        phone = c.run(f"{where}.phone", parse_phone, p.get("phone", ""), region)
        people[pid] = PersonEntry(pid, str(p.get("name", pid)), phone or "", lang)

    def known(key: str, pid: Any) -> str:
        if pid not in people:
            c.fail(key, f"unknown person {pid!r}")
        return str(pid)

    escalation: dict[str, str] = {}
    for role, pid in (doc.get("escalation") or {}).items():
        if role not in ROLES:
            c.fail(f"escalation.{role}", f"unknown role (use {', '.join(ROLES)})")
        escalation[role] = known(f"escalation.{role}", pid)

    ast = c.need(doc, "astreinte", "", dict) or {}
    takeover = c.run("astreinte.takeover", parse_duration, ast.get("takeover", "30m")) or timedelta(
        minutes=30
    )
    policy: list[PolicyStep] = []
    for i, step in enumerate(ast.get("policy") or []):
        where = f"astreinte.policy[{i}]"
        if not isinstance(step, dict):
            c.fail(where, "expected a mapping like {after: 0m, notify: primary, by: [sms, voice]}")
            continue
        after = c.run(f"{where}.after", parse_duration, step.get("after"))
        target = step.get("notify")
        if target not in POSITIONS + ROLES:
            c.fail(
                f"{where}.notify", f"{target!r} is not a position or a role ({', '.join(POSITIONS + ROLES)})"
            )
        elif target in ROLES and target not in escalation:
            c.fail(f"{where}.notify", f"nobody holds the role {target!r} (see escalation)")
        by = step.get("by") or []
        if not isinstance(by, list) or not by or any(ch not in CHANNELS for ch in by):
            c.fail(f"{where}.by", f"expected a list of channels among {', '.join(CHANNELS)}, got {by!r}")
            by = []
        if policy and after is not None and after < policy[-1].after:
            c.fail(f"{where}.after", "steps must be in time order")
        policy.append(PolicyStep(after or timedelta(0), str(target), tuple(by)))
    if not policy:
        c.fail("astreinte.policy", "at least one step is needed, or nobody would be paged")
    repeat = _repeat(c, ast.get("repeat"))
    self_test = _self_test(c, ast.get("self_test"))
    contest = c.run("astreinte.contest_resolved", parse_duration, ast.get("contest_resolved", "48h"))

    rota = _rota(c, doc.get("rota"), tz, known)

    if c.problems:
        raise OrgFileError(c.problems)
    return Org(
        timezone=tz,
        support_number=support or "",
        desk_numbers=desk,
        desk_ring=desk_ring,
        business_hours=hours,
        holiday_country=country,
        holiday_subdiv=subdiv,
        closures=closures,
        languages=languages,
        priorities=priorities,
        takeover=takeover,
        policy=tuple(policy),
        escalation=escalation,
        people=people,
        rota=rota,
        raw=doc,
        repeat=repeat,
        self_test=self_test,
        contest_window=contest or timedelta(hours=48),
    )


def _repeat(c: _Checker, value: Any) -> Repeat | None:
    """`repeat: {every: 10m, notify: [primary, backup], by: [sms, voice]}`, or none."""
    if value is None:
        return None
    where = "astreinte.repeat"
    if not isinstance(value, dict):
        c.fail(where, "expected a mapping like {every: 10m, notify: [primary, backup], by: [sms, voice]}")
        return None
    every = c.run(f"{where}.every", parse_duration, value.get("every"))
    if every is not None and every < timedelta(minutes=1):
        c.fail(f"{where}.every", "at least 1m: carriers block a number paged more often")
    notify = value.get("notify") or []
    if not isinstance(notify, list) or not notify or any(n not in POSITIONS for n in notify):
        c.fail(
            f"{where}.notify", f"expected a list of positions among {', '.join(POSITIONS)}, got {notify!r}"
        )
        notify = []
    by = value.get("by") or []
    if not isinstance(by, list) or not by or any(ch not in CHANNELS for ch in by):
        c.fail(f"{where}.by", f"expected a list of channels among {', '.join(CHANNELS)}, got {by!r}")
        by = []
    if every is None or every < timedelta(minutes=1) or not notify or not by:
        return None
    return Repeat(every, tuple(str(n) for n in notify), tuple(str(ch) for ch in by))


def _self_test(c: _Checker, value: Any) -> SelfTest | None:
    """`self_test: {at: "18:05", notify: [primary, backup], by: [sms]}`, or none (no evening test)."""
    if value is None:
        return None
    where = "astreinte.self_test"
    if not isinstance(value, dict):
        c.fail(where, 'expected a mapping like {at: "18:05", notify: [primary, backup], by: [sms]}')
        return None
    at = c.run(f"{where}.at", _hhmm, str(value.get("at", "")))
    notify = value.get("notify", list(POSITIONS))
    if not isinstance(notify, list) or not notify or any(n not in POSITIONS for n in notify):
        c.fail(
            f"{where}.notify", f"expected a list of positions among {', '.join(POSITIONS)}, got {notify!r}"
        )
        notify = []
    by = value.get("by", ["sms"])
    if not isinstance(by, list) or not by or any(ch not in CHANNELS for ch in by):
        c.fail(f"{where}.by", f"expected a list of channels among {', '.join(CHANNELS)}, got {by!r}")
        by = []
    if at is None or not notify or not by:
        return None
    return SelfTest(at, tuple(str(n) for n in notify), tuple(str(ch) for ch in by))


def _rota(c: _Checker, r: Any, tz: ZoneInfo, known: Any) -> RotaConfig:
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
        handoff = c.run("rota.handoff", _hhmm, text[1]) or handoff
    start = c.run("rota.start", _date, r.get("start")) or empty.start
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
        a = c.run(f"{where}.from", _local, o.get("from"), tz)
        b = c.run(f"{where}.to", _local, o.get("to"), tz)
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


def _overlaps(c: _Checker, overrides: list[Override]) -> None:
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


def _same_person_both(c: _Checker, primary: tuple[str, ...], backup: tuple[str, ...]) -> None:
    """A backup who is the primary every week is no backup at all."""
    if not primary or not backup:
        return
    weeks = range(math.lcm(len(primary), len(backup)))
    pairs = {(primary[w % len(primary)], backup[w % len(backup)]) for w in weeks}
    if all(a == b for a, b in pairs):
        names = ", ".join(sorted({a for a, _ in pairs}))
        c.fail("rota.backup", f"{names} would be primary and backup every week: nobody would back up")

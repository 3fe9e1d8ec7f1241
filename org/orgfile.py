"""The organisation file: parsed and checked as a whole into an `Org`, or refused with every problem.

Each problem names its key (`rota.primary[1]`, `people[2].phone`) and what is wrong with it, so an
administrator can fix a file in one go. Nothing here touches the database. This module reads the file's
top level (time zone, numbers, hours, holidays, languages, people, escalation) and every key's name;
the rota is checked in `org/rota_file.py`, priorities and the paging policy in `org/policy_file.py`, single
values in `org/values.py`. What parsing makes, `Org` and its parts, is defined in `org/orgtypes.py` and
named here too: callers import the organisation file's words from this one place.
"""

from __future__ import annotations

import difflib
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
import phonenumbers

from org.live_file import read_live_connect, read_name, read_portal
from org.orgtypes import (
    CHANNELS,
    CLOCKS,
    POSITIONS,
    ROLES,
    WEEKDAYS,
    LiveConnect,
    Org,
    Override,
    PersonEntry,
    PolicyStep,
    Priority,
    Repeat,
    RotaConfig,
    SelfTest,
)
from org.phones import parse_phone
from org.policy_file import read_policy, read_priorities, read_repeat, read_self_test
from org.rota_file import read_rota
from org.values import Checker, local_time, parse_date, parse_duration, parse_email, parse_ranges

__all__ = [
    "CHANNELS",
    "CLOCKS",
    "POSITIONS",
    "ROLES",
    "WEEKDAYS",
    "Org",
    "OrgFileError",
    "LiveConnect",
    "Override",
    "PersonEntry",
    "PolicyStep",
    "Priority",
    "Repeat",
    "RotaConfig",
    "SelfTest",
    "local_time",
    "parse",
    "parse_duration",
    "unknown_keys",
]

# Every key the file may hold, by place: a typo (`overides`) would otherwise drop what it carries.
# "*" stands for the keys an administrator names (priorities); "[]" for each item of a list.
_KEYS: dict[str, Any] = {
    "name": None,
    "portal": None,
    "timezone": None,
    "support_number": None,
    "desk_numbers": None,
    "desk_ring": None,
    "business_hours": None,
    "holidays": None,
    "closures": None,
    "languages": None,
    "priorities": {
        "*": {
            "label",
            "takeover",
            "resolution",
            "clock",
            "astreinte",
            "escalate_after_breach",
            "page_on_open",
            "inactivity",
        }
    },
    "astreinte": {
        "takeover": None,
        "policy": {"[]": {"after", "notify", "by"}},
        "repeat": {"every", "notify", "by"},
        "self_test": {"at", "notify", "by"},
        "contest_resolved": None,
        "live_connect": {"priorities", "ring", "record"},
    },
    "escalation": None,
    "people": {"[]": {"id", "name", "phone", "language", "email"}},
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


def parse(doc: Any) -> Org:
    """Check a whole organisation document; raise OrgFileError listing every problem found."""
    c = Checker()
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
        if (r := c.run(f"business_hours.{day}", parse_ranges, value)) is not None:
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
        d for i, v in enumerate(doc.get("closures") or []) if (d := c.run(f"closures[{i}]", parse_date, v))
    )

    raw_languages = doc.get("languages") or ["fr"]
    if not isinstance(raw_languages, list):
        c.fail("languages", f"expected a list like [fr, en], got {raw_languages!r}")
        raw_languages = ["fr"]
    languages = tuple(raw_languages)
    for i, lang in enumerate(languages):
        if lang not in ("fr", "en"):
            c.fail(f"languages[{i}]", f"unsupported language {lang!r} (fr, en)")

    priorities = read_priorities(c, c.need(doc, "priorities", "", dict) or {})

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
        email = c.run(f"{where}.email", parse_email, p["email"]) if p.get("email") else None
        people[pid] = PersonEntry(pid, str(p.get("name", pid)), phone or "", lang, email)

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
    policy = read_policy(c, ast.get("policy"), escalation)
    repeat = read_repeat(c, ast.get("repeat"))
    self_test = read_self_test(c, ast.get("self_test"))
    contest = c.run("astreinte.contest_resolved", parse_duration, ast.get("contest_resolved", "48h"))
    live_connect = read_live_connect(c, ast.get("live_connect"), priorities)
    name, portal = read_name(c, doc.get("name")), read_portal(c, doc.get("portal"))

    rota = read_rota(c, doc.get("rota"), tz, known)

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
        policy=policy,
        escalation=escalation,
        people=people,
        rota=rota,
        raw=doc,
        repeat=repeat,
        self_test=self_test,
        contest_window=contest or timedelta(hours=48),
        name=name,
        portal=portal,
        live_connect=live_connect,
    )

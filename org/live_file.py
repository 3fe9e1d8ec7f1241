"""The organisation file's `name`, `portal` and `astreinte.live_connect`, read and checked.

`name` and `portal` are what callers hear and read (the greeting, the refusals, every SMS): a provider
sets them in its file and never edits code. Both may be left out (a file written before they existed):
the prompts then name nobody and send a caller without a ticket to the service desk by day.
"""

from __future__ import annotations

import re
from typing import Any

from org.orgtypes import LiveConnect, Priority
from org.values import Checker, parse_duration

# A portal is said aloud and printed in SMS: a host name or an address, no spaces, no markup.
_PORTAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-/:_~%?=&#+]*$")
MAX_NAME = 40  # said in every greeting and SMS: one GSM-7 segment must still hold a receipt
MAX_PORTAL = 60


def read_name(c: Checker, value: Any) -> str:
    """`name: Example Télécom`, the provider as its clients know it."""
    if value is None:
        return ""
    if not isinstance(value, str | int) or not str(value).strip():
        c.fail("name", f"expected the provider's name, like Example Télécom, got {value!r}")
        return ""
    name = " ".join(str(value).split())
    if len(name) > MAX_NAME:
        c.fail("name", f"{len(name)} characters: at most {MAX_NAME} (it is said in every greeting and SMS)")
        return ""
    return name


def read_portal(c: Checker, value: Any) -> str:
    """`portal: support.example.com`, where clients open a ticket."""
    if value is None:
        return ""
    portal = str(value).strip() if isinstance(value, str) else ""
    if not portal or not _PORTAL.match(portal) or len(portal) > MAX_PORTAL:
        c.fail("portal", f"expected a web address like support.example.com (no spaces), got {value!r}")
        return ""
    return portal.removeprefix("https://").removeprefix("http://").rstrip("/")


def read_live_connect(c: Checker, value: Any, priorities: dict[str, Priority]) -> LiveConnect | None:
    """`live_connect: {priorities: [urgent], ring: 20s}` (record: false), or none."""
    if value is None:
        return None
    where = "astreinte.live_connect"
    if not isinstance(value, dict):
        c.fail(where, "expected a mapping like {priorities: [urgent], ring: 20s}")
        return None
    named = value.get("priorities")
    if not isinstance(named, list) or not named:
        c.fail(
            f"{where}.priorities", f"expected a list of priorities like [{next(iter(priorities), 'high')}]"
        )
        return None
    chosen: set[str] = set()
    for i, key in enumerate(named):
        if str(key) not in priorities:
            known = ", ".join(priorities) or "none"
            c.fail(f"{where}.priorities[{i}]", f"unknown priority {key!r} (the file has {known})")
        elif not priorities[str(key)].astreinte:
            c.fail(f"{where}.priorities[{i}]", f"{key!r} is not handled by the astreinte (astreinte: false)")
        else:
            chosen.add(str(key))
    ring = c.run(f"{where}.ring", parse_duration, value.get("ring", "20s"))
    if ring is not None and not 5 <= ring.total_seconds() <= 60:
        c.fail(f"{where}.ring", "between 5s and 60s (each technician's phone rings this long)")
        ring = None
    record = value.get("record", False)
    if not isinstance(record, bool):
        c.fail(f"{where}.record", f"expected true or false, got {record!r}")
        record = False
    if not chosen or ring is None:
        return None
    return LiveConnect(frozenset(chosen), ring, record)

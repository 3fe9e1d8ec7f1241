"""The organisation as the code holds it: an `Org` and its parts, made by `org.orgfile.parse`.

Frozen values, checked before they are made: nothing here reads a document or touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
POSITIONS = ("primary", "backup")
ROLES = ("supervisor", "manager", "director")
CHANNELS = ("sms", "voice")  # a page test's
PAGE_CHANNELS = ("sms", "voice", "email")  # a policy step's: e-mail needs SMTP_URL and the person's address
CLOCKS = ("24/7", "business_hours")


@dataclass(frozen=True)
class Priority:
    key: str
    label: str
    takeover: timedelta | None  # None: no takeover target (never breached)
    resolution: timedelta | None  # None: no resolution target
    clock: str  # "24/7" or "business_hours"
    astreinte: bool
    escalate_after_breach: tuple[timedelta, ...] = ()
    page_on_open: bool = False  # a ticket opened while the astreinte runs pages at once, with no call
    inactivity: timedelta | None = None  # a taken-over ticket nobody touches this long escalates (000)


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
class LiveConnect:
    """Callers of these priorities may talk to the technician on call at once: each level of the
    chain (primary, then backup) rings `ring`; the technician accepts with a key. `record`: the
    conversation is recorded, the notice said first."""

    priorities: frozenset[str]
    ring: timedelta = timedelta(seconds=20)
    record: bool = False


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
    email: str | None = None


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
    name: str = ""  # the provider, as callers know it ("Example Télécom"); none: the prompts name nobody
    portal: str = ""  # where a client opens a ticket ("support.example.com"); none: the desk, by day
    live_connect: LiveConnect | None = None  # urgent callers put through to the technician on call

    @property
    def region(self) -> str:
        """The phone region of the support number (FR), for numbers keyed without a prefix."""
        return phonenumbers.region_code_for_number(phonenumbers.parse(self.support_number)) or "FR"

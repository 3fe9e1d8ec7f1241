"""The carriers astreinte sends through, registered by channel (sms, voice, email), and their health.

A carrier is an adapter in its own room at the edge (Twilio's in voice/, e-mail over SMTP in mail/):
it only sends and looks up, and answers in domain words: `Sent`, or `SendError` with a code and whether
it is temporary. This room never knows which one it talks to. A carrier failing again and again
(`SET_ASIDE_AFTER` faults in a row for `FAILING_FOR`: 5xx, time-outs, authentication) is set aside: it is skipped, and
probed every `PROBE_EVERY` (the sweeper asks it whether it answers, and one real message may go
through it), back in use as soon as a probe succeeds.
Its state is a row of `carrier_health`, so every web process and worker agrees.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

import clock
from models import CarrierHealth, Channel, changed, session

log = logging.getLogger(__name__)

# Set aside after this many faults in a row over at least this long: a carrier failing now and then
# (a share of requests) stays in use, one failing on every request for 20 s is set aside.
SET_ASIDE_AFTER = 5
FAILING_FOR = timedelta(seconds=20)
PROBE_EVERY = timedelta(seconds=30)  # "probed at least once a minute"
AUTHENTICATION = {20003, 401}  # the carrier refused our credentials: its fault as far as paging goes


@dataclass(frozen=True)
class Sent:
    """What the carrier said: its id for the message or call, and the first status."""

    sid: str
    status: str
    body: str = ""  # what the carrier holds, when it was looked up (a call: the address of its words)
    at: datetime | None = None  # when the carrier accepted it, when it was looked up


class SendError(Exception):
    """The carrier refused or could not be reached. `temporary` says whether retrying may help;
    `maybe_sent` that the request may have reached the carrier (no answer came back in time): look
    it up before sending it again, or the recipient gets it twice."""

    def __init__(self, message: str, code: int | None, temporary: bool, maybe_sent: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.temporary = temporary
        self.maybe_sent = maybe_sent

    @property
    def carrier_fault(self) -> bool:
        """The carrier failed (not the recipient): it counts towards setting the carrier aside."""
        return self.temporary or self.code in AUTHENTICATION


@dataclass(frozen=True)
class Outgoing:
    """One message as a carrier sees it. A call says what it is about (`about`: "page", "page_test",
    "callback") and the ids that name it (`ids`: {"page": 12}); the carrier's room knows where its
    words are."""

    channel: Channel
    to: str
    body: str = ""
    subject: str = ""
    about: str | None = None
    ids: dict[str, int | str] = field(default_factory=dict)


class Carrier(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def channels(self) -> frozenset[Channel]: ...

    def send(self, message: Outgoing) -> Sent:
        """Hand `message` to the carrier; SendError when it refuses or cannot be reached."""
        ...

    def look_up(self, message: Outgoing, since: datetime, until: datetime | None) -> list[Sent]:
        """What the carrier accepted for `message.to` between `since` and `until` (SendError when it
        cannot be asked; a carrier that cannot be asked at all answers [])."""
        ...

    def probe(self) -> None:
        """Ask the carrier whether it answers, sending nothing to anyone (SendError when not)."""
        ...


def register(app: Flask, carrier: Carrier) -> None:
    """Add `carrier` to the application's carriers: tried in the order they were registered."""
    app.extensions.setdefault("carriers", []).append(carrier)


def registered() -> list[Carrier]:
    found: list[Carrier] = current_app.extensions.get("carriers", [])
    return found


def for_channel(channel: Channel) -> list[Carrier]:
    """Every carrier of `channel`, set aside or not, in the order they are tried."""
    return [c for c in registered() if channel in c.channels]


def channel_served(channel: Channel) -> bool:
    return bool(for_channel(channel))


# --- health -------------------------------------------------------------------------------------


def _row(name: str) -> CarrierHealth:
    row = session.get(CarrierHealth, name)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = CarrierHealth(carrier=name, failures=0)
            session.add(row)
    except IntegrityError:  # another process wrote it first
        row = session.get(CarrierHealth, name, populate_existing=True)
        assert row is not None
    return row


def usable(name: str, now: datetime) -> bool:
    """Whether to try `name` now: it is in use, or set aside and this send is its probe (claimed by a
    conditional UPDATE, so one process probes, the others skip it)."""
    row = session.get(CarrierHealth, name)
    if row is None or row.set_aside_at is None:
        return True
    if row.probe_at is not None and clock.as_utc(row.probe_at) > now:
        return False
    won = changed(
        update(CarrierHealth)
        .where(
            CarrierHealth.carrier == name,
            CarrierHealth.set_aside_at.is_not(None),
            CarrierHealth.probe_at == row.probe_at,
        )
        .values(probe_at=now + PROBE_EVERY)
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)
    return bool(won)


def fault(name: str, error: SendError, now: datetime) -> bool:
    """A fault of the carrier `name`. True when this fault sets it aside (tell the supervisor)."""
    row = _row(name)
    row.failures = (row.failures or 0) + 1
    row.last_error = str(error)[:200]
    if row.failing_since is None:
        row.failing_since = now
    long_enough = now - clock.as_utc(row.failing_since) >= FAILING_FOR
    if row.set_aside_at is None and row.failures >= SET_ASIDE_AFTER and long_enough:
        row.set_aside_at, row.probe_at, row.told_at, row.back_at = now, now + PROBE_EVERY, None, None
        session.flush()
        log.error("carrier %s set aside after %d faults in a row: %s", name, row.failures, error)
        return True
    session.flush()
    return False


def succeeded(name: str, now: datetime) -> None:
    """The carrier took a message: back in use if it was set aside."""
    row = session.get(CarrierHealth, name)
    if row is None or (not row.failures and row.set_aside_at is None):
        return
    if row.set_aside_at is not None:
        log.warning("carrier %s answers again: back in use", name)
        row.back_at = now
    row.failures, row.failing_since, row.set_aside_at, row.probe_at = 0, None, None, None
    session.flush()


def claim_telling(name: str) -> bool:
    """Whether this process tells the supervisor that `name` is set aside (once per outage)."""
    return bool(
        changed(
            update(CarrierHealth)
            .where(
                CarrierHealth.carrier == name,
                CarrierHealth.set_aside_at.is_not(None),
                CarrierHealth.told_at.is_(None),
            )
            .values(told_at=clock.now())
            .execution_options(synchronize_session=False)
        )
    )


def untold(name: str) -> None:
    """Nothing could tell the supervisor: try again at the next fault."""
    session.execute(
        update(CarrierHealth)
        .where(CarrierHealth.carrier == name)
        .values(told_at=None)
        .execution_options(synchronize_session=False)
    )


def probe_due(now: datetime) -> None:
    """Probe each carrier set aside whose probe is due (the sweeper, every few seconds): back in use
    as soon as it answers, even on a night nothing else is sent."""
    for row in set_aside():
        carrier = next((c for c in registered() if c.name == row.carrier), None)
        if carrier is None or not usable(row.carrier, now):
            continue
        try:
            carrier.probe()
        except SendError as exc:
            fault(row.carrier, exc, now)
            log.warning("carrier %s probed: still failing (%s)", row.carrier, exc)
        else:
            succeeded(row.carrier, now)
    session.commit()


def set_aside() -> list[CarrierHealth]:
    """The carriers set aside now, oldest first (health warnings, the dashboard's banner)."""
    return list(
        session.scalars(
            select(CarrierHealth)
            .where(CarrierHealth.set_aside_at.is_not(None))
            .order_by(CarrierHealth.set_aside_at)
        )
    )

"""Wrong PINs, counted so that a stranger cannot shut a client out of the emergency line.

Two counters (`PinLock` rows):
- per client account *and* calling number (`caller:C1001:+33699887766`): PIN_MAX_FAILURES wrong PINs
  within PIN_FAILURE_WINDOW_MINUTES lock that number out of that account for PIN_LOCK_MINUTES. A
  stranger's guesses lock the stranger's number. A withheld number is nobody's: each withheld call
  counts apart (`caller:C1001:withheld:<call>`), so one stranger never locks every withheld caller;
- per client account (`client:C1001`), against guessing spread over many numbers (withheld ones too):
  PIN_ACCOUNT_MAX_FAILURES wrong PINs from numbers that are not the client's registered contacts lock
  the account for every number *except* those contacts.

The client's registered contact numbers are never locked: a caller ID is easy to forge, and a lock on
it would shut the client out. A call from one counts on its own (`contact:C1001:<call>`), bounded by
the IVR's three tries per call, and the number's wrong PINs are watched (`watch:C1001:+33611223344`):
PIN_MAX_FAILURES of them within the window tell the supervisor, as every lock does (oncall/pin_alerts.py).

The count holds under concurrency: an attempt is reserved by one conditional UPDATE before the (slow)
hash is compared, so forty wrong PINs keyed at once get exactly PIN_MAX_FAILURES comparisons; a right
PIN gives its reservation back. Hashing and comparing are `org/pins.py`'s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError

import clock
from models import PinLock, changed, session


def setting(name: str) -> int:
    return int(current_app.config[name])


@dataclass(frozen=True)
class Gate:
    """The counters one PIN attempt is held by: [(key, limit)]."""

    keys: tuple[tuple[str, int], ...]
    watch: str | None = None  # a client's registered number: counted, never locked (`watch_failure`)

    @property
    def names(self) -> list[str]:
        return [key for key, _ in self.keys]


def gate(account: str, number: str | None, contacts: set[str], call_id: int) -> Gate:
    """The counters of a caller on an account: their own (their number's, or this call's when the
    number is withheld or one of the client's contacts), and the account's unless they call from
    one of the client's registered contact numbers (the client is never locked out by strangers)."""
    limit = setting("PIN_MAX_FAILURES")
    if number is not None and number in contacts:
        return Gate(((f"contact:{account}:{call_id}"[:60], limit),), watch=f"watch:{account}:{number}"[:60])
    own = f"caller:{account}:{number}" if number is not None else f"caller:{account}:withheld:{call_id}"
    return Gate(((own[:60], limit), (f"client:{account}", setting("PIN_ACCOUNT_MAX_FAILURES"))))


def locked_until(held: Gate, at: datetime | None = None) -> datetime | None:
    """The end of the longest running lock on this caller, or None."""
    at = at or clock.now()
    ends = [
        end
        for end in session.scalars(
            select(PinLock.locked_until).where(PinLock.key.in_(held.names), PinLock.locked_until > at)
        )
        if end is not None
    ]
    return max(ends) if ends else None


BUSY_WAIT = 0.05  # seconds between two tries while other attempts of the same caller are compared
BUSY_TRIES = 20  # a second at most: a comparison takes milliseconds


def reserve_attempt(held: Gate, at: datetime | None = None) -> bool:
    """Count this attempt on every counter before the PIN is compared; False (nothing counted) when
    one of them is locked, or stays full. Committed at once: the slow comparison holds no lock.

    A counter full of attempts still being compared, with no lock (callers of one switchboard number
    keying their PINs at the same instant, in an outage), is waited for, up to a second: those
    comparisons end within milliseconds and either clear it (right PINs) or lock it (wrong ones). So
    no more than the limit is ever compared at once, and a right PIN is not refused for being sixth."""
    for _ in range(BUSY_TRIES):
        if _reserve_once(held, at or clock.now()):
            return True
        if locked_until(held, at) is not None:
            session.commit()
            return False
        session.commit()  # no snapshot held while waiting
        time.sleep(BUSY_WAIT)
    return False


def _reserve_once(held: Gate, at: datetime) -> bool:
    window_start = at - timedelta(minutes=setting("PIN_FAILURE_WINDOW_MINUTES"))
    taken: list[str] = []
    for key, limit in held.keys:
        # One statement: a lock that ran out, or slips older than the window, are forgotten (this
        # attempt is then the first), else the attempt is counted if the counter is not full.
        stale = or_(
            PinLock.locked_until <= at,
            and_(PinLock.locked_until.is_(None), PinLock.first_failure_at < window_start),
        )
        attempt = (
            update(PinLock)
            .where(
                PinLock.key == key, or_(stale, and_(PinLock.locked_until.is_(None), PinLock.failures < limit))
            )
            .values(
                failures=case((stale, 1), else_=PinLock.failures + 1),
                first_failure_at=case((stale, at), else_=func.coalesce(PinLock.first_failure_at, at)),
                locked_until=None,
            )
        )
        won = changed(attempt)
        if not won and _ensure(key):  # this caller's first attempt: the counter did not exist yet
            won = changed(attempt)
        if not won:
            _give_back(taken)
            session.commit()
            return False
        taken.append(key)
    session.commit()
    return True


def record_failure(held: Gate, at: datetime | None = None) -> bool:
    """The reserved attempt was a wrong PIN: a full counter locks. True when this caller is now locked."""
    at = at or clock.now()
    lock_end = at + timedelta(minutes=setting("PIN_LOCK_MINUTES"))
    for key, limit in held.keys:
        session.execute(
            update(PinLock)
            .where(PinLock.key == key, PinLock.failures >= limit, PinLock.locked_until.is_(None))
            .values(locked_until=lock_end)
        )
    session.commit()
    return locked_until(held, at) is not None


def watch_failure(held: Gate, at: datetime | None = None) -> bool:
    """A wrong PIN keyed with one of the client's registered numbers: counted on that number, never
    a lock. True each time PIN_MAX_FAILURES of them fall within the window (someone may be guessing
    behind a forged caller ID: the supervisor is told, and the count starts again)."""
    if held.watch is None:
        return False
    at = at or clock.now()
    window_start = at - timedelta(minutes=setting("PIN_FAILURE_WINDOW_MINUTES"))
    _ensure(held.watch)
    session.execute(
        update(PinLock)
        .where(PinLock.key == held.watch, PinLock.first_failure_at < window_start)
        .values(failures=0, first_failure_at=None)
    )
    session.execute(
        update(PinLock)
        .where(PinLock.key == held.watch)
        .values(failures=PinLock.failures + 1, first_failure_at=func.coalesce(PinLock.first_failure_at, at))
    )
    full = changed(
        update(PinLock)
        .where(PinLock.key == held.watch, PinLock.failures >= setting("PIN_MAX_FAILURES"))
        .values(failures=0, first_failure_at=None)
    )
    session.commit()
    return bool(full)


def clear_failures(held: Gate) -> None:
    """A right PIN: the caller's own slips are forgotten, and the attempt reserved on the account is
    given back (a right PIN never wipes a stranger's guesses on the account). Never a running lock."""
    own, *account = held.names
    session.execute(
        update(PinLock).where(PinLock.key == own, PinLock.locked_until.is_(None)).values(failures=0)
    )
    _give_back(account)


def _give_back(keys: list[str]) -> None:
    for key in keys:
        session.execute(
            update(PinLock)
            .where(PinLock.key == key, PinLock.failures > 0, PinLock.locked_until.is_(None))
            .values(failures=PinLock.failures - 1)
        )


def _ensure(key: str) -> bool:
    """The counter exists; True when it did not (this call, or another at the same instant, made it)."""
    if session.get(PinLock, key) is not None:
        return False
    try:
        with session.begin_nested():  # two calls may count the same key at once
            session.add(PinLock(key=key, failures=0))
    except IntegrityError:
        pass
    return True

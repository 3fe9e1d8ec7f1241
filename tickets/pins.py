"""Client PINs locked after repeated failures, per client account and per calling number (`PinLock`
rows). Hashing and comparing a PIN is `org/pins.py`'s (the organisation file brings the PINs).

The numbers are settings (see `wsgi.configuration`): PIN_MAX_FAILURES failures within
PIN_FAILURE_WINDOW_MINUTES lock the key for PIN_LOCK_MINUTES.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

import clock
from models import PinLock, session


def setting(name: str) -> int:
    return int(current_app.config[name])


def lock_keys(account: str | None, number: str | None) -> list[str]:
    """The keys failures are counted on: the client account and the calling number."""
    keys = []
    if account:
        keys.append(f"client:{account}")
    if number:
        keys.append(f"number:{number}")
    return keys


def locked_until(keys: list[str], at: datetime | None = None) -> datetime | None:
    """The end of the longest lock on any of `keys`, or None when none is locked."""
    at = at or clock.now()
    ends = [
        lock.locked_until
        for key in keys
        if (lock := session.get(PinLock, key)) is not None
        and lock.locked_until is not None
        and lock.locked_until > at
    ]
    return max(ends) if ends else None


def record_failure(keys: list[str], at: datetime | None = None) -> bool:
    """Count one failed PIN on every key; True when this failure locked one of them."""
    at = at or clock.now()
    window = timedelta(minutes=setting("PIN_FAILURE_WINDOW_MINUTES"))
    locked = False
    for key in keys:
        lock = _row(key)
        if lock.first_failure_at is None or at - lock.first_failure_at > window:
            lock.failures, lock.first_failure_at = 0, at
        lock.failures += 1
        if lock.failures >= setting("PIN_MAX_FAILURES"):
            lock.locked_until = at + timedelta(minutes=setting("PIN_LOCK_MINUTES"))
            lock.failures, lock.first_failure_at = 0, None
            locked = True
    session.flush()
    return locked


def clear_failures(keys: list[str]) -> None:
    """A right PIN forgets earlier slips (never a running lock)."""
    for key in keys:
        lock = session.get(PinLock, key)
        if lock is not None and lock.locked_until is None:
            lock.failures, lock.first_failure_at = 0, None


def _row(key: str) -> PinLock:
    lock = session.get(PinLock, key)
    if lock is not None:
        return lock
    try:
        with session.begin_nested():  # two calls may count the same key at once
            lock = PinLock(key=key, failures=0)
            session.add(lock)
    except IntegrityError:
        lock = session.get(PinLock, key)
        assert lock is not None
    return lock

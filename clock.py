"""The one clock of the application: every "now" comes from here, so tests can move time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_frozen: datetime | None = None


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC)


def set(at: datetime) -> None:  # noqa: A001 - reads well at call sites: clock.set(...)
    """Freeze the clock at `at` (tests, the offline demo)."""
    global _frozen
    if at.tzinfo is None:
        raise ValueError("the clock takes timezone-aware instants only")
    _frozen = at.astimezone(UTC)


def advance(by: timedelta) -> datetime:
    """Move a frozen clock forward and return the new instant."""
    if _frozen is None:
        raise RuntimeError("advance() needs a frozen clock: call clock.set() first")
    set(_frozen + by)
    return now()


def release() -> None:
    """Go back to the wall clock."""
    global _frozen
    _frozen = None


def as_utc(at: datetime) -> datetime:
    """Aware UTC from a database value (SQLite hands back naive datetimes)."""
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at.astimezone(UTC)

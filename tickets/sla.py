"""A ticket's SLA clocks: takeover and resolution targets of its priority, counted 24/7 or in business
hours, and paused while the client is on standby (seeds 000/004: "the time-stamping is temporarily
discontinued"; 003: prise en charge ½h en 24/7, 4h en heures ouvrées pour une priorité faible)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

import clock
from models import Callout, Ticket, TicketEvent, TicketStatus, session
from org.hours import is_closed_day
from org.orgfile import Org

TWENTY_FOUR_SEVEN = "24/7"


@dataclass(frozen=True)
class SlaClock:
    kind: str  # takeover | resolution
    target: timedelta
    elapsed: timedelta  # counted on the clock (business time for a business-hours priority)
    counting: str  # "24/7" or "business_hours"
    paused: bool  # client standby
    stopped_at: datetime | None  # taken over / resolved: the clock no longer moves
    due_at: datetime | None  # when it breaches if nothing changes; None when paused, stopped or breached

    @property
    def remaining(self) -> timedelta:
        return self.target - self.elapsed

    @property
    def breached(self) -> bool:
        return self.elapsed > self.target

    @property
    def running(self) -> bool:
        return self.stopped_at is None and not self.paused


@dataclass(frozen=True)
class TicketClocks:
    """Both count from the ticket's opening (`opened_at`); a priority without a target has no clock
    (None), never a target of zero breached at once. A night takeover of a message is a takeover of
    the ticket: it stops the takeover clock (`taken_over_at`)."""

    opened_at: datetime
    takeover: SlaClock | None
    resolution: SlaClock | None


# --- time on a clock ----------------------------------------------------------------------------


def _business_ranges(org: Org, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The business-hour ranges (UTC) that meet [start, end], in order."""
    day = start.astimezone(org.timezone).date()
    last = end.astimezone(org.timezone).date()
    while day <= last:
        if not is_closed_day(org, day):
            for a, b in org.business_hours.get(day.weekday(), ()):
                lo = datetime.combine(day, a, tzinfo=org.timezone).astimezone(UTC)
                hi = datetime.combine(day, b, tzinfo=org.timezone).astimezone(UTC)
                if hi > start and lo < end:
                    yield max(lo, start), min(hi, end)
        day += timedelta(days=1)


def time_on_clock(org: Org, counting: str, start: datetime, end: datetime) -> timedelta:
    """How much of [start, end] counts on a 24/7 or a business-hours clock."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return timedelta(0)
    if counting == TWENTY_FOUR_SEVEN:
        return end - start
    return sum((hi - lo for lo, hi in _business_ranges(org, start, end)), timedelta(0))


def add_on_clock(org: Org, counting: str, start: datetime, amount: timedelta) -> datetime:
    """The instant when `amount` of clock time has passed after `start`."""
    start = start.astimezone(UTC)
    if counting == TWENTY_FOUR_SEVEN or amount <= timedelta(0):
        return start + max(amount, timedelta(0))
    left = amount
    horizon = start + timedelta(days=400)
    for lo, hi in _business_ranges(org, start, horizon):
        if hi - lo >= left:
            return lo + left
        left -= hi - lo
    raise ValueError("no business hours in the next 400 days")


# --- a ticket's clocks --------------------------------------------------------------------------


def standby_periods(ticket: Ticket, now: datetime) -> list[tuple[datetime, datetime]]:
    """The client-standby periods of a ticket, from its timeline (status events), the current one last."""
    periods: list[tuple[datetime, datetime]] = []
    began: datetime | None = None
    events = session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "status")
        .order_by(TicketEvent.at, TicketEvent.id)
    )
    for event in events:
        if not event.data:
            continue
        if event.data.get("to") == TicketStatus.CLIENT_STANDBY.value and began is None:
            began = event.at
        elif event.data.get("from") == TicketStatus.CLIENT_STANDBY.value and began is not None:
            periods.append((began, event.at))
            began = None
    if ticket.status is TicketStatus.CLIENT_STANDBY:
        periods.append((began or ticket.standby_since or now, now))
    return periods


def taken_over_at(ticket: Ticket) -> datetime | None:
    """The first takeover: the ticket's own, or the first callout taken over on it; a ticket resolved
    with no takeover before was dealt with at its resolution."""
    first = session.scalar(select(func.min(Callout.taken_over_at)).where(Callout.ticket_id == ticket.id))
    instants = [t for t in (ticket.taken_over_at, first, ticket.resolved_at) if t is not None]
    return min(instants) if instants else None


def _clock(
    org: Org,
    ticket: Ticket,
    kind: str,
    target: timedelta,
    counting: str,
    stopped_at: datetime | None,
    now: datetime,
    standby: list[tuple[datetime, datetime]],
) -> SlaClock:
    end = min(stopped_at, now) if stopped_at else now
    elapsed = time_on_clock(org, counting, ticket.opened_at, end)
    for a, b in standby:
        elapsed -= time_on_clock(org, counting, max(a, ticket.opened_at), min(b, end))
    paused = stopped_at is None and ticket.status is TicketStatus.CLIENT_STANDBY
    due_at = None
    if stopped_at is None and not paused and elapsed < target:
        due_at = add_on_clock(org, counting, now, target - elapsed)
    return SlaClock(kind, target, max(elapsed, timedelta(0)), counting, paused, stopped_at, due_at)


def ticket_clocks(org: Org, ticket: Ticket, now: datetime | None = None) -> TicketClocks | None:
    """Both clocks of a ticket, or None when its priority is not in the organisation file."""
    priority = org.priorities.get(ticket.priority)
    if priority is None:
        return None
    now = now or clock.now()
    takeover, resolution = priority.takeover, priority.resolution
    standby = standby_periods(ticket, now)  # both clocks pause alike: one read of the timeline
    return TicketClocks(
        opened_at=ticket.opened_at,
        takeover=_clock(
            org, ticket, "takeover", takeover, priority.clock, taken_over_at(ticket), now, standby
        )
        if takeover is not None
        else None,
        resolution=_clock(
            org, ticket, "resolution", resolution, priority.clock, ticket.resolved_at, now, standby
        )
        if resolution is not None
        else None,
    )

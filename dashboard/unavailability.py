"""Monthly unavailability per client (003: "des rapports précis sur les taux d'indisponibilité"; 004:
the client's figures by month), from the ticket clocks: a ticket counts from its opening to its
resolution, without its client-standby time (000/004: the clock is frozen while waiting for the client),
cut to the month; a client's simultaneous tickets count once (the union of their times). Also each
client's tickets whose takeover or resolution target was missed, and the callouts (night alerts) that
breached. The reports page shows it; `/reports/unavailability.csv` (reports.py) exports it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

import clock
from models import Callout, Client, Ticket, session
from org.orgfile import Org
from tickets.sla import standby_periods, ticket_clocks


@dataclass
class ClientMonth:
    account: str
    name: str
    tickets: int = 0
    down: timedelta = timedelta(0)  # the union of its tickets' times in the month, standby left out
    late_takeovers: int = 0
    late_resolutions: int = 0
    breached_callouts: int = 0
    month_length: timedelta = timedelta(days=30)

    @property
    def hours(self) -> float:
        return self.down.total_seconds() / 3600

    @property
    def unavailable_pct(self) -> float:
        return 100 * self.down / self.month_length if self.month_length else 0.0


def _cut(a: datetime, b: datetime, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    lo, hi = max(clock.as_utc(a), start), min(clock.as_utc(b), end)
    return (lo, hi) if hi > lo else None


def _minus(
    span: tuple[datetime, datetime], holes: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    pieces = [span]
    for h_lo, h_hi in holes:
        kept = []
        for lo, hi in pieces:
            if h_hi <= lo or h_lo >= hi:
                kept.append((lo, hi))
                continue
            if h_lo > lo:
                kept.append((lo, h_lo))
            if h_hi < hi:
                kept.append((h_hi, hi))
        pieces = kept
    return pieces


def _union(spans: list[tuple[datetime, datetime]]) -> timedelta:
    total, last_end = timedelta(0), None
    for lo, hi in sorted(spans):
        if last_end is not None and lo < last_end:
            if hi > last_end:
                total += hi - last_end
                last_end = hi
            continue
        total += hi - lo
        last_end = hi
    return total


def unavailability(org: Org | None, start: datetime, end: datetime) -> list[ClientMonth]:
    """Every client, with its tickets open between `start` and `end` (a month), the most unavailable
    first."""
    start, end = clock.as_utc(start), clock.as_utc(end)
    now = clock.now()
    until = min(end, now)
    tickets = session.scalars(
        select(Ticket)
        .where(Ticket.opened_at < end, or_(Ticket.resolved_at.is_(None), Ticket.resolved_at >= start))
        .options(joinedload(Ticket.client))
    ).all()
    per_callout = session.execute(
        select(Callout.id, Callout.ticket_id).where(
            Callout.opened_at >= start, Callout.opened_at < end, Callout.breached_at.is_not(None)
        )
    ).all()
    by_client: dict[int, ClientMonth] = {}
    spans: dict[int, list[tuple[datetime, datetime]]] = {}
    for ticket in tickets:
        if until <= start:
            break
        row = by_client.setdefault(
            ticket.client_id, ClientMonth(ticket.client.account, ticket.client.name, month_length=end - start)
        )
        row.tickets += 1
        span = _cut(ticket.opened_at, ticket.resolved_at or until, start, until)
        if span is not None:
            holes = [h for a, b in standby_periods(ticket, now) if (h := _cut(a, b, start, until))]
            spans.setdefault(ticket.client_id, []).extend(_minus(span, holes))
        clocks = ticket_clocks(org, ticket, now) if org else None
        if clocks and clocks.takeover and clocks.takeover.breached:
            row.late_takeovers += 1
        if clocks and clocks.resolution and clocks.resolution.breached:
            row.late_resolutions += 1
    client_of = {t.id: t.client_id for t in tickets}
    for _callout_id, ticket_id in per_callout:
        if (client_id := client_of.get(ticket_id)) in by_client:
            by_client[client_id].breached_callouts += 1
    for client_id, row in by_client.items():
        row.down = _union(spans.get(client_id, []))
    known = {c.account for c in by_client.values()}
    for account, name in session.execute(select(Client.account, Client.name)):
        if account not in known:  # a client with nothing this month: fully available
            by_client[-len(by_client) - 1] = ClientMonth(account, name, month_length=end - start)
    return sorted(by_client.values(), key=lambda r: (-r.down, r.account))

"""SLA clocks of a ticket: 24/7 or business hours, stopped by the takeover and the resolution,
paused while the client is on standby."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import TicketStatus
from org.load import current_org, load, read_file
from tickets.service import TicketError, add_note, change_status, create_ticket
from tickets.sla import add_on_clock, ticket_clocks, time_on_clock

from . import factories
from .conftest import ORG_FILE, paris
from .factories import told


def open_ticket(priority: str = "high", subject: str = "Lien coupé"):
    return create_ticket(
        client="C1001", service="SDSL-4471", priority=priority, subject=subject, actor="test"
    )


def test_a_high_priority_ticket_must_be_taken_over_within_half_an_hour_day_and_night(clock, org):
    ticket = open_ticket()
    clock.advance(minutes=20)
    clocks = ticket_clocks(org, ticket)
    assert clocks.takeover.remaining == timedelta(minutes=10)
    assert clocks.takeover.due_at == paris("2026-11-24 23:40")
    assert clocks.resolution.due_at == paris("2026-11-25 03:10")
    clock.advance(minutes=15)
    assert ticket_clocks(org, ticket).takeover.breached
    assert ticket_clocks(org, ticket).takeover.remaining == -timedelta(minutes=5)


def test_the_takeover_of_a_callout_stops_the_takeover_clock(clock, org):
    clock.set("2026-11-24 23:00")
    ticket = open_ticket()
    callout = factories.callout(factories.voicemail(factories.call("2026-11-24 23:05", number=ticket.number)))
    factories.take_over(callout, "alice", "voice", "2026-11-24 23:19")
    clock.set("2026-11-25 02:00")
    takeover = ticket_clocks(org, ticket).takeover
    assert takeover.stopped_at == paris("2026-11-24 23:19")
    assert takeover.elapsed == timedelta(minutes=19)
    assert not takeover.breached and not takeover.running


def test_client_standby_stops_both_clocks_until_it_ends(clock, org):
    ticket = open_ticket()
    clock.advance(minutes=10)
    change_status(ticket, "in_progress", actor="agnes")
    clock.advance(minutes=50)
    change_status(ticket, TicketStatus.CLIENT_STANDBY, actor="agnes", note="le client teste")
    before = ticket_clocks(org, ticket).resolution
    clock.advance(hours=5)  # the client tests all night: no breach
    during = ticket_clocks(org, ticket).resolution
    assert during.paused and during.due_at is None
    assert during.elapsed == before.elapsed == timedelta(hours=1)
    assert not during.breached
    change_status(ticket, "in_progress", actor="agnes")
    after = ticket_clocks(org, ticket).resolution
    assert after.running and after.remaining == timedelta(hours=3)
    assert ticket.standby_seconds == 5 * 3600 and ticket.standby_since is None


def test_a_low_priority_ticket_counts_business_hours_only(clock, org):
    clock.set("2026-11-27 16:00")  # Friday: the desk closes at 17:00
    ticket = open_ticket("low")
    takeover = ticket_clocks(org, ticket).takeover
    assert takeover.counting == "business_hours"
    assert takeover.due_at == paris("2026-11-30 11:30")  # 1 h on Friday, 3 h on Monday morning
    clock.set("2026-11-29 12:00")  # Sunday: nothing counted since Friday 17:00
    assert ticket_clocks(org, ticket).takeover.elapsed == timedelta(hours=1)


def test_business_time_skips_public_holidays_and_closures(org):
    # Christmas Eve is a closure, Christmas Day a public holiday: Wednesday 23 → Monday 28.
    start, end = paris("2026-12-23 18:00"), paris("2026-12-28 09:30")
    assert time_on_clock(org, "business_hours", start, end) == timedelta(hours=1)
    assert add_on_clock(org, "business_hours", start, timedelta(hours=2)) == paris("2026-12-28 10:30")


def test_resolving_stops_the_resolution_clock_and_reopening_restarts_it(clock, org):
    ticket = open_ticket("medium")
    clock.advance(hours=2)
    change_status(ticket, "resolved", actor="agnes")
    clock.advance(hours=30)
    resolution = ticket_clocks(org, ticket).resolution
    assert resolution.stopped_at is not None and not resolution.breached
    change_status(ticket, "open", actor="agnes", note="le client conteste la clôture")
    assert ticket_clocks(org, ticket).resolution.breached  # 32 h on a 24 h target


def test_a_closed_ticket_stays_closed(clock, org):
    ticket = open_ticket()
    change_status(ticket, "closed", actor="agnes")
    with pytest.raises(TicketError) as refused:
        change_status(ticket, "open", actor="agnes")
    assert refused.value.field == "status"


def test_status_changes_and_notes_land_on_the_timeline(clock, org):
    ticket = open_ticket()
    change_status(ticket, "client_standby", actor="agnes", note="en attente d'un accès au site")
    add_note(ticket, "Rappelé Mme Dupont, accès demain 9 h", actor="agnes")
    kinds = [(e.kind, e.actor) for e in ticket.events]
    assert kinds == [("opened", "test"), ("status", "agnes"), ("note", "agnes")]
    assert told(ticket.events[1]) == "ouverte → attente client : en attente d'un accès au site"
    with pytest.raises(TicketError):
        add_note(ticket, "   ", actor="agnes")
    with pytest.raises(TicketError):
        change_status(ticket, "client_standby", actor="agnes")
    with pytest.raises(TicketError):
        change_status(ticket, "waiting", actor="agnes")


def test_new_tickets_take_the_next_number(clock, org):
    first, second = open_ticket(), open_ticket()
    assert int(second.number) == int(first.number) + 1
    assert int(first.number) > 104251  # after the org file's tickets


def test_a_priority_without_a_takeover_target_has_no_target_and_is_never_breached(clock, app):
    doc = read_file(ORG_FILE)
    del doc["priorities"]["low"]["takeover"]
    load(doc)
    org = current_org()
    ticket = open_ticket(priority="low")
    clock.advance(days=3)
    clocks = ticket_clocks(org, ticket)
    assert clocks.takeover is None  # was a target of 0, breached at once
    assert clocks.resolution is not None and clocks.resolution.target == timedelta(hours=48)

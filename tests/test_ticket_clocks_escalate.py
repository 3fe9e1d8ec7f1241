"""A ticket's own clocks escalate without any call: its takeover deadline missed at night pages the
on-call technician and climbs the matrix like a callout's; missed in business hours, the supervisor
hears of it; a ticket taken over and then left untouched climbs one level per quiet span (000)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from models import Callout, Channel, Person, session
from oncall.sweeper import sweep
from oncall.takeover import take_over
from oncall.ticket_changes import TicketChange, change_ticket, open_ticket
from tickets.service import find_ticket

from .oncall_helpers import ALICE, CHLOE, DAVID
from .phone import sms_to


def _open(priority: str = "high", client: str = "C1001", service: str | None = "SDSL-4471") -> str:
    return open_ticket(
        client=client, priority=priority, subject="Lien coupé", service=service, actor="portal"
    ).number


def test_a_night_ticket_nobody_took_over_pages_at_its_deadline_then_climbs(org, clock):
    start = clock.now()
    number = _open()  # high: ½ h, no page on open, nobody calls
    clock.set(start + timedelta(minutes=29))
    sweep()
    assert sms_to(ALICE) == []
    clock.set(start + timedelta(minutes=31))
    sweep()
    assert any(number in body for body in sms_to(ALICE))  # paged at the breach
    callout = session.scalar(select(Callout).where(Callout.ticket.has(number=number)))
    assert callout.origin == "breach" and callout.breached
    clock.set(start + timedelta(minutes=45))  # ½ h + 15 min: the matrix's level 1
    sweep()
    assert any(number in body for body in sms_to(CHLOE))
    texts = [e.kind for e in find_ticket(number).events]
    assert texts.count("breach") >= 1 and "callout" in texts


def test_a_ticket_missing_its_deadline_in_business_hours_texts_the_supervisor_once(org, clock):
    clock.set("2026-11-24 10:00")
    number = _open()
    clock.advance(minutes=31)
    sweep()
    sweep()
    told = [body for body in sms_to(CHLOE) if number in body]
    assert len(told) == 1 and "non prise en charge" in told[0]
    assert sms_to(ALICE) == []  # the desk is there: nobody on call is woken


def test_a_ticket_the_astreinte_does_not_take_wakes_nobody_at_night(org, clock):
    start = clock.now()
    number = _open(client="C1002", service="FIBRE-9012")  # Cabinet Moreau: no astreinte option
    clock.set(start + timedelta(hours=1))
    sweep()
    assert not any(number in body for body in sms_to(ALICE) + sms_to(CHLOE))


def test_a_taken_over_ticket_left_untouched_climbs_one_level_per_quiet_hour(org, clock):
    start = clock.now()
    number = _open(priority="urgent")  # pages on open; inactivity: 1 h
    callout = session.scalar(select(Callout).where(Callout.ticket.has(number=number)))
    assert take_over(callout, session.get(Person, "alice"), Channel.SMS).won
    clock.set(start + timedelta(minutes=59))
    sweep()
    assert not any(number in body for body in sms_to(CHLOE))
    clock.set(start + timedelta(minutes=61))
    sweep()
    sweep()
    told = [body for body in sms_to(CHLOE) if number in body]
    assert len(told) == 1 and "sans activit" in told[0]
    clock.set(start + timedelta(minutes=70))
    change_ticket(find_ticket(number), TicketChange(note="en route vers le site"), actor="alice")  # a touch
    clock.set(start + timedelta(minutes=70 + 59))
    sweep()
    assert not any(number in body for body in sms_to(DAVID))
    assert len([b for b in sms_to(CHLOE) if number in b]) == 1
    clock.set(start + timedelta(minutes=70 + 61))
    sweep()
    assert len([b for b in sms_to(CHLOE) if number in b]) == 2  # the count started again at level 1
    clock.set(start + timedelta(minutes=70 + 121))
    sweep()
    assert any(number in body for body in sms_to(DAVID))  # an escalation not cleared goes up (000)


def test_a_resolved_ticket_is_never_told_inactive(org, clock):
    start = clock.now()
    number = _open(priority="urgent")
    callout = session.scalar(select(Callout).where(Callout.ticket.has(number=number)))
    take_over(callout, session.get(Person, "alice"), Channel.SMS)
    change_ticket(
        find_ticket(number), TicketChange(status=find_ticket(number).status.RESOLVED), actor="alice"
    )
    clock.set(start + timedelta(hours=3))
    sweep()
    assert not any(number in body for body in sms_to(CHLOE))


def test_a_taken_over_ticket_flagged_major_texts_the_supervisor_without_paging_again(org, clock):
    number = _open(priority="urgent")
    callout = session.scalar(select(Callout).where(Callout.ticket.has(number=number)))
    take_over(callout, session.get(Person, "alice"), Channel.SMS)
    pages = len(sms_to(ALICE))
    clock.advance(minutes=5)
    change_ticket(find_ticket(number), TicketChange(major_incident=True), actor="api:itsm")
    told = [b for b in sms_to(CHLOE) if number in b]
    assert len(told) == 1 and told[0].startswith("Incident majeur")
    assert len(sms_to(ALICE)) == pages  # alice holds it already: no second page
    assert session.scalar(select(func.count()).select_from(Callout)) == 1
    change_ticket(find_ticket(number), TicketChange(note="point à 6 h"), actor="alice")
    assert len([b for b in sms_to(CHLOE) if number in b]) == 1  # told once per flagging


def test_a_low_ticket_missing_its_deadline_escalates_to_nobody(org, clock):
    clock.set("2026-11-24 09:00")
    number = _open(priority="low")  # 003: only medium and high escalate
    clock.set("2026-11-24 17:30")  # its 4 business hours are past
    sweep()
    assert not any(number in body for body in sms_to(CHLOE))

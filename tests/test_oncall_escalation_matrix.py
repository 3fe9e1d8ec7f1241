"""Escalation follows the seeds' matrix by priority, counted from the priority's own commitment (003): a
high ticket (½ h) reaches the supervisor 15 minutes after the missed takeover, a medium one (2 h) an
hour after its 2 hours, the manager 12 h after them, the director 24 h after them."""

from __future__ import annotations

from sqlalchemy import select

from models import Client, Service, Ticket, session
from oncall.sweeper import sweep

from .oncall_helpers import CHLOE, DAVID, leave_voicemail, refreshed
from .phone import sms_to


def _medium_ticket() -> str:
    client = session.scalar(select(Client).where(Client.account == "C1001"))
    service = session.scalar(select(Service).where(Service.ref == "SDSL-4471"))
    session.add(
        Ticket(
            number="104300",
            client_id=client.id,
            service_id=service.id,
            priority="medium",
            subject="Débit dégradé",
        )
    )
    session.commit()
    return "104300"


def _advance_to(clock, start, minutes: int) -> None:
    from datetime import timedelta

    clock.set(start + timedelta(minutes=minutes))
    sweep()


def test_a_high_ticket_reaches_the_supervisor_fifteen_minutes_after_the_breach(org, clock):
    start = clock.now()
    callout = leave_voicemail("104233")
    _advance_to(clock, start, 44)
    assert sms_to(CHLOE) == []
    _advance_to(clock, start, 45)
    assert len(sms_to(CHLOE)) == 1 and refreshed(callout).escalation_level == 1
    _advance_to(clock, start, 60)
    assert len(sms_to(DAVID)) == 1 and refreshed(callout).escalation_level == 2


def test_a_medium_ticket_escalates_from_its_two_hour_commitment(org, clock):
    start = clock.now()
    callout = leave_voicemail(_medium_ticket())
    _advance_to(clock, start, 45)
    _advance_to(clock, start, 90)  # what the 30-minute deadline + 1 h would have said: not the matrix
    assert sms_to(CHLOE) == [] and refreshed(callout).escalation_level == 0
    assert refreshed(callout).breached  # the astreinte's 30 minutes are missed all the same
    _advance_to(clock, start, 179)
    assert sms_to(CHLOE) == []
    _advance_to(clock, start, 180)  # 2 h + 1 h
    assert len(sms_to(CHLOE)) == 1 and refreshed(callout).escalation_level == 1
    _advance_to(clock, start, 14 * 60 - 1)
    assert sms_to(DAVID) == []
    _advance_to(clock, start, 14 * 60)  # 2 h + 12 h
    assert len(sms_to(DAVID)) == 1 and refreshed(callout).escalation_level == 2

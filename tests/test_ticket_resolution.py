"""A ticket the desk resolves or closes pages nobody any more."""

from __future__ import annotations

from sqlalchemy import func, select

from models import CalloutState, OutgoingMessage, Ticket, session
from oncall.callouts import set_ticket_status as change_status
from oncall.sweeper import sweep

from .factories import told
from .oncall_helpers import ALICE, leave_voicemail, refreshed


def _pages_to(number: str) -> int:
    return session.scalar(
        select(func.count())
        .select_from(OutgoingMessage)
        .where(OutgoingMessage.to_address == number, OutgoingMessage.carrier_id.is_not(None))
    )


def test_resolving_the_ticket_stops_the_paging_at_once(org, clock):
    callout = leave_voicemail("104233")
    first = _pages_to(ALICE)
    assert first >= 1  # the first page went out at once

    ticket = session.scalar(select(Ticket).where(Ticket.number == "104233"))
    change_status(ticket, "resolved", actor="agnes")

    clock.advance(minutes=6)  # the re-page to alice was due at 5 min
    sweep()
    clock.advance(minutes=40)  # backup and escalation would have run by now
    sweep()
    callout = refreshed(callout)
    assert callout.state is CalloutState.CANCELLED
    assert _pages_to(ALICE) == first
    left = OutgoingMessage.carrier_id.is_not(None)
    assert session.scalar(select(func.count()).select_from(OutgoingMessage).where(left)) == first
    assert any(e.kind == "callout" and "arrêtée" in told(e) for e in ticket.events)

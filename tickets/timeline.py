"""A ticket's timeline: every event that touched it, in order."""

from __future__ import annotations

from typing import Any

import clock
from models import Ticket, TicketEvent, session


def add_event(
    ticket: Ticket, kind: str, text: str = "", actor: str | None = None, data: dict[str, Any] | None = None
) -> TicketEvent:
    """Record one event (kinds: opened, call, voicemail, callout, page, takeover, escalation, status, note…)."""
    event = TicketEvent(ticket_id=ticket.id, at=clock.now(), kind=kind, text=text, actor=actor, data=data)
    session.add(event)
    return event

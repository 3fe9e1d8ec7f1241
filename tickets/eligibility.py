"""May this ticket reach the astreinte tonight? The rules of the seeds (003), one check each.

The caller proves who they are with the client's PIN before any of this is said aloud: `find_ticket`
(tickets/service.py) only says whether the number exists; `refusal` is asked once the PIN is right.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

import clock
from models import RefusalReason, Ticket, TicketEvent, TicketStatus, session
from org.orgfile import Org


def contested(ticket: Ticket, org: Org, now: datetime | None = None) -> bool:
    """A resolved or closed ticket the client may still contest (004: 48 h after the resolution, or
    after the notice of closure): it reaches the astreinte, and the message reopens it."""
    if ticket.status is TicketStatus.RESOLVED:
        since = ticket.resolved_at
    elif ticket.status is TicketStatus.CLOSED:
        since = closed_at(ticket) or ticket.resolved_at
    else:
        return False
    if since is None:
        return False
    return clock.as_utc(now or clock.now()) - clock.as_utc(since) <= org.contest_window


def closed_at(ticket: Ticket) -> datetime | None:
    """When the ticket was last closed (its timeline's last move to closed)."""
    moves = session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "status")
        .order_by(TicketEvent.at.desc(), TicketEvent.id.desc())
    )
    return next((e.at for e in moves if (e.data or {}).get("to") == TicketStatus.CLOSED.value), None)


def refusal(ticket: Ticket, org: Org) -> RefusalReason | None:
    """Why the astreinte cannot take this ticket, or None when it can.

    In order: a ticket still open (or resolved and still contestable); a client with the astreinte option; a service covered by the
    astreinte ("tout service non soumis à l'astreinte … sera traité en HOJO"); a priority that pages.
    """
    if not ticket.status.is_open and not contested(ticket, org):
        return RefusalReason.TICKET_CLOSED
    if not ticket.client.astreinte:
        return RefusalReason.NO_ASTREINTE_OPTION
    if ticket.service is not None and not ticket.service.astreinte:
        return RefusalReason.SERVICE_NOT_COVERED
    priority = org.priorities.get(ticket.priority)
    if priority is None or not priority.astreinte:
        return RefusalReason.PRIORITY_WAITS
    return None

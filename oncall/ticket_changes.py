"""What the desk and other tools change on a ticket (`PATCH /api/tickets/<number>`, the dashboard):
status, priority, the major-incident flag, a note. Each change reaches the timeline with who made it;
everything is checked before anything is written, so a refusal changes nothing.

What follows a change: resolved or closed stops paging at once and the client is told (with the
48 h to contest, 004); taken over stops paging too (the ticket is in someone's hands); a major incident
or a priority that pages on open, set while the astreinte runs, pages now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

import tasks
from models import Ticket, TicketEvent, TicketStatus, session
from oncall.callouts import cancel_callouts
from oncall.client_notices import TELL_CLIENT_JOB
from oncall.ticket_callouts import page_if_due
from org.load import current_org
from tickets.service import (
    STATUS_WORD,
    STATUS_WORDS,
    TicketError,
    change_priority,
    change_status,
    check_note,
    create_ticket,
    set_major_incident,
)
from tickets.timeline import add_event
from words.ui import label


def open_ticket(**fields: Any) -> Ticket:
    """Open a ticket (`tickets.service.create_ticket`'s fields) and, when it pages without a call
    tonight (a `page_on_open` priority, a major incident), page now."""
    ticket = create_ticket(**fields)
    page_if_due(ticket)
    return ticket


class TicketConflict(TicketError):
    """The change cannot apply to the ticket as it is now (a closed ticket changes no more)."""


@dataclass(frozen=True)
class TicketChange:
    status: TicketStatus | None = None
    priority: str | None = None
    major_incident: bool | None = None
    note: str | None = None

    @property
    def empty(self) -> bool:
        return self.status is None and self.priority is None and self.major_incident is None and not self.note


def read_status(value: str) -> TicketStatus:
    """A status as tools say it (open, taken_over, standby, resolved, closed) or as it is stored."""
    found = STATUS_WORDS.get(value)
    if found is None:
        try:
            found = TicketStatus(value)
        except ValueError:
            raise TicketError(
                "status", f"unknown status {value!r} (one of: {', '.join(STATUS_WORDS)})"
            ) from None
    return found


def _check(ticket: Ticket, change: TicketChange) -> None:
    if change.empty:
        raise TicketError("body", "nothing to change: give status, priority, major_incident or note")
    if ticket.status is TicketStatus.CLOSED and (
        change.status not in (None, TicketStatus.CLOSED)
        or change.priority not in (None, ticket.priority)
        or change.major_incident not in (None, ticket.major_incident)
    ):
        raise TicketConflict(
            "status", "the ticket is closed: it cannot change any more (a note may be added)"
        )
    if change.priority is not None and change.priority not in current_org().priorities:
        priorities = ", ".join(current_org().priorities)
        raise TicketError("priority", f"unknown priority {change.priority!r} (one of: {priorities})")
    if change.note is not None:
        check_note(change.note)


def change_ticket(ticket: Ticket, change: TicketChange, actor: str) -> list[str]:
    """Apply `change` made by `actor` (a person, `api:<token name>`), commit, and set what follows in
    motion. Returns the names of what changed (empty: the ticket was already so). TicketError names a
    refused field, TicketConflict a change the ticket's state refuses; nothing is written then."""
    _check(ticket, change)
    done: list[str] = []
    if change.priority is not None and change_priority(ticket, change.priority, actor):
        done.append("priority")
    flagged = change.major_incident is True and not ticket.major_incident
    if change.major_incident is not None and set_major_incident(ticket, change.major_incident, actor):
        done.append("major_incident")
    note = check_note(change.note) if change.note else ""
    new_status: TicketStatus | None = None
    if change.status is not None and change.status is not ticket.status:
        new_status = change_status(ticket, change.status, actor, note, commit=False)
        done.append("status")
    elif note:
        add_event(ticket, "note", note, actor=actor)
        done.append("note")
    session.commit()
    if new_status is not None and new_status is not TicketStatus.CLIENT_STANDBY and not new_status.is_open:
        cancel_callouts(
            ticket.id, reason=f"requête {label('status', new_status.value)}", actor=actor, status=new_status
        )
        status_event = _last_status_event(ticket)
        if status_event is not None:
            tasks.enqueue(TELL_CLIENT_JOB, ticket.id, status_event)
    elif new_status is TicketStatus.IN_PROGRESS:
        cancel_callouts(ticket.id, reason="requête prise en charge", actor=actor, status=new_status)
    if ticket.status.is_open and (flagged or "priority" in done):
        page_if_due(ticket)
    return done


def _last_status_event(ticket: Ticket) -> int | None:
    return session.scalar(
        select(TicketEvent.id)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "status")
        .order_by(TicketEvent.id.desc())
        .limit(1)
    )


def status_word(ticket: Ticket) -> str:
    """The ticket's status as tools say it."""
    return STATUS_WORD[ticket.status]

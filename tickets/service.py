"""What agents and the API do to tickets: open one, change its status (client standby pauses the
SLA clocks), add a note. Every change lands on the ticket's timeline."""

from __future__ import annotations

from sqlalchemy import Integer, bindparam, cast, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

import clock
from models import Client, Service, Ticket, TicketStatus, session
from org.load import current_org
from tickets.timeline import add_event

FIRST_NUMBER = 100001
SUBJECT_MAX = 300
NOTE_MAX = 5000
NUMBER_DIGITS = (4, 12)  # what a caller can key (the IVR takes 4 to 12 digits)

# The statuses as the API and other tools say them (DESIGN: contract), and as they are stored.
STATUS_WORDS: dict[str, TicketStatus] = {
    "open": TicketStatus.OPEN,
    "taken_over": TicketStatus.IN_PROGRESS,
    "standby": TicketStatus.CLIENT_STANDBY,
    "resolved": TicketStatus.RESOLVED,
    "closed": TicketStatus.CLOSED,
}
STATUS_WORD = {status: word for word, status in STATUS_WORDS.items()}


class TicketError(ValueError):
    """Refused input, naming the field at fault (`priority`, `status`, …)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class DuplicateTicket(TicketError):
    """A ticket with this number exists already (an external tool opened it twice)."""


# The ticket with its client, in one statement (the IVR reads both), built once.
_TICKET_BY_NUMBER = (
    select(Ticket)
    .where(Ticket.number == bindparam("number"))
    .options(joinedload(Ticket.client, innerjoin=True))
)


def find_ticket(number: str) -> Ticket | None:
    """The ticket with this number (digits; spaces around are ignored), or None."""
    number = number.strip()
    if not (number.isascii() and number.isdigit()):
        return None
    return session.scalar(_TICKET_BY_NUMBER, {"number": number})


def _next_number() -> str:
    highest = session.scalar(select(func.max(cast(Ticket.number, Integer))))
    return str(max(FIRST_NUMBER, (highest or 0) + 1))


def create_ticket(
    *,
    client: str,
    priority: str,
    subject: str,
    service: str | None = None,
    description: str | None = None,
    actor: str | None = None,
    major_incident: bool = False,
    number: str | None = None,
) -> Ticket:
    """Open a ticket for the client `client` (account) and commit it; TicketError names a bad field.

    `number`: the number an external ticketing tool gave it (DuplicateTicket when it is taken);
    otherwise the next free one."""
    if number is not None:
        number = number.strip()
        low, high = NUMBER_DIGITS
        if not (number.isascii() and number.isdigit() and low <= len(number) <= high):
            raise TicketError("number", f"{low} to {high} digits (what a caller can key)")
        if find_ticket(number) is not None:
            raise DuplicateTicket("number", f"ticket {number} exists already")
    row = session.scalar(select(Client).where(Client.account == client))
    if row is None:
        raise TicketError("client", f"unknown client account {client!r}")
    service_row = None
    if service:
        service_row = session.scalar(select(Service).where(Service.ref == service))
        if service_row is None or service_row.client_id != row.id:
            raise TicketError("service", f"{service!r} is not a service of client {client!r}")
    priorities = current_org().priorities
    if priority not in priorities:
        raise TicketError("priority", f"unknown priority {priority!r} (one of: {', '.join(priorities)})")
    subject = subject.strip()
    if not subject:
        raise TicketError("subject", "must not be empty")
    if len(subject) > SUBJECT_MAX:
        raise TicketError("subject", f"at most {SUBJECT_MAX} characters")
    for attempt in range(5):
        ticket = Ticket(
            number=number or _next_number(),
            client_id=row.id,
            service_id=service_row.id if service_row else None,
            priority=priority,
            subject=subject,
            description=(description or "").strip() or None,
            status=TicketStatus.OPEN,
            opened_at=clock.now(),
            major_incident=major_incident,
        )
        session.add(ticket)
        try:
            session.flush()
        except IntegrityError:  # two tickets opened at the same instant took the same number
            session.rollback()
            if number is not None:
                raise DuplicateTicket("number", f"ticket {number} exists already") from None
            if attempt == 4:
                raise
            continue
        add_event(ticket, "opened", subject, actor=actor)
        session.commit()
        return ticket
    raise AssertionError("unreachable")


def reopen_contested(ticket: Ticket, actor: str) -> None:
    """The client contests a resolution or a closure (a message on a resolved or closed ticket, 004):
    the ticket reopens, and its timeline says why."""
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        return
    resolved_at = ticket.resolved_at
    change_status(
        ticket,
        TicketStatus.OPEN,
        actor,
        note="résolution contestée par le client",
        commit=False,
        contest=True,
    )
    add_event(
        ticket,
        "contest",
        actor=actor,
        data={"resolved_at": resolved_at.isoformat() if resolved_at else None, "by": actor},
    )


def change_status(
    ticket: Ticket,
    status: str | TicketStatus,
    actor: str,
    note: str = "",
    commit: bool = True,
    contest: bool = False,
) -> TicketStatus:
    """Move a ticket to `status` and commit (unless the caller has more to write in the same
    transaction). Client standby stops the SLA clocks until it ends. Returns the new status.

    A closed ticket stays closed, unless the client contests the closure (`contest`, within 48 h: 004);
    a resolved one may be reopened.
    """
    try:
        new = TicketStatus(status)
    except ValueError:
        raise TicketError(
            "status", f"unknown status {status!r} (one of: {', '.join(s.value for s in TicketStatus)})"
        ) from None
    old = ticket.status
    if new is old:
        raise TicketError("status", f"the ticket is already {new.value}")
    if old is TicketStatus.CLOSED and not contest:
        raise TicketError("status", "a closed ticket cannot change any more")
    now = clock.now()
    if old is TicketStatus.CLIENT_STANDBY and ticket.standby_since is not None:
        ticket.standby_seconds = (ticket.standby_seconds or 0) + int(
            (now - ticket.standby_since).total_seconds()
        )
        ticket.standby_since = None
    if new is TicketStatus.CLIENT_STANDBY:
        ticket.standby_since = now
    if new is TicketStatus.IN_PROGRESS and ticket.taken_over_at is None:
        ticket.taken_over_at = now
    if new in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        ticket.resolved_at = ticket.resolved_at or now
    elif old in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        ticket.resolved_at = None  # reopened: the resolution clock runs again
    ticket.status = new
    facts = {"from": old.value, "to": new.value, "note": note.strip()[:NOTE_MAX] or None}
    add_event(ticket, "status", actor=actor, data=facts)
    if commit:
        session.commit()
    return new


def change_priority(ticket: Ticket, priority: str, actor: str) -> bool:
    """Give the ticket another priority of the organisation file (not committed). False: no change."""
    priorities = current_org().priorities
    if priority not in priorities:
        raise TicketError("priority", f"unknown priority {priority!r} (one of: {', '.join(priorities)})")
    if priority == ticket.priority:
        return False
    add_event(ticket, "priority", actor=actor, data={"from": ticket.priority, "to": priority})
    ticket.priority = priority
    return True


def set_major_incident(ticket: Ticket, major: bool, actor: str) -> bool:
    """Flag the ticket as a major incident, or lift the flag (not committed). False: no change."""
    if ticket.major_incident is major:
        return False
    add_event(ticket, "major_incident", actor=actor, data={"on": major})
    ticket.major_incident = major
    return True


def check_note(text: str) -> str:
    """A note as it will be kept; TicketError when it is empty or too long."""
    text = text.strip()
    if not text:
        raise TicketError("note", "must not be empty")
    if len(text) > NOTE_MAX:
        raise TicketError("note", f"at most {NOTE_MAX} characters")
    return text


def add_note(ticket: Ticket, text: str, actor: str) -> None:
    """A free note on the timeline, committed."""
    text = check_note(text)
    add_event(ticket, "note", text, actor=actor)
    ticket.updated_at = clock.now()
    session.commit()

"""Taking over a callout: one conditional UPDATE decides, so of two people pressing 1 at once exactly
one wins and the other is told who did. Also what a technician's SMS reply means.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update

import clock
import tasks
from models import (
    Callout,
    CalloutState,
    Channel,
    MessageState,
    Page,
    Person,
    Ticket,
    TicketStatus,
    changed,
    session,
)
from oncall.paging import waiting_for
from oncall.rota import who_is_on_call
from oncall.voicemails import notify_caller, receipt_number
from org.load import current_org
from tickets.timeline import add_event
from words.catalogue import text

log = logging.getLogger(__name__)

_REPLY = re.compile(r"^\s*ok(?![a-z])[\s:.,#-]*(\d[\d ]*)?\s*[.!]*\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Takeover:
    """The outcome of a takeover attempt: `won`, or who holds the callout (and since when)."""

    won: bool
    callout: Callout
    by: Person | None
    at: datetime | None

    @property
    def state(self) -> CalloutState:
        return self.callout.state


def first_name(person: Person | None) -> str:
    return person.first_name if person else "?"


def take_over(callout: Callout, person: Person, via: Channel) -> Takeover:
    """`person` takes over `callout` now, unless someone already did (or it was cancelled)."""
    now = clock.now()
    won = (
        changed(
            update(Callout)
            .where(Callout.id == callout.id, Callout.state == CalloutState.PAGING)
            .values(_taken(person, via, now))
            .execution_options(synchronize_session=False)
        )
        == 1
    )
    if not won:
        session.rollback()
        current = session.get(Callout, callout.id, populate_existing=True)
        assert current is not None
        return Takeover(False, current, current.taker, current.taken_over_at)
    siblings = _with_the_ticket(callout, person, via, now)
    session.execute(
        update(Page)
        .where(Page.callout_id.in_([callout.id, *siblings]), Page.status == MessageState.PENDING.value)
        .values(status=MessageState.CANCELLED.value)
        .execution_options(synchronize_session=False)
    )
    session.refresh(callout)
    ticket = callout.ticket
    if ticket.taken_over_at is None:
        ticket.taken_over_at = now
    if ticket.status is TicketStatus.OPEN:
        ticket.status = TicketStatus.IN_PROGRESS
    add_event(
        ticket,
        "takeover",
        actor=person.name,
        data={
            "callout": callout.id,
            "person": person.id,
            "name": person.name,
            "via": via.value,
            "seconds": int((now - callout.opened_at).total_seconds()),
            "breached": callout.breached,
            **({"with": siblings} if siblings else {}),
        },
    )
    session.commit()
    log.info("callout %s taken over by %s via %s", callout.id, person.id, via.value)
    for callout_id in _callers_to_tell(callout, siblings):
        tasks.enqueue(notify_caller, callout_id)
    return Takeover(True, callout, person, now)


def _taken(person: Person, via: Channel, now: datetime) -> dict[str, object]:
    """The columns of a callout taken over by `person`."""
    return {
        "state": CalloutState.TAKEN_OVER,
        "taken_over_at": now,
        "taken_over_by": person.id,
        "taken_over_via": via,
        "next_action_at": None,
    }


def _with_the_ticket(callout: Callout, person: Person, via: Channel, now: datetime) -> list[int]:
    """The ticket's other messages still paging (a caller who rang twice, two contacts of one client)
    are taken over with it: one takeover per ticket, so nobody is paged again for a ticket in hand.
    Each keeps its own deadline, and whether it was breached."""
    siblings = list(
        session.scalars(
            select(Callout.id).where(
                Callout.ticket_id == callout.ticket_id,
                Callout.id != callout.id,
                Callout.state == CalloutState.PAGING,
            )
        )
    )
    if not siblings:
        return []
    taken = session.execute(
        update(Callout)
        .where(Callout.id.in_(siblings), Callout.state == CalloutState.PAGING)
        .values(_taken(person, via, now))
        .returning(Callout.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(taken.scalars())


def _callers_to_tell(callout: Callout, siblings: list[int]) -> list[int]:
    """The callouts whose caller gets the takeover SMS: one per number (a caller who rang twice gets one)."""
    told: set[str | None] = set()
    chosen = []
    for row in [callout, *(session.get(Callout, i) for i in siblings)]:
        if row is None or row.voicemail is None:
            continue
        number = receipt_number(row.voicemail.call)
        if number not in told:
            told.add(number)
            chosen.append(row.id)
    return chosen


def person_by_phone(number: str) -> Person | None:
    return session.scalar(select(Person).where(Person.phone == number, Person.active.is_(True)))


@dataclass(frozen=True)
class Reply:
    """What a technician's SMS asked for, and what came of it.

    kind: taken (takeover won), yours (they had taken it over already), already (someone else holds
    it), no_callout (no alert on that ticket), not_paged (an alert that did not page them), nothing_waiting, several (OK alone, more than one
    waiting), help (not understood).
    """

    kind: str
    takeover: Takeover | None = None
    ticket: str | None = None
    waiting: list[Callout] = field(default_factory=list)


def answer_sms(person: Person, body: str) -> Reply:
    """`OK 104233` takes over that ticket's alert; `OK` alone the one alert waiting for `person`."""
    match = _REPLY.match(body or "")
    if not match:
        return Reply("help")
    number = (match.group(1) or "").replace(" ", "")  # "OK 104 233", as the call spells it
    if not number:
        waiting = waiting_for(person.id)
        if not waiting:
            return Reply("nothing_waiting")
        by_ticket = {c.ticket_id: c for c in reversed(waiting)}  # a ticket's messages are one alert
        if len(by_ticket) > 1:
            return Reply("several", waiting=sorted(by_ticket.values(), key=lambda c: (c.opened_at, c.id)))
        return _outcome(take_over(waiting[0], person, Channel.SMS), person)
    callout = session.scalar(
        select(Callout)
        .join(Ticket, Callout.ticket_id == Ticket.id)
        .where(Ticket.number == number)
        .order_by((Callout.state == CalloutState.PAGING).desc(), Callout.opened_at.desc())
        .limit(1)
    )
    if callout is None or callout.state is CalloutState.CANCELLED:
        return Reply("no_callout", ticket=number)
    if callout.state is CalloutState.PAGING and not _was_paged(person, callout):
        # An SMS from a colleague's phone (or a spoofed sender) takes over only what it was paged
        # for; the dashboard's button stays open to anyone logged in.
        return Reply("not_paged", ticket=number)
    return _outcome(take_over(callout, person, Channel.SMS), person)


def _was_paged(person: Person, callout: Callout) -> bool:
    """Whether `person` has a page (sent or to send) for an alert on the callout's ticket, or holds
    a position on call now (the policy pages them: an SMS may come before the first page)."""
    on_call = who_is_on_call(current_org(), clock.now())
    if person.id in (on_call.primary, on_call.backup):
        return True
    paged = (
        select(Page.id)
        .join(Callout, Page.callout_id == Callout.id)
        .where(Callout.ticket_id == callout.ticket_id, Page.person_id == person.id)
        .limit(1)
    )
    return session.scalar(paged) is not None


def _outcome(result: Takeover, person: Person) -> Reply:
    if result.won:
        return Reply("taken", result, result.callout.ticket.number)
    if result.by is not None and result.by.id == person.id:
        return Reply("yours", result, result.callout.ticket.number)
    if result.state is CalloutState.CANCELLED:
        return Reply("no_callout", result, result.callout.ticket.number)
    return Reply("already", result, result.callout.ticket.number)


def reply_text(reply: Reply, person: Person) -> str:
    """What the technician reads back after an SMS reply, whichever carrier brought it."""
    lang = person.language
    tz = current_org().timezone
    if reply.kind == "taken" and reply.takeover and reply.takeover.at:
        callout = reply.takeover.callout
        return text(
            "sms_taken",
            lang,
            ticket=reply.ticket,
            time=f"{reply.takeover.at.astimezone(tz):%H:%M}",
            callback=text("sms_taken_callback", lang) if callout.callback_number else "",
        )
    if reply.kind == "yours" and reply.takeover and reply.takeover.at:
        return text("sms_yours", lang, ticket=reply.ticket, time=f"{reply.takeover.at.astimezone(tz):%H:%M}")
    if reply.kind == "already" and reply.takeover and reply.takeover.at:
        return text(
            "sms_already",
            lang,
            ticket=reply.ticket,
            name=first_name(reply.takeover.by),
            time=f"{reply.takeover.at.astimezone(tz):%H:%M}",
        )
    if reply.kind in ("no_callout", "already"):
        return text("sms_no_callout", lang, ticket=reply.ticket)
    if reply.kind == "not_paged":
        return text("sms_not_paged", lang, ticket=reply.ticket)
    if reply.kind == "nothing_waiting":
        return text("sms_nothing_waiting", lang)
    if reply.kind == "several":
        return text("sms_several", lang, tickets=", ".join(c.ticket.number for c in reply.waiting))
    waiting = waiting_for(person.id)
    return text("sms_help", lang, example=waiting[0].ticket.number if waiting else "104233")

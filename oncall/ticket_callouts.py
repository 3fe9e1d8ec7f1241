"""Callouts a ticket opens by itself, with no call behind them: a ticket of a priority that says
`page_on_open`, or a major incident, opened or flagged while the astreinte runs (001: a major incident
is escalated at once); and a ticket whose own takeover clock breached with nobody (003: every missed
commitment escalates). They page through the same policy as a caller's message.

Also here: the inactivity trigger (000: "no activity can be seen for the ticket" escalates), a
taken-over ticket nobody touches for its priority's `inactivity`, climbing one level per quiet span.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

import clock
import tasks
from models import Callout, CalloutState, Ticket, TicketEvent, TicketStatus, session
from oncall import policy
from oncall.callouts import start_paging
from oncall.sending import text_once, told
from org.hours import is_business_hours
from org.load import current_org
from org.orgfile import ROLES, Org
from tickets.eligibility import refusal
from tickets.sla import ticket_clocks
from tickets.timeline import add_event
from words.catalogue import text
from words.pages import gsm7

log = logging.getLogger(__name__)

# Origins of a callout (`Callout.origin`): a caller's message, or the ticket itself.
VOICEMAIL, PAGE_ON_OPEN, MAJOR_INCIDENT, BREACH = "voicemail", "page_on_open", "major_incident", "breach"

TELL_MAJOR_INCIDENT_JOB = "tell_major_incident"
BREACH_LOOKBACK = timedelta(days=3)  # older tickets are the desk's business: never paged on a deploy
TOUCHES = ("opened", "status", "note", "takeover", "priority", "major_incident", "contest", "voicemail")


def astreinte_runs(org: Org, now: datetime) -> bool:
    """The astreinte answers outside business hours (HOJO)."""
    return not is_business_hours(org, now)


def pages_without_a_call(org: Org, ticket: Ticket) -> str | None:
    """Why this ticket pages tonight without a call (an origin), or None. A major incident always
    does; a `page_on_open` priority does when the astreinte may take the ticket (client option,
    service covered). A ticket someone holds already (taken over, client standby) pages nobody."""
    if ticket.status is not TicketStatus.OPEN:
        return None
    if ticket.major_incident:
        return MAJOR_INCIDENT
    priority = org.priorities.get(ticket.priority)
    if priority is not None and priority.page_on_open and refusal(ticket, org) is None:
        return PAGE_ON_OPEN
    return None


def paging_callout(ticket: Ticket) -> Callout | None:
    return session.scalar(
        select(Callout)
        .where(Callout.ticket_id == ticket.id, Callout.state == CalloutState.PAGING)
        .order_by(Callout.opened_at)
        .limit(1)
    )


def open_ticket_callout(org: Org, ticket: Ticket, origin: str, due_at: datetime | None = None) -> Callout:
    """A callout with no voicemail, opened now, due at now + the astreinte's takeover (or `due_at`).
    Not committed; `start_paging` after the commit. A major incident also pages the first escalation
    role at once."""
    now = clock.now()
    callout = Callout(
        ticket_id=ticket.id,
        voicemail_id=None,
        origin=origin,
        state=CalloutState.PAGING,
        opened_at=now,
        due_at=due_at or now + org.takeover,
        next_step=0,
        next_action_at=now + org.policy[0].after,
    )
    session.add(callout)
    session.flush()
    if ticket.major_incident and policy.first_escalation_step(org) is not None:
        add_event(
            ticket,
            "escalation_request",
            data={"callout": callout.id, "by": None, "major_incident": True},
        )
    add_event(
        ticket,
        "callout",
        data={"callout": callout.id, "due": callout.due_at.isoformat(), "origin": origin},
    )
    return callout


def page_if_due(ticket: Ticket) -> Callout | None:
    """After a ticket was opened or changed (committed): if it pages without a call tonight and
    nothing pages for it yet, open its callout and page now. Returns the callout opened."""
    org = current_org()
    now = clock.now()
    if not astreinte_runs(org, now):
        return None
    if ticket.major_incident and ticket.status is TicketStatus.IN_PROGRESS:
        # someone is on it: the persons in charge are told (001), by the worker, not the request
        tasks.enqueue(TELL_MAJOR_INCIDENT_JOB, ticket.id)
        return None
    origin = pages_without_a_call(org, ticket)
    if origin is None:
        return None
    if (running := paging_callout(ticket)) is not None:
        if ticket.major_incident and running.escalation_level == 0:  # flagged while it pages: escalate now
            add_event(
                ticket,
                "escalation_request",
                data={"callout": running.id, "by": None, "major_incident": True},
            )
            session.commit()
            start_paging(running.id)
        return None
    callout = open_ticket_callout(org, ticket, origin)
    session.commit()
    start_paging(callout.id)
    return callout


@tasks.job(TELL_MAJOR_INCIDENT_JOB)
def tell_major_incident(ticket_id: int) -> None:
    """A ticket already taken over becomes a major incident: the first escalation level is texted,
    once per flagging (nothing when it is no longer a major incident in progress)."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not ticket.major_incident or ticket.status is not TicketStatus.IN_PROGRESS:
        return
    org = current_org()
    flagged = [e for e in ticket.events if e.kind == "major_incident" and (e.data or {}).get("on")]
    told = _told(ticket.id, "escalation", "major_incident")
    if flagged and told and clock.as_utc(told[-1].at) >= clock.as_utc(flagged[-1].at):
        return
    _text_role(org, ticket, 1, "major_incident")
    session.commit()


# --- a ticket's own takeover clock ----------------------------------------------------------------


def _told(ticket_id: int, kind: str, clock_name: str) -> list[TicketEvent]:
    return [
        e
        for e in session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == kind)
            .order_by(TicketEvent.at, TicketEvent.id)
        )
        if (e.data or {}).get("clock") == clock_name
    ]


def note_ticket_breaches(now: datetime) -> int:
    """Open tickets nobody took over whose takeover clock breached, with no callout of a caller's
    message: noted once on the timeline; while the astreinte runs, an eligible ticket opens a callout
    already due (so the policy's escalation roles follow the priority's matrix at once); in business
    hours the supervisor is texted (level 1). A ticket the astreinte does not take waits for the
    desk's hours. Returns how many breaches were noted."""
    org = current_org()
    # 003: only the priorities with an escalation matrix escalate (a low ticket waits for the desk)
    escalating = {
        k: p for k, p in org.priorities.items() if p.takeover is not None and p.escalate_after_breach
    }
    if not escalating:
        return 0
    targets = [p.takeover for p in escalating.values() if p.takeover is not None]
    candidates = session.scalars(
        select(Ticket).where(
            Ticket.status == TicketStatus.OPEN,
            Ticket.priority.in_(list(escalating)),
            Ticket.taken_over_at.is_(None),
            Ticket.opened_at <= now - min(targets),
            Ticket.opened_at >= now - BREACH_LOOKBACK,
            ~select(Callout.id).where(Callout.ticket_id == Ticket.id).exists(),
        )
    ).all()
    noted = 0
    for ticket in candidates:
        clocks = ticket_clocks(org, ticket, now)
        takeover = clocks.takeover if clocks else None
        if takeover is None or not takeover.breached or _told(ticket.id, "breach", "ticket_takeover"):
            continue
        at_night = astreinte_runs(org, now)
        if at_night and refusal(ticket, org) is not None:
            continue  # not the astreinte's: the desk's morning will see it, nobody is woken for it
        noted += 1
        minutes = int(takeover.target.total_seconds() // 60)
        add_event(ticket, "breach", data={"clock": "ticket_takeover", "minutes": minutes})
        if at_night:
            breached_at = now - (takeover.elapsed - takeover.target)
            callout = open_ticket_callout(org, ticket, BREACH, due_at=breached_at)
            session.commit()
            start_paging(callout.id)
        else:
            _text_role(org, ticket, 1, "ticket_takeover")
            session.commit()
    return noted


# --- inactivity -----------------------------------------------------------------------------------


def note_inactive_tickets(now: datetime) -> int:
    """Taken-over tickets nobody touched (status, note, takeover…) for their priority's `inactivity`:
    the supervisor is texted, then the manager and the director after each further quiet span (000:
    an escalation not cleared goes to the next level). A touch starts the count again. Returns how
    many levels were told."""
    org = current_org()
    spans = {key: p.inactivity for key, p in org.priorities.items() if p.inactivity is not None}
    if not spans:
        return 0
    tickets = session.scalars(
        select(Ticket).where(
            Ticket.status == TicketStatus.IN_PROGRESS,
            Ticket.priority.in_(list(spans)),
            Ticket.updated_at <= now - min(spans.values()),
            # past the last level's span nothing is left to tell: old quiet tickets are not read each sweep
            Ticket.updated_at >= now - max(spans.values()) * (len(ROLES) + 1),
        )
    ).all()
    told = 0
    for ticket in tickets:
        span = spans[ticket.priority]
        events = list(
            session.scalars(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket.id)
                .order_by(TicketEvent.at, TicketEvent.id)
            )
        )
        touches = [clock.as_utc(e.at) for e in events if e.kind in TOUCHES]
        if not touches:
            continue
        last = max(touches)
        levels = [
            e
            for e in events
            if e.kind == "escalation"
            and (e.data or {}).get("clock") == "inactivity"
            and clock.as_utc(e.at) >= last
        ]
        level = len(levels) + 1
        if level > len(ROLES) or now < last + span * level:
            continue
        _text_role(org, ticket, level, "inactivity", hours=span.total_seconds() / 3600)
        session.commit()
        told += 1
    return told


def _text_role(org: Org, ticket: Ticket, level: int, clock_name: str, **facts: object) -> None:
    """Text the holder of escalation level `level` about `ticket`; the timeline says what came of it."""
    role = ROLES[level - 1]
    person = policy.role_holder(org, role)
    if person is None:
        log.error("escalation of ticket %s: nobody holds the role %s", ticket.number, role)
        return
    key = {"inactivity": "sms_inactivity", "major_incident": "sms_major_incident"}.get(
        clock_name, "sms_ticket_breach"
    )
    body = gsm7(
        text(
            key,
            person.language or "fr",
            ticket=ticket.number,
            client=ticket.client.name,
            subject=ticket.subject[:60],
            hours=int(float(str(facts.get("hours", 0)))),
        )
    )
    data: dict[str, object] = {
        "level": level,
        "person": person.id,
        "name": person.name,
        "clock": clock_name,
        **facts,
    }
    event = add_event(ticket, "escalation", data=data)
    session.flush()
    sent = text_once("escalation", person.phone, body, f"escalation:{event.id}", person.id)
    event.data = {**data, **told(sent)}

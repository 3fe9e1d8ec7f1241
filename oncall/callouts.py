"""Callouts: the promise that someone takes over a voicemail within the takeover delay.

A callout is opened once per message, stopped by a takeover or by the desk, and marked breached once
when its deadline passes with nobody. Its policy steps are run by `oncall/steps.py`, fired from
`next_action_at` by the job `run_due_steps` (the scheduler, the sweeper and a retry may all fire it:
each step is claimed with a conditional UPDATE, so it runs once).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Select, select, update

import clock
import tasks
from models import (
    Callout,
    CalloutState,
    MessageState,
    Page,
    Person,
    Ticket,
    TicketEvent,
    TicketStatus,
    Voicemail,
    changed,
    session,
)
from oncall import policy
from oncall.links import absolute_url
from oncall.sending import text_once, told
from org.load import current_org
from org.orgfile import ROLES, Org
from tickets.calls import recall
from tickets.service import change_status, reopen_contested
from tickets.sla import ticket_clocks
from tickets.timeline import add_event
from words.catalogue import text
from words.pages import gsm7
from words.ui import label

log = logging.getLogger(__name__)

RUN_STEPS_JOB = "run_due_steps"  # registered by oncall/steps.py
CALLER_BREACH_JOB = "notify_caller_breach"  # registered by oncall/voicemails.py
ESCALATE_NOW_JOB = "escalate_now"  # registered by oncall/steps.py


def open_callout(voicemail: Voicemail) -> Callout:
    """Open the callout of an eligible voicemail (once: Twilio retries), due at message + takeover.

    The caller commits; the first policy step is enqueued after the commit by `start_paging`.
    """
    existing = session.scalar(select(Callout).where(Callout.voicemail_id == voicemail.id))
    if existing is not None:
        return existing
    org = current_org()
    assert voicemail.ticket is not None
    if voicemail.ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):  # contested (004)
        reopen_contested(voicemail.ticket, actor=voicemail.call.from_number)
    opened = voicemail.recorded_at or clock.now()
    callout = Callout(
        ticket_id=voicemail.ticket.id,
        voicemail_id=voicemail.id,
        state=CalloutState.PAGING,
        opened_at=opened,
        due_at=opened + org.takeover,
        next_step=0,
        next_action_at=opened + org.policy[0].after,
    )
    session.add(callout)
    session.flush()
    if _escalation_asked(voicemail):
        asked = recall(voicemail.call, "escalate")  # else a major incident: nobody asked
        _escalate_at_once(org, callout, voicemail.call.from_number if asked else None)
    add_event(
        voicemail.ticket,
        "callout",
        data={"callout": callout.id, "due": callout.due_at.isoformat()},
    )
    return callout


def _escalation_asked(voicemail: Voicemail) -> bool:
    """The client asked for it (000/001: key 3 on a ticket taken over), or the ticket is a major
    incident (001): the first escalation role is paged at once."""
    ticket = voicemail.ticket
    return bool(recall(voicemail.call, "escalate")) or (ticket is not None and ticket.major_incident)


def _escalate_at_once(org: Org, callout: Callout, actor: str | None) -> None:
    """Noted on the timeline; `start_paging` has the first escalation role paged at once, beside the
    policy's own steps (the on-call technician is paged as usual)."""
    if policy.first_escalation_step(org) is None:
        return
    add_event(
        callout.ticket,
        "escalation_request",
        actor=actor,
        data={"callout": callout.id, "by": actor, "major_incident": actor is None},
    )


def start_paging(callout_id: int) -> None:
    """Hand the first step to the worker (after the webhook committed the callout), and the first
    escalation role too when the client asked for escalation or the ticket is a major incident."""
    tasks.enqueue(RUN_STEPS_JOB, callout_id)
    callout = session.get(Callout, callout_id)  # the rows of the webhook that opened it: no query
    if callout is None:
        return
    if callout.voicemail is None:  # a ticket's own callout: its opening noted any escalation asked
        asked = any(
            (e.data or {}).get("callout") == callout_id
            for e in session.scalars(
                select(TicketEvent).where(
                    TicketEvent.ticket_id == callout.ticket_id, TicketEvent.kind == "escalation_request"
                )
            )
        )
    else:
        asked = (
            _escalation_asked(callout.voicemail) and policy.first_escalation_step(current_org()) is not None
        )
    if asked:
        tasks.enqueue(ESCALATE_NOW_JOB, callout_id)


def last_taken_over(ticket: Ticket) -> Callout | None:
    """The latest callout of this ticket someone took over (the caller may ask for escalation)."""
    return session.scalar(
        select(Callout)
        .where(Callout.ticket_id == ticket.id, Callout.state == CalloutState.TAKEN_OVER)
        .order_by(Callout.taken_over_at.desc())
        .limit(1)
    )


def has_declined(callout_id: int, person_id: str) -> bool:
    return (
        session.scalar(
            select(Page.id)
            .where(Page.callout_id == callout_id, Page.person_id == person_id, Page.status == Page.DECLINED)
            .limit(1)
        )
        is not None
    )


def run_next_step_now(callout_id: int, after_step: int | None = None) -> bool:
    """Bring the next step forward to now (a decline, every channel failed). False when none is left."""
    now = clock.now()
    conditions = [
        Callout.id == callout_id,
        Callout.state == CalloutState.PAGING,
        Callout.next_action_at.is_not(None),
    ]
    if after_step is not None:
        conditions.append(Callout.next_step == after_step + 1)
    moved = changed(
        update(Callout)
        .where(*conditions)
        .values(next_action_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if moved != 1:
        return False
    tasks.enqueue(RUN_STEPS_JOB, callout_id)
    return True


def decline(callout: Callout, person: Person, pages: list[Page]) -> None:
    """`person` declined in a page call (9): noted on the pages and the timeline; the next step runs now.
    Once: a 9 replayed (Twilio's retry, a forged replay of the signed request) moves nothing, since the
    conditional UPDATE of the pages lets one decline through."""
    ids = [page.id for page in pages if page.callout_id == callout.id]
    won = changed(
        update(Page)
        .where(Page.id.in_(ids), Page.status != Page.DECLINED)
        .values(status=Page.DECLINED)
        .execution_options(synchronize_session=False)
    )
    if not won:
        session.rollback()
        return
    for page in pages:
        if page.id in ids:
            page.status = Page.DECLINED
    add_event(
        callout.ticket,
        "decline",
        actor=person.name,
        data={"callout": callout.id, "person": person.id, "name": person.name},
    )
    session.commit()
    if callout.state is CalloutState.PAGING:
        run_next_step_now(callout.id)


def note_breaches(now: datetime) -> int:
    """Callouts whose deadline passed with nobody: marked once, on the timeline. Returns how many."""
    due = session.scalars(
        select(Callout).where(
            Callout.state == CalloutState.PAGING, Callout.breached_at.is_(None), Callout.due_at <= now
        )
    ).all()
    told: list[int] = []
    for callout in due:
        marked = changed(
            update(Callout)
            .where(Callout.id == callout.id, Callout.breached_at.is_(None))
            .values(breached_at=callout.due_at)
            .execution_options(synchronize_session=False)
        )
        if marked == 1:
            minutes = int((callout.due_at - callout.opened_at).total_seconds() // 60)
            add_event(
                callout.ticket,
                "breach",
                data={"callout": callout.id, "clock": "takeover", "minutes": minutes},
            )
            told.append(callout.id)
    session.commit()
    for callout_id in told:  # the caller hears of it too: the case is escalated
        tasks.enqueue(CALLER_BREACH_JOB, callout_id)
    note_missed_resolutions(now)
    session.expire_all()
    return len(due)


def note_missed_resolutions(now: datetime) -> int:
    """Every missed commitment escalates (003), the resolution target too: once per ticket a timeline
    entry, then an SMS to each escalation level in turn. Level 1 (the supervisor) at the breach, levels 2
    and 3 when the priority's `escalate_after_breach` delays have passed with the ticket still open (the
    seeds' matrix). A level whose SMS failed is tried again by the outbox. Returns the breaches
    noted."""
    org = current_org()
    targets = [p.resolution for p in org.priorities.values() if p.resolution is not None]
    if not targets:
        return 0
    old_enough = (
        Ticket.status.in_([s for s in TicketStatus if s.is_open]),
        Ticket.opened_at <= now - min(targets),  # a clock never runs faster than the wall clock
    )
    candidates = session.scalars(select(Ticket).where(*old_enough)).all()
    marks = _resolution_marks(select(Ticket.id).where(*old_enough))
    noted = 0
    for ticket in candidates:
        mine = marks.get(ticket.id, [])
        breach = next((e for e in mine if e.kind == "breach"), None)
        if breach is None:
            priority = org.priorities.get(ticket.priority)
            if (
                priority is None
                or priority.resolution is None
                or now - ticket.opened_at <= priority.resolution
            ):
                continue  # no target, or not reached yet even on the wall clock: no clock to count
            clocks = ticket_clocks(org, ticket, now)
            resolution = clocks.resolution if clocks else None
            if resolution is None or not resolution.breached:
                continue
            noted += 1
            breach = add_event(
                ticket,
                "breach",
                data={"clock": "resolution", "target_hours": resolution.target.total_seconds() / 3600},
            )
        levels = _resolution_levels_due(org, ticket, mine, clock.as_utc(breach.at), now)
        for level in levels:
            _escalate_missed_resolution(org, ticket, level)
        if levels or breach not in mine:
            session.commit()
    return noted


def _resolution_marks(ticket_ids: Select[int]) -> dict[int, list[TicketEvent]]:
    """The resolution breach and escalations already on these tickets' timelines, in time order, by
    ticket (one query for the whole sweep, not each ticket's timeline)."""
    marks: dict[int, list[TicketEvent]] = {}
    events = session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.kind.in_(("breach", "escalation")))
        .order_by(TicketEvent.at, TicketEvent.id)
    )
    for event in events:
        if (event.data or {}).get("clock") == "resolution":
            marks.setdefault(event.ticket_id, []).append(event)
    return marks


def _resolution_levels_due(
    org: Org, ticket: Ticket, marks: list[TicketEvent], breached_at: datetime, now: datetime
) -> list[int]:
    """The escalation levels of a missed resolution due now and not yet escalated; `marks`: the
    ticket's `_resolution_marks` (an SMS that failed is the outbox's to try again)."""
    priority = org.priorities.get(ticket.priority)
    delays = priority.escalate_after_breach if priority is not None else ()
    done = {int((e.data or {}).get("level", 1)) for e in marks if e.kind == "escalation"}
    due = [1] + [n for n in (2, 3) if len(delays) >= n and now >= breached_at + delays[n - 1]]
    return [n for n in due if n not in done]


def _escalate_missed_resolution(org: Org, ticket: Ticket, level: int) -> None:
    role = ROLES[level - 1]
    person = policy.role_holder(org, role)
    if person is None:
        log.error("missed resolution of ticket %s: nobody holds the role %s", ticket.number, role)
        return
    body = gsm7(
        text(
            "sms_resolution_missed",
            person.language or "fr",
            ticket=ticket.number,
            client=ticket.client.name,
            subject=ticket.subject[:60],
            link=absolute_url("dashboard.ticket", number=ticket.number),
        )
    )
    data: dict[str, object] = {
        "level": level,
        "person": person.id,
        "name": person.name,
        "clock": "resolution",
    }
    event = add_event(ticket, "escalation", data=data)
    session.flush()
    sent = text_once("resolution_missed", person.phone, body, f"escalation:{event.id}", person.id)
    event.data = {**data, **told(sent)}


def overdue(now: datetime) -> list[int]:
    """Callouts with a step due at `now` (what the sweeper runs)."""
    return list(
        session.scalars(
            select(Callout.id)
            .where(Callout.state == CalloutState.PAGING, Callout.next_action_at <= now)
            .order_by(Callout.next_action_at)
        )
    )


def cancel_callouts(
    ticket_id: int, reason: str, actor: str | None = None, status: TicketStatus | None = None
) -> int:
    """Stop paging for a ticket (resolved or closed by the desk: `status`; a test call…). Returns how
    many stopped.

    Pending pages are dropped; a page call already ringing says "no alert waiting any more".
    """
    now = clock.now()
    ids = list(
        session.scalars(
            select(Callout.id).where(Callout.ticket_id == ticket_id, Callout.state == CalloutState.PAGING)
        )
    )
    stopped = 0
    for callout_id in ids:
        if (
            changed(
                update(Callout)
                .where(Callout.id == callout_id, Callout.state == CalloutState.PAGING)
                .values(
                    state=CalloutState.CANCELLED,
                    cancelled_at=now,
                    cancel_reason=reason[:200],
                    next_action_at=None,
                )
                .execution_options(synchronize_session=False)
            )
            == 1
        ):
            stopped += 1
            changed(
                update(Page)
                .where(Page.callout_id == callout_id, Page.status == MessageState.PENDING.value)
                .values(status=MessageState.CANCELLED.value)
                .execution_options(synchronize_session=False)
            )
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            add_event(
                ticket,
                "callout",
                actor=actor,
                data={
                    "callout": callout_id,
                    "cancelled": True,
                    "reason": reason,
                    "status": status.value if status else None,
                },
            )
    session.commit()
    session.expire_all()  # the UPDATEs bypassed the loaded rows
    return stopped


def set_ticket_status(ticket: Ticket, status: str | TicketStatus, actor: str, note: str = "") -> None:
    """The desk moves a ticket to `status`; a resolved or closed ticket pages nobody any more (both in
    one transaction)."""
    new = change_status(ticket, status, actor, note, commit=False)
    if new.is_open:
        session.commit()
        return
    cancel_callouts(
        ticket.id, reason=f"requête {label('status', new.value)}", actor=actor, status=new
    )  # commits

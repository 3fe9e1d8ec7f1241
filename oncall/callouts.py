"""Callouts: the promise that someone takes over a voicemail within the takeover delay.

`run_due_steps` walks the policy from the database: each step is claimed with a conditional UPDATE
(state still paging, step not yet run), so the scheduler, the sweeper and a retry can all fire the
same step and it runs once. A step with nobody to notify (a gap in the rota, someone who declined)
hands over to the next step at once.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Executable, select, update
from sqlalchemy.engine import CursorResult

import clock
import tasks
from models import Callout, CalloutState, Channel, Page, Person, Voicemail, session
from oncall import policy, rota
from oncall.load import current_org
from oncall.orgfile import Org
from tickets.timeline import add_event

log = logging.getLogger(__name__)


def changed(statement: Executable) -> int:
    """Rows a conditional UPDATE changed: 1 means this process won the claim."""
    return cast(CursorResult[Any], session.execute(statement)).rowcount


def open_callout(voicemail: Voicemail) -> Callout:
    """Open the callout of an eligible voicemail (once: Twilio retries), due at message + takeover.

    The caller commits; the first policy step is enqueued after the commit by `start_paging`.
    """
    existing = session.scalar(select(Callout).where(Callout.voicemail_id == voicemail.id))
    if existing is not None:
        return existing
    org = current_org()
    assert voicemail.ticket is not None
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
    add_event(
        voicemail.ticket,
        "callout",
        f"astreinte alertée, prise en charge attendue avant {callout.due_at.astimezone(org.timezone):%H:%M}",
        data={"callout": callout.id},
    )
    return callout


def start_paging(callout_id: int) -> None:
    """Hand the first step to the worker (after the webhook committed the callout)."""
    from oncall.sweeper import run_due_steps

    tasks.enqueue(run_due_steps, callout_id)


def run_due_steps(callout_id: int, deliver: bool = True) -> list[tuple[str, Channel]]:
    """Run every policy step of one callout that is due now; schedule the next one.

    Returns the (person, channel) pairs that got pending pages; with `deliver` they are sent at once
    (the sweeper passes False to bundle the pages of several callouts into one).
    """
    org = current_org()
    paged: list[tuple[str, Channel]] = []
    while True:
        now = clock.now()
        callout = session.get(Callout, callout_id, populate_existing=True)
        if callout is None or callout.state is not CalloutState.PAGING or callout.next_action_at is None:
            break
        if clock.as_utc(callout.next_action_at) > now:
            break
        index = callout.next_step
        step = policy.step(org, index)
        following = policy.step_due_at(org, callout, index + 1)
        level = max(callout.escalation_level, policy.escalation_level(org, index))
        claimed = changed(
            update(Callout)
            .where(Callout.id == callout_id, Callout.state == CalloutState.PAGING, Callout.next_step == index)
            .values(next_step=index + 1, next_action_at=following if step else None, escalation_level=level)
            .execution_options(synchronize_session=False)
        )
        if claimed != 1:  # another worker ran it, or someone took over meanwhile
            session.rollback()
            break
        session.refresh(callout)
        if step is None:
            session.commit()
            break
        pairs = _run_step(org, callout, index, now)
        if not pairs and following is not None:
            callout.next_action_at = now  # nobody to notify: the next step runs now
        session.commit()
        paged += pairs
        if deliver:
            _deliver(pairs)
    _schedule_next(callout_id)
    return paged


def _deliver(pairs: list[tuple[str, Channel]]) -> None:
    from oncall.paging import schedule_delivery

    for person_id, channel in pairs:
        schedule_delivery(person_id, channel)


def _schedule_next(callout_id: int) -> None:
    callout = session.get(Callout, callout_id, populate_existing=True)
    if callout is not None and callout.state is CalloutState.PAGING and callout.next_action_at is not None:
        from oncall.sweeper import run_due_steps as job

        at = clock.as_utc(callout.next_action_at)
        if at > clock.now():  # due now means another worker holds it (the loop ran everything due)
            tasks.enqueue(job, callout_id, at=at)


def _run_step(org: Org, callout: Callout, index: int, now: datetime) -> list[tuple[str, Channel]]:
    """Notify the target of step `index`; [] when there is nobody to notify."""
    from oncall.paging import create_page

    step = org.policy[index]
    label = policy.role_label(step.notify)
    person_id = rota.target(org, step.notify, now)
    person = session.get(Person, person_id) if person_id else None
    ticket = callout.ticket
    if person is None or not person.active:
        log.error("rota gap: nobody is %s for callout %s (step %d)", step.notify, callout.id, index)
        add_event(
            ticket,
            "gap",
            f"Personne pour le rôle « {label} » : étape suivante immédiatement",
            data={"callout": callout.id, "step": index, "position": step.notify},
        )
        return []
    if has_declined(callout.id, person.id):
        add_event(
            ticket,
            "page",
            f"{person.name} a refusé : étape suivante",
            data={"callout": callout.id, "step": index, "person": person.id},
        )
        return []
    if step.escalation_level:
        add_event(
            ticket,
            "escalation",
            f"Escalade niveau {step.escalation_level} : {person.name} ({label})",
            data={"callout": callout.id, "step": index, "level": step.escalation_level, "person": person.id},
        )
    pairs = []
    for channel in step.by:
        create_page(callout, person, Channel(channel), index)
        pairs.append((person.id, Channel(channel)))
    return pairs


def has_declined(callout_id: int, person_id: str) -> bool:
    return (
        session.scalar(
            select(Page.id)
            .where(Page.callout_id == callout_id, Page.person_id == person_id, Page.status == "declined")
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
    from oncall.sweeper import run_due_steps as job

    tasks.enqueue(job, callout_id)
    return True


def decline(callout: Callout, person: Person, pages: list[Page]) -> None:
    """`person` declined in a page call (9): noted on the pages and the timeline; the next step runs now."""
    for page in pages:
        if page.callout_id == callout.id:
            page.status = "declined"
    add_event(
        callout.ticket,
        "decline",
        f"{person.name} a refusé l'alerte",
        actor=person.name,
        data={"callout": callout.id, "person": person.id},
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
                f"Délai de prise en charge dépassé ({minutes} min)",
                data={"callout": callout.id},
            )
    session.commit()
    session.expire_all()
    return len(due)


def overdue(now: datetime) -> list[int]:
    """Callouts with a step due at `now` (what the sweeper runs)."""
    return list(
        session.scalars(
            select(Callout.id)
            .where(Callout.state == CalloutState.PAGING, Callout.next_action_at <= now)
            .order_by(Callout.next_action_at)
        )
    )


def cancel_callouts(ticket_id: int, reason: str, actor: str | None = None) -> int:
    """Stop paging for a ticket (resolved or closed by the desk, a test call…). Returns how many stopped.

    Pending pages are dropped; a page call already ringing says "no alert waiting any more".
    """
    from models import Ticket

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
                .where(Page.callout_id == callout_id, Page.status == "pending")
                .values(status="cancelled")
                .execution_options(synchronize_session=False)
            )
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            add_event(
                ticket,
                "callout",
                f"alerte d'astreinte arrêtée : {reason}",
                actor=actor,
                data={"callout": callout_id, "cancelled": True},
            )
    session.commit()
    session.expire_all()  # the UPDATEs bypassed the loaded rows
    return stopped

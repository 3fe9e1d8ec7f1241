"""The policy engine: runs the due steps of one callout from the database and schedules the next.

Each step is claimed with a conditional UPDATE (state still paging, step not yet run), so the
scheduler, the sweeper and a retry can all fire the same step and it runs once. A step with nobody to
notify (a gap in the rota, someone who declined) hands over to the next step at once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import update

import clock
import tasks
from models import Callout, CalloutState, Channel, Person, changed, session
from oncall import policy, rota
from oncall.callouts import RUN_STEPS_JOB, has_declined
from oncall.paging import create_page, schedule_delivery
from org.load import current_org
from org.orgfile import Org
from tickets.timeline import add_event

log = logging.getLogger(__name__)


@tasks.job(RUN_STEPS_JOB, urgent=True)
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
    for person_id, channel in pairs:
        schedule_delivery(person_id, channel)


def _schedule_next(callout_id: int) -> None:
    callout = session.get(Callout, callout_id, populate_existing=True)
    if callout is not None and callout.state is CalloutState.PAGING and callout.next_action_at is not None:
        at = clock.as_utc(callout.next_action_at)
        if at > clock.now():  # due now means another worker holds it (the loop ran everything due)
            tasks.enqueue(run_due_steps, callout_id, at=at)


def _run_step(org: Org, callout: Callout, index: int, now: datetime) -> list[tuple[str, Channel]]:
    """Notify the target of step `index`; [] when there is nobody to notify."""
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

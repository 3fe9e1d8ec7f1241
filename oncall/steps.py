"""The policy engine: runs the due steps of one callout from the database and schedules the next.

Each step is claimed with a conditional UPDATE (state still paging, step not yet run), so the
scheduler, the sweeper and a retry can all fire the same step and it runs once. A step with nobody to
notify (a gap in the rota, someone who declined) hands over to the next step at once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import case, insert, select, update
from sqlalchemy.orm import selectinload

import clock
import tasks
from models import Callout, CalloutState, Channel, MessageState, Page, Person, TicketEvent, changed, session
from oncall import delivery, policy, rota
from oncall.callouts import ESCALATE_NOW_JOB, RUN_STEPS_JOB, has_declined
from oncall.paging import create_page
from org.load import current_org
from org.orgfile import Org, PolicyStep
from tickets.timeline import add_event

log = logging.getLogger(__name__)


@tasks.job(RUN_STEPS_JOB, urgent=True, coalesce=True)
def run_due_steps(callout_id: int, deliver: bool = True) -> list[tuple[str, Channel]]:
    """Run every policy step of one callout that is due now; schedule the next one. In the worker
    (`deliver`), every other callout due now follows in batches (`run_due_batch`), delivered with it:
    in a storm the first run pages them all, and the requests made meanwhile are coalesced into one
    run (tasks: `coalesce`), which finds little left to do.

    Returns the (person, channel) pairs that got pending pages; with `deliver` they are sent at once
    (the sweeper passes False to bundle the pages of several callouts into one).
    """
    paged = _run_one(callout_id)
    if deliver:
        pairs, limit = paged, FIRST_BATCH
        while True:  # the first batch goes with this callout's pages: one bundle per person and channel
            more, claimed = run_due_batch(limit)
            limit = BATCH
            _deliver(pairs + more)
            if not claimed:
                break
            pairs = []
        _schedule_earliest()
    return paged


def _schedule_earliest() -> None:
    """The next instant any callout has a step due, scheduled: with runs coalesced, the callout a
    request named may not be the one that runs, so every run makes sure the next one comes."""
    row = session.execute(
        select(Callout.id, Callout.next_action_at)
        .where(Callout.state == CalloutState.PAGING, Callout.next_action_at > clock.now())
        .order_by(Callout.next_action_at)
        .limit(1)
    ).first()
    if row is not None and row[1] is not None:
        tasks.enqueue(run_due_steps, row[0], at=clock.as_utc(row[1]))


def _run_one(callout_id: int) -> list[tuple[str, Channel]]:
    """The due steps of one callout, its pages left pending for the caller to deliver."""
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
        if policy.repeat_due(org, callout, index, now):
            pairs = _run_repeat(org, callout, index, now)
            if pairs is None:
                break
            paged += pairs
            continue
        step = policy.step(org, index)
        following = policy.next_action_at(org, callout, index + 1, now)
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
    _schedule_next(callout_id)
    return paged


@tasks.job(ESCALATE_NOW_JOB)
def escalate_now(callout_id: int) -> None:
    """The first escalation role is paged now, beside the policy's steps (a major incident, or the
    client asked for escalation). Once: the escalation level says it ran."""
    org = current_org()
    first = policy.first_escalation_step(org)
    claimed = first is not None and changed(
        update(Callout)
        .where(Callout.id == callout_id, Callout.state == CalloutState.PAGING, Callout.escalation_level == 0)
        .values(escalation_level=policy.escalation_level(org, first))
        .execution_options(synchronize_session=False)
    )
    if not claimed or first is None:
        session.rollback()
        return
    callout = session.get(Callout, callout_id, populate_existing=True)
    assert callout is not None
    pairs = _run_step(org, callout, first, clock.now())
    session.commit()
    _deliver(pairs)


def _deliver(pairs: list[tuple[str, Channel]]) -> None:
    """Send the new pages now, in this worker: one delivery per person and channel, with no queue
    between the step and the carrier (a delivery queued behind a storm's jobs waits for all of them)."""
    for person_id, channel in dict.fromkeys(pairs):
        delivery.deliver_pages(person_id, channel.value)


BATCH = 500  # callouts claimed by one statement in a storm
FIRST_BATCH = 100  # fewer in the first batch of a run: its pages leave sooner


def run_due_batch(limit: int = BATCH) -> tuple[list[tuple[str, Channel]], int]:
    """Up to `limit` callouts with a step due now, each step claimed by one UPDATE per policy step
    (… RETURNING the ids it won), their pages and timeline lines written in bulk, one commit.

    Returns the (person, channel) pairs with new pending pages, and how many steps were claimed.
    Same outcome as `run_due_steps` one callout at a time; the next steps are scheduled once per
    instant (any run of this job runs every callout due by then).
    """
    org = current_org()
    now = clock.now()
    callouts = {
        c.id: c
        for c in session.scalars(
            select(Callout)
            .where(Callout.state == CalloutState.PAGING, Callout.next_action_at <= now)
            .order_by(Callout.next_action_at, Callout.id)
            .limit(limit)
            .options(selectinload(Callout.ticket))
            .execution_options(populate_existing=True)  # the session may hold them from before
        )
    }
    if not callouts:
        return [], 0
    pairs: list[tuple[str, Channel]] = []
    claimed_total = 0
    by_step: dict[int, list[int]] = {}
    for c in callouts.values():
        due = policy.step_due_at(org, c, c.next_step)
        if due is None or due > now:  # a repeat, or a step brought forward: one at a time, as it always ran
            one = _run_one(c.id)
            pairs += one
            claimed_total += 1
        else:
            by_step.setdefault(c.next_step, []).append(c.id)
    pages: list[dict[str, object]] = []
    events: list[dict[str, object]] = []
    following_at: list[dict[str, object]] = []
    for index, ids in by_step.items():
        step = policy.step(org, index)
        level = policy.escalation_level(org, index)
        claimed = list(
            session.scalars(
                update(Callout)
                .where(
                    Callout.id.in_(ids),
                    Callout.state == CalloutState.PAGING,
                    Callout.next_step == index,
                    Callout.next_action_at <= now,
                )
                .values(
                    next_step=index + 1,
                    next_action_at=None,
                    escalation_level=case(
                        (Callout.escalation_level > level, Callout.escalation_level), else_=level
                    ),
                )
                .returning(Callout.id)
                .execution_options(synchronize_session=False)
            )
        )
        claimed_total += len(claimed)
        if not claimed:
            continue
        person_id = rota.target(org, step.notify, now) if step else None
        person = session.get(Person, person_id) if person_id else None
        declined = (
            set(
                session.scalars(
                    select(Page.callout_id).where(
                        Page.callout_id.in_(claimed),
                        Page.person_id == person.id,
                        Page.status == Page.DECLINED,
                    )
                )
            )
            if person is not None
            else set()
        )
        for callout_id in claimed:
            callout = callouts[callout_id]
            following = policy.next_action_at(org, callout, index + 1, now) if step else None
            if step is not None:
                notified = _bulk_step(org, callout, index, person, callout_id in declined, now, pages, events)
                if notified:
                    pairs += [(notified, Channel(channel)) for channel in step.by]
                elif following is not None:
                    following = now  # nobody to notify: the next step runs now
            following_at.append({"id": callout_id, "next_action_at": following})
    if following_at:
        session.execute(update(Callout), following_at)
    if pages:
        session.execute(insert(Page), pages)
    if events:
        session.execute(insert(TicketEvent), events)
    session.commit()
    firsts: dict[datetime, int] = {}  # one scheduled run per instant: it runs every callout due by then
    for f in following_at:
        at = f["next_action_at"]
        if isinstance(at, datetime) and clock.as_utc(at) > clock.now():
            firsts.setdefault(clock.as_utc(at), int(str(f["id"])))
    for at, first in sorted(firsts.items()):
        tasks.enqueue(run_due_steps, first, at=at)
    return pairs, claimed_total


def _bulk_step(
    org: Org,
    callout: Callout,
    index: int,
    person: Person | None,
    declined: bool,
    now: datetime,
    pages: list[dict[str, object]],
    events: list[dict[str, object]],
) -> str | None:
    """`_run_step` as rows to insert: the person notified, or None when nobody is."""
    step = org.policy[index]

    def event(kind: str, data: dict[str, object]) -> None:
        events.append({"ticket_id": callout.ticket_id, "at": now, "kind": kind, "text": "", "data": data})

    if person is None or not person.active:
        log.error("rota gap: nobody is %s for callout %s (step %d)", step.notify, callout.id, index)
        event("gap", {"callout": callout.id, "step": index, "position": step.notify})
        return None
    if declined:
        event(
            "page",
            {
                "callout": callout.id,
                "step": index,
                "person": person.id,
                "name": person.name,
                "declined": True,
            },
        )
        return None
    if step.escalation_level:
        event(
            "escalation",
            _escalation_facts(callout, index, step, person),
        )
    for channel in step.by:
        pages.append(
            {
                "callout_id": callout.id,
                "person_id": person.id,
                "channel": Channel(channel),
                "step": index,
                "to_number": person.phone,
                "status": MessageState.PENDING.value,
                "retry_at": now,
                "created_at": now,
                "updated_at": now,
                "attempts": 0,
            }
        )
    return person.id


def _escalation_facts(callout: Callout, index: int, step: PolicyStep, person: Person) -> dict[str, object]:
    """What the timeline needs to tell that step `index` escalated to `person`."""
    return {
        "callout": callout.id,
        "step": index,
        "level": step.escalation_level,
        "person": person.id,
        "name": person.name,
        "position": step.notify,
    }


def _schedule_next(callout_id: int) -> None:
    callout = session.get(Callout, callout_id, populate_existing=True)
    if callout is not None and callout.state is CalloutState.PAGING and callout.next_action_at is not None:
        at = clock.as_utc(callout.next_action_at)
        if at > clock.now():  # due now means another worker holds it (the loop ran everything due)
            tasks.enqueue(run_due_steps, callout_id, at=at)


def _run_repeat(org: Org, callout: Callout, index: int, now: datetime) -> list[tuple[str, Channel]] | None:
    """Page the on-call positions again (`astreinte.repeat`); None when another worker claimed it."""
    assert org.repeat is not None
    claimed = changed(
        update(Callout)
        .where(
            Callout.id == callout.id,
            Callout.state == CalloutState.PAGING,
            Callout.next_step == index,
            Callout.next_action_at == callout.next_action_at,
        )
        .values(next_action_at=policy.next_action_at(org, callout, index, now))
        .execution_options(synchronize_session=False)
    )
    if claimed != 1:
        session.rollback()
        return None
    session.refresh(callout)
    pairs: list[tuple[str, Channel]] = []
    names: list[str] = []
    for position in org.repeat.notify:
        person_id = rota.target(org, position, now)
        person = session.get(Person, person_id) if person_id else None
        if person is None or not person.active or person.name in names or has_declined(callout.id, person.id):
            continue
        names.append(person.name)
        for channel in org.repeat.by:
            create_page(callout, person, Channel(channel), max(index - 1, 0))
            pairs.append((person.id, Channel(channel)))
    if names:
        add_event(
            callout.ticket,
            "page",
            data={"callout": callout.id, "repeat": True, "people": names},
        )
    session.commit()
    return pairs


def _run_step(org: Org, callout: Callout, index: int, now: datetime) -> list[tuple[str, Channel]]:
    """Notify the target of step `index`; [] when there is nobody to notify."""
    step = org.policy[index]
    person_id = rota.target(org, step.notify, now)
    person = session.get(Person, person_id) if person_id else None
    ticket = callout.ticket
    if person is None or not person.active:
        log.error("rota gap: nobody is %s for callout %s (step %d)", step.notify, callout.id, index)
        add_event(
            ticket,
            "gap",
            data={"callout": callout.id, "step": index, "position": step.notify},
        )
        return []
    if has_declined(callout.id, person.id):
        add_event(
            ticket,
            "page",
            data={
                "callout": callout.id,
                "step": index,
                "person": person.id,
                "name": person.name,
                "declined": True,
            },
        )
        return []
    if step.escalation_level:
        add_event(
            ticket,
            "escalation",
            data=_escalation_facts(callout, index, step, person),
        )
    pairs = []
    for channel in step.by:
        create_page(callout, person, Channel(channel), index)
        pairs.append((person.id, Channel(channel)))
    return pairs

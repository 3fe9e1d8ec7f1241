"""Calling the client back through astreinte: while the technician is on the phone with the client,
paging of that callout is held; when the call ends, paging resumes where the policy is (never sooner
than a short grace, for the technician to take over), and a takeover ends it as always.

The hold is the callout's `next_action_at` moved to the end of the longest call we trust without news
(`HOLD`): a lost "call ended" report costs at most that, never the callout. The timeline says when the
call began and ended (`client_call`), so a second report of the same end changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

import clock
import tasks
from models import Callout, CalloutState, Person, TicketEvent, changed, session
from oncall import policy
from oncall.callouts import RUN_STEPS_JOB
from org.load import current_org
from tickets.timeline import add_event

HOLD = timedelta(minutes=20)  # the longest a call to the client holds paging without a report
GRACE = timedelta(minutes=2)  # after the call: time to take over before the next page


def client_number(callout: Callout) -> str | None:
    """Where the client asked to be called back (the message's callback number, else the call's; for
    a ticket that paged without a call, the client's contact)."""
    return callout.callback_number or None


def calling(callout: Callout) -> bool:
    """Is a call to the client of `callout` under way (begun, not ended, within `HOLD`)?"""
    now = clock.now()
    for event in callout.ticket.events:
        data = event.data or {}
        if event.kind == "client_call" and data.get("callout") == callout.id and not data.get("ended"):
            if clock.as_utc(datetime.fromisoformat(data["at"])) > now - HOLD:
                return True
    return False


def hold(callout: Callout, person: Person) -> bool:
    """`person` is calling the client of `callout` through astreinte: paging waits (True when held)."""
    now = clock.now()
    held = changed(
        update(Callout)
        .where(Callout.id == callout.id, Callout.state == CalloutState.PAGING)
        .values(next_action_at=now + HOLD)
        .execution_options(synchronize_session=False)
    )
    if held != 1:
        session.rollback()
        return False
    session.refresh(callout)
    add_event(
        callout.ticket,
        "client_call",
        actor=person.name,
        data={"callout": callout.id, "person": person.id, "name": person.name, "at": now.isoformat()},
    )
    session.commit()
    return True


def release(callout: Callout) -> bool:
    """The call with the client ended: paging resumes (unless someone took over). Once per call."""
    calls = [
        e
        for e in callout.ticket.events
        if e.kind == "client_call" and (e.data or {}).get("callout") == callout.id
    ]
    if not calls or (calls[-1].data or {}).get("ended"):
        return False
    now = clock.now()
    last: TicketEvent = calls[-1]
    last.data = {**(last.data or {}), "ended": now.isoformat()}
    if callout.state is CalloutState.PAGING:
        org = current_org()
        following = policy.next_action_at(org, callout, callout.next_step, now)
        resume = max(following, now + GRACE) if following is not None else now + GRACE
        callout.next_action_at = resume
        session.commit()
        tasks.enqueue(RUN_STEPS_JOB, callout.id, at=clock.as_utc(resume))
        return True
    session.commit()
    return True

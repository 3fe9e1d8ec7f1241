"""The paging policy of the organisation file: when each step is due, what comes next, how far it went.

Step times are counted from the message (`callout.opened_at`) in elapsed time, so a night with a
daylight-saving change pages exactly 5, 10, 45… minutes after the message. Escalation steps (the
roles) wait for the breach plus the delay of the ticket's priority, when the priority gives one.

Policies repeat (`astreinte.repeat`): between two steps further apart than `every`, and after the last
one, the on-call positions are paged again `every` after the last page, until someone takes over.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

import clock
from models import Callout, Page, Person, session
from org.load import NoOrganisation, current_org
from org.orgfile import Org, PolicyStep
from tickets.sla import add_on_clock
from words.ui import label


def step(org: Org, index: int) -> PolicyStep | None:
    return org.policy[index] if 0 <= index < len(org.policy) else None


def step_due_at(org: Org, callout: Callout, index: int) -> datetime | None:
    """When step `index` is due for this callout, or None past the last step."""
    s = step(org, index)
    if s is None:
        return None
    level = s.escalation_level
    priority = org.priorities.get(callout.ticket.priority)
    if level and priority is not None and len(priority.escalate_after_breach) >= level:
        # 003's escalation matrix: level N is reached when the priority's own commitment is missed by
        # its delay (high: ½ h then 15 min, 30 min, 1 h; medium: 2 h then 1 h, 12 h, 24 h).
        return commitment_due(org, callout) + priority.escalate_after_breach[level - 1]
    return callout.opened_at + s.after


def commitment_due(org: Org, callout: Callout) -> datetime:
    """When the takeover commitment of the ticket's priority falls for this callout: counted from the
    message on the priority's clock, never before the astreinte's own deadline (`due_at`). A callout
    opened because the ticket's clock had already breached counts from that breach."""
    priority = org.priorities.get(callout.ticket.priority)
    if priority is None or priority.takeover is None or callout.origin == "breach":
        return callout.due_at
    own = add_on_clock(org, priority.clock, callout.opened_at, priority.takeover)
    return max(clock.as_utc(callout.due_at), own)


def next_action_at(org: Org, callout: Callout, index: int, now: datetime) -> datetime | None:
    """When the callout acts next, having run everything before step `index` at `now`: step `index`,
    or a repeat page of the on-call positions if that comes first."""
    following = step_due_at(org, callout, index)
    if org.repeat is None:
        return following
    again = now + org.repeat.every
    return again if following is None else min(following, again)


def repeat_due(org: Org, callout: Callout, index: int, now: datetime) -> bool:
    """Is what is due now a repeat: step `index` is not due yet (or none is left), and the last page
    is `every` old? (A step brought forward by a decline or a failure is not a repeat: it runs.)"""
    if org.repeat is None:
        return False
    due = step_due_at(org, callout, index)
    if due is not None and due <= now:
        return False
    last = session.scalar(select(func.max(Page.created_at)).where(Page.callout_id == callout.id))
    return last is not None and clock.as_utc(last) + org.repeat.every <= now  # the first act is a step


def first_escalation_step(org: Org) -> int | None:
    """The index of the policy's first escalation step (a role), or None."""
    return next((i for i, s in enumerate(org.policy) if s.escalation_level), None)


def escalation_level(org: Org, index: int) -> int:
    """The escalation level reached once step `index` ran (0: still the on-call positions)."""
    s = step(org, index)
    return 0 if s is None else s.escalation_level


def role_label(notify: str, lang: str = "fr") -> str:
    """Who a step notifies, as people say it ("astreinte de secours")."""
    return label("notify", notify, lang)


def highest_level(org: Org) -> int:
    return max((s.escalation_level for s in org.policy), default=0)


def role_holder(org: Org, role: str) -> Person | None:
    """The person of an escalation role (supervisor, manager, director), when active and reachable."""
    person = session.get(Person, org.escalation.get(role, ""))
    return person if person is not None and person.active and person.phone else None


def supervisor(org: Org) -> Person | None:
    """Who the supervisor's SMS go to (a missed resolution, a coming gap, a pager that failed its
    test)."""
    return role_holder(org, "supervisor")


def supervisor_to_tell() -> Person | None:
    """The supervisor of the organisation loaded now; None before any is loaded, or when it names none."""
    try:
        org = current_org()
    except NoOrganisation:
        return None
    return supervisor(org)

"""The paging policy of the organisation file: when each step is due, what comes next, how far it went.

Step times are counted from the message (`callout.opened_at`) in elapsed time, so a night with a
daylight-saving change pages exactly 5, 10, 45… minutes after the message. Escalation steps (the
roles) wait for the breach plus the delay of the ticket's priority, when the priority gives one.
"""

from __future__ import annotations

from datetime import datetime

from models import Callout
from org.orgfile import Org, PolicyStep
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
        # 003's escalation matrix: level N is reached when the commitment is missed by the ticket
        # priority's delay (high: 15 min, 30 min, 1 h; medium: 1 h, 12 h, 24 h).
        return callout.due_at + priority.escalate_after_breach[level - 1]
    return callout.opened_at + s.after


def escalation_level(org: Org, index: int) -> int:
    """The escalation level reached once step `index` ran (0: still the on-call positions)."""
    s = step(org, index)
    return 0 if s is None else s.escalation_level


def role_label(notify: str, lang: str = "fr") -> str:
    """Who a step notifies, as people say it ("astreinte de secours")."""
    return label("notify", notify, lang)


def highest_level(org: Org) -> int:
    return max((s.escalation_level for s in org.policy), default=0)

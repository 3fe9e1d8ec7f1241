"""Who is on call tonight, for a technician who calls the support number from their own phone: known by
their number (an active person of the organisation), they need no PIN; anyone else hears nothing of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from models import Person, session
from oncall.rota import OnCall, who_is_on_call
from org.hours import is_business_hours
from org.orgfile import Org


def technician_calling(org: Org, number: str) -> Person | None:
    """The active person of the organisation whose own phone is `number` (E.164), if any."""
    # The people rows are the organisation's, written with it (org/load.py): a number that is none
    # of its people's phones needs no query (every caller to the support number asks this).
    if not number or not any(entry.phone == number for entry in org.people.values()):
        return None
    for person in session.scalars(select(Person).where(Person.phone == number, Person.active.is_(True))):
        if person.id in org.people:
            return person
    return None


def tonight(org: Org, now: datetime) -> datetime:
    """The instant "tonight" means: now once the desk is closed, else when it closes today."""
    if not is_business_hours(org, now):
        return now
    local = now.astimezone(org.timezone)
    closing = max(end for _start, end in org.business_hours[local.weekday()])
    return datetime.combine(local.date(), closing, tzinfo=org.timezone)


def on_call_tonight(org: Org, now: datetime) -> OnCall:
    return who_is_on_call(org, tonight(org, now))

"""Business hours (HOJO): weekly ranges, public holidays, closures, in the organisation's time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays as holidays_lib

from org.orgfile import Org


@lru_cache(maxsize=32)
def _holidays(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays_lib.country_holidays(country, subdiv=subdiv, years=year))


def is_closed_day(org: Org, day: date) -> bool:
    """A public holiday or an extra closure: the astreinte answers all day."""
    if day in org.closures:
        return True
    if org.holiday_country:
        return day in _holidays(org.holiday_country, org.holiday_subdiv, day.year)
    return False


def is_business_hours(org: Org, at: datetime) -> bool:
    """True when the service desk answers at the aware instant `at`."""
    local = at.astimezone(org.timezone)
    if is_closed_day(org, local.date()):
        return False
    t = local.time()
    return any(start <= t < end for start, end in org.business_hours.get(local.weekday(), ()))


def next_opening(org: Org, at: datetime) -> datetime:
    """The next instant the desk opens, after `at` (aware, in the organisation's time zone)."""
    local = at.astimezone(org.timezone)
    for offset in range(0, 60):
        day = local.date() + timedelta(days=offset)
        if is_closed_day(org, day):
            continue
        for start, _end in org.business_hours.get(day.weekday(), ()):
            opening = datetime.combine(day, start, tzinfo=org.timezone)
            if opening > local:
                return opening
    raise ValueError("the desk does not open in the next 60 days")

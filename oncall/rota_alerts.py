"""Gaps ahead in the rota: found for the rota page (14 days), and the supervisor told by SMS, once per
gap, when one opens within 24 hours (the sweeper asks every turn; /healthz keeps its own warning)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError

import clock
from models import RotaAlert, session
from oncall import policy
from oncall.rota import active_people, paged_positions, shifts, week_start
from oncall.sending import text_once
from org.load import NoOrganisation, current_org
from org.orgfile import Org
from words.catalogue import text
from words.rota import position_word
from words.ui import WEEKDAYS

log = logging.getLogger(__name__)

SMS_WITHIN = timedelta(hours=24)
PAGE_WITHIN = timedelta(days=14)


@dataclass(frozen=True)
class Gap:
    """A stretch where a position the policy pages is held by nobody (or by someone inactive), or where
    the backup is missing (nobody, or the primary again)."""

    position: str
    start: datetime  # local
    end: datetime
    holder: str | None  # an inactive person, or None

    @property
    def missing_backup(self) -> bool:
        return self.position == "backup"


def gaps_ahead(org: Org, within: timedelta = PAGE_WITHIN, now: datetime | None = None) -> list[Gap]:
    """Every gap from now to `within`, in time order. A gap already open keeps its real start (looked for
    back to the week before), so it is the same gap at every sweep."""
    now = now or clock.now()
    since = week_start(org, now - timedelta(days=7))
    active = active_people()
    paged = paged_positions(org)
    found: list[Gap] = []
    for shift in shifts(org, since, now + within):
        for position in paged:
            holder = shift.primary if position == "primary" else shift.backup
            missing = holder is None or holder not in active
            if position == "backup" and holder is not None and holder == shift.primary:
                missing = True
            if missing:
                last = next((g for g in reversed(found) if g.position == position), None)
                if last is not None and last.end == shift.start and last.holder == holder:
                    found[found.index(last)] = Gap(position, last.start, shift.end, holder)
                else:
                    found.append(Gap(position, shift.start, shift.end, holder))
    ahead = [g for g in found if g.end.astimezone(UTC) > now.astimezone(UTC)]
    return sorted(ahead, key=lambda g: (g.start.astimezone(UTC), g.position))


def warn_supervisor(now: datetime | None = None) -> int:
    """Text the supervisor about each gap opening within 24 hours, once per gap (the `RotaAlert` row
    records the gap; the outbox, the SMS). Returns how many SMS were asked for."""
    now = now or clock.now()
    try:
        org = current_org()
    except NoOrganisation:
        return 0
    supervisor = policy.supervisor(org)
    if supervisor is None:
        return 0
    sent = 0
    for gap in gaps_ahead(org, SMS_WITHIN, now):
        alert = RotaAlert(
            position=gap.position, gap_starts_at=gap.start, person_id=supervisor.id, sent_at=clock.now()
        )
        session.add(alert)
        try:
            session.commit()  # the record of the gap, and the claim: one row per gap, one SMS with two sweepers
        except IntegrityError:
            session.rollback()
            continue
        start = gap.start.astimezone(org.timezone)
        lang = supervisor.language
        if gap.start.astimezone(UTC) <= now.astimezone(UTC):
            body = text("rota.gap_now_sms", lang, position=position_word(gap.position, lang))
        else:
            body = text(
                "rota.gap_sms",
                lang,
                position=position_word(gap.position, lang),
                day=f"{WEEKDAYS[lang if lang in WEEKDAYS else 'fr'][start.weekday()]} {start:%d/%m}",
                time=f"{start:%H:%M}",
            )
        # Once per gap; a failure is the outbox's to try again, like every message.
        text_once("rota_gap", supervisor.phone, body, f"rota_gap:{alert.id}", supervisor.id)
        sent += 1
    return sent

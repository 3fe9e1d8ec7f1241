"""The sweeper: finds overdue work in the database and runs it again (every 10 s in the worker).

Redis only carries work; a Redis that lost every job loses no page, because each deadline is a
column (`callout.next_action_at`, `page.retry_at`, an outgoing message's `retry_at`) and this finds it.
"""

from __future__ import annotations

import logging

import clock
from oncall import carriers, delivery, live, pagetests, retries
from oncall.callouts import note_breaches, overdue
from oncall.rota_alerts import warn_supervisor
from oncall.steps import run_due_batch
from oncall.ticket_callouts import note_inactive_tickets, note_ticket_breaches
from oncall.voicemails import callers_not_told, catch_up, notify_caller
from org.load import NoOrganisation

log = logging.getLogger(__name__)


def sweep() -> int:
    """Run every overdue callout step (claimed in bulk, `run_due_batch`), then have every due page
    delivered (bundled by person and channel), note the deadlines that passed with nobody, send the
    takeover SMS a lost job never sent, tell the supervisor of a coming gap in the rota, try again every
    other message whose back-off has passed, and run the evening test of the pages. Returns how many callouts had a step run."""
    now = clock.now()
    try:
        due = overdue(now)
    except NoOrganisation:
        return 0
    carriers.probe_due(now)  # a carrier set aside is back in use as soon as it answers
    catch_up(now)  # messages and receipts a failure left half-done
    live.catch_up(now)  # callers put through whose end never reached us
    try:
        while run_due_batch()[1]:  # every step due, claimed in bulk (a storm's thousands too)
            pass
    except NoOrganisation:
        return 0
    delivery.deliver_due()  # in this process: no queue between
    note_breaches(clock.now())
    note_ticket_breaches(clock.now())  # a ticket's own takeover clock, with no caller's message behind it
    note_inactive_tickets(clock.now())  # a taken-over ticket nobody touches climbs the matrix (000)
    warn_supervisor(clock.now())  # a gap in the rota within 24 h: the supervisor hears of it once
    for callout_id in callers_not_told(clock.now()):
        notify_caller(callout_id)
    retries.retry_due(clock.now())  # every message but a page whose back-off has passed, one way for all
    pagetests.sweep(clock.now())  # the evening test of those on call; tests whose time is up judged
    if due:
        log.info("sweep: %d callout(s) had a step due", len(due))
    return len(due)

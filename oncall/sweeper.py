"""The sweeper: finds overdue work in the database and runs it again (every 10 s in the worker).

Redis only carries work; a Redis that lost every job loses no page, because each deadline is a
column (`callout.next_action_at`, `page.retry_at`) and this finds it.
"""

from __future__ import annotations

import logging

import clock
from oncall.load import NoOrganisation

log = logging.getLogger(__name__)


def run_due_steps(callout_id: int) -> None:
    """The job that runs the policy steps of one callout that are due now (and schedules the next)."""
    from oncall.callouts import run_due_steps as run

    run(callout_id)


def sweep() -> int:
    """Run every overdue callout step, then deliver every due page (bundled by person and channel),
    note the deadlines that passed with nobody, and send the takeover SMS a lost job never sent.
    Returns how many callouts had a step run."""
    from models import session
    from oncall.callouts import note_breaches, overdue
    from oncall.callouts import run_due_steps as run
    from oncall.jobs import callers_not_told, notify_caller
    from oncall.paging import deliver, pending_deliveries, recover_interrupted
    from voice.caller_calls import catch_up

    now = clock.now()
    try:
        due = overdue(now)
    except NoOrganisation:
        return 0
    catch_up(now)  # messages and receipts a failure left half-done
    for callout_id in due:
        try:
            run(callout_id, deliver=False)
        except NoOrganisation:
            return 0
    if recover_interrupted(clock.now()):
        session.commit()
    for person_id, channel in pending_deliveries(clock.now()):
        deliver(person_id, channel)
    note_breaches(clock.now())
    for callout_id in callers_not_told(clock.now()):
        notify_caller(callout_id)
    if due:
        log.info("sweep: %d callout(s) had a step due", len(due))
    return len(due)

"""An outage: many messages at once page the same technician. One run of the policy engine claims every
callout due, and each person gets one SMS and one call for all of them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

import tasks
from models import Page, TicketEvent, session
from oncall.steps import run_due_steps

from .factories import told
from .oncall_helpers import ALICE, leave_voicemail
from .twilio_standin import fixtures

app_config, twilio_server, twilio = fixtures()


def test_one_run_pages_every_callout_due_with_one_sms_and_one_call(twilio, clock):
    callouts = [leave_voicemail(ticket, page=False) for ticket in ("104233", "104240", "104251") * 4]
    run_due_steps(callouts[0].id)
    assert len(twilio.sms_sent_to(ALICE)) == 1 and len(twilio.calls_to(ALICE)) == 1
    pages = session.scalars(select(Page).where(Page.person_id == "alice")).all()
    assert sorted(p.callout_id for p in pages if p.channel == "sms") == sorted(c.id for c in callouts)
    assert all(p.twilio_sid and p.step == 0 for p in pages)
    for callout in callouts:  # each one claimed once, its next step (5 min after the message) scheduled
        session.refresh(callout)
        assert callout.next_step == 1 and callout.next_action_at == callout.opened_at + timedelta(minutes=5)
    lines = [told(e) for e in session.scalars(select(TicketEvent).where(TicketEvent.kind == "page"))]
    bundled = [
        line for line in lines if line.startswith("SMS envoyé à Alice Martin (groupé avec 11 autre(s))")
    ]
    assert len(bundled) == len(callouts)
    run_due_steps(callouts[-1].id)  # a second run, queued for another callout: nothing left to do
    assert (
        len(twilio.sms_sent_to(ALICE)) == 1 and session.scalar(select(func.count()).select_from(Page)) == 24
    )


def test_a_storm_queues_one_run_of_the_steps_while_one_waits(app, clock):
    app.config["TASKS_INLINE"] = False
    try:
        for _ in range(50):
            tasks.enqueue("run_due_steps", 1)
        assert tasks.queue(app, tasks.PAGES_QUEUE).count == 1
    finally:
        app.config["TASKS_INLINE"] = True
        tasks.connection(app).flushdb()

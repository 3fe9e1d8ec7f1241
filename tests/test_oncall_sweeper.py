"""The sweeper run by two workers at the same instant: every step runs once, every page leaves once."""

from __future__ import annotations

import threading

from sqlalchemy import select

from models import Page, TicketEvent, session
from oncall.sweeper import sweep

from .oncall_helpers import ALICE, BRUNO, leave_voicemail
from .twilio_standin import fixtures

app_config, twilio_server, twilio = fixtures()


def _two_sweeps_at_once(app) -> None:
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=5)
                sweep()
                session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    session.expire_all()


def test_two_sweepers_at_once_send_each_page_once(twilio, clock, app):
    leave_voicemail("104233", page=False)  # Redis lost the job: only the sweepers know
    leave_voicemail("104240", page=False)
    _two_sweeps_at_once(app)
    assert len(twilio.sms_sent_to(ALICE)) == 1 and len(twilio.calls_to(ALICE)) == 1
    clock.advance(minutes=10)
    _two_sweeps_at_once(app)
    assert len(twilio.sms_sent_to(BRUNO)) == 1 and len(twilio.calls_to(BRUNO)) == 1
    assert len(twilio.calls_to(ALICE)) == 2  # the re-page of step 1 (5 min), once
    steps = session.scalars(select(Page.step).where(Page.person_id == "alice", Page.channel == "voice")).all()
    assert sorted(steps) == [0, 0, 1, 1]  # two callouts, one bundled call each time
    clock.advance(minutes=21)
    _two_sweeps_at_once(app)
    breaches = session.scalars(select(TicketEvent).where(TicketEvent.kind == "breach")).all()
    assert len(breaches) == 2  # one per callout, not one per sweeper


def test_a_page_due_for_a_callout_taken_over_meanwhile_is_never_sent(twilio, clock):
    leave_voicemail("104233", page=False)
    twilio.reply(ALICE, "OK 104233")  # before any worker ran the first step
    sweep()
    assert not twilio.sms_sent_to(ALICE) and not twilio.calls_to(ALICE)


def test_the_callers_takeover_sms_lost_with_redis_is_sent_by_the_sweeper_once(twilio, clock, app):
    from .oncall_helpers import CALLER

    leave_voicemail("104233")
    app.config["TASKS_INLINE"] = False  # the takeover's SMS job goes to a Redis that will lose it
    twilio.reply(ALICE, "OK 104233")
    app.config["TASKS_INLINE"] = True
    assert not twilio.sms_sent_to(CALLER)
    sweep()
    assert not twilio.sms_sent_to(CALLER)  # a minute's grace: the job may still run
    clock.advance(minutes=1)
    sweep()
    sweep()
    assert [m.body for m in twilio.sms_sent_to(CALLER)] == [
        "Serveurcom astreinte : Alice a pris en charge votre demande 104233 à 23:10. Suivi : support.serveurcom.com"
    ]

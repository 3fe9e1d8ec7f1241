"""Races: two sweepers at the same instant, a takeover by key and by SMS at the same instant. One
winner, counts exact (conditional UPDATEs decide, not whoever reads first)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

import models
from devtools.simulator import Phone
from models import CalloutState, Page, TicketEvent, session
from oncall import retries
from oncall.pin_alerts import tell_of_pin_lock
from oncall.sweeper import sweep

from ..conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from ..oncall_helpers import ALICE, BRUNO, CALLER, CHLOE, leave_voicemail, refreshed
from ..twilio_standin import fixtures

app_config, twilio_server, twilio = fixtures()


def _at_once(app: Any, *work: Callable[[], Any]) -> list[Any]:
    """Run each function in its own thread (own session), released at the same instant."""
    start = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)
    errors: list[BaseException] = []

    def run(i: int, fn: Callable[[], Any]) -> None:
        with app.app_context():
            try:
                start.wait()
                results[i] = fn()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                models.session.remove()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(work)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


def test_two_sweepers_at_the_same_instant_page_each_callout_once(app, twilio, clock):
    callouts = [leave_voicemail(t, page=False) for t in ("104233", "104240", "104233", "104240")]
    session.commit()
    clock.advance(minutes=1)  # the first step is overdue: the sweepers find it
    _at_once(app, sweep, sweep)
    session.rollback()
    for callout in callouts:
        pages = session.scalars(select(Page).where(Page.callout_id == callout.id)).all()
        assert sorted(p.channel.value for p in pages) == ["sms", "voice"], [(p.id, p.channel) for p in pages]
    assert len(twilio.sms_sent_to(ALICE)) == 1  # the four callouts in one SMS
    assert len(twilio.calls_to(ALICE)) == 1  # and one call


def _key_press(app: Any, call_sid: str, page_id: int, callout_id: int) -> tuple[int, str]:
    phone = Phone(app.test_client(), AUTH_TOKEN, PUBLIC_BASE_URL)
    return phone.send(
        f"/voice/pages/key?page={page_id}&callout={callout_id}",
        {"CallSid": call_sid, "From": "+33272646172", "To": ALICE, "Digits": "1", "AnsweredBy": "human"},
    )


def _sms_reply(app: Any, ticket: str) -> tuple[int, str]:
    phone = Phone(app.test_client(), AUTH_TOKEN, PUBLIC_BASE_URL)
    return phone.send(
        "/sms/incoming",
        {"MessageSid": "SM" + threading.current_thread().name.encode().hex()[:32].ljust(32, "0"),
         "From": BRUNO, "To": "+33272646172", "Body": f"OK {ticket}", "NumMedia": "0"},
    )  # fmt: skip


def test_a_takeover_by_key_and_by_sms_at_the_same_instant_has_one_winner(app, twilio, clock):
    for round_ in range(5):
        twilio.reset()
        callout = leave_voicemail("104233")
        call = twilio.call_to(ALICE)
        lead = session.scalar(
            select(Page).where(Page.callout_id == callout.id, Page.channel == models.Channel.VOICE)
        )
        key, sms = _at_once(
            app,
            lambda c=call, p=lead, o=callout: _key_press(app, c.sid, p.id, o.id),
            lambda: _sms_reply(app, "104233"),
        )
        assert key[0] == 200 and sms[0] == 200
        session.rollback()
        done = refreshed(callout)
        assert done.state is CalloutState.TAKEN_OVER
        takeovers = session.scalar(
            select(func.count())
            .select_from(TicketEvent)
            .where(TicketEvent.kind == "takeover", TicketEvent.data["callout"].as_integer() == callout.id)
        )
        assert takeovers == 1, f"round {round_}: {takeovers} takeovers"
        winner = done.taken_over_by
        loser_heard = sms[1] if winner == "alice" else key[1]
        assert "Alice" in loser_heard or "Bruno" in loser_heard, loser_heard  # told who has it
        told = [m for m in twilio.sms_sent_to(CALLER) if "pris en charge" in m.body]
        assert len(told) == 1, [m.body for m in told]
        clock.advance(minutes=20)  # past the call throttle: the next round's page call goes out


def test_two_sweepers_retrying_the_same_message_at_the_same_instant_send_it_once(app, twilio, clock):
    callout = leave_voicemail("104233", page=False)
    twilio.fail_next("sms", status=503, code=20503)
    tell_of_pin_lock(callout.voicemail.call_id)  # the supervisor's SMS fails for a moment
    assert not twilio.sms_sent_to(CHLOE)
    clock.advance(minutes=1)
    now = clock.now()
    tried = _at_once(app, lambda: retries.retry_due(now), lambda: retries.retry_due(now))
    session.rollback()
    assert sorted(tried) == [0, 1]  # one claimed it, the other found it claimed
    assert len(twilio.sms_sent_to(CHLOE)) == 1

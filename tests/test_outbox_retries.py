"""Every message that is not a page is retried the same way, by the outbox: the caller's receipt and
"pris en charge", the supervisor's alerts (a ticket's deadline missed, a missed resolution, a gap in the
rota, a failed page test, a PIN lock), the page tests and the client's notice of a resolved ticket. A carrier failing for a moment: the message
leaves once the back-off has passed, exactly once. A carrier refusing it for good: never tried again.
And nothing else was sent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

import clock as clock_module
from devtools.network import Network
from models import (
    Call,
    Channel,
    MessageState,
    OutgoingMessage,
    PageTest,
    Person,
    Ticket,
    TicketStatus,
    session,
)
from oncall import pagetests, retries
from oncall.callouts import note_missed_resolutions
from oncall.pin_alerts import tell_of_pin_lock
from oncall.rota import who_is_on_call
from oncall.rota_alerts import warn_supervisor
from oncall.sweeper import sweep
from oncall.takeover import take_over
from oncall.ticket_callouts import note_ticket_breaches
from oncall.ticket_changes import TicketChange, change_ticket
from oncall.voicemails import send_receipt
from org.load import current_org

from .conftest import Clock
from .oncall_helpers import ALICE, CALLER, CHLOE, leave_voicemail, refreshed
from .twilio_standin import fixtures

app_config, twilio_server, twilio = fixtures()

TEMPORARY = {"status": 503, "code": 20503}  # Twilio's API out of order for a moment
PERMANENT = {"status": 400, "code": 21211}  # "The 'To' number is not a valid phone number"

# Each kind: what makes astreinte send it, returning (to whom, a word of it, the outbox's kind).
Kind = Callable[[Clock], tuple[str, str, str]]


def _receipt(clock: Clock) -> tuple[str, str, str]:
    callout = leave_voicemail("104233", page=False)
    call = session.get(Call, callout.voicemail.call_id)
    call.ended_at = call.started_at
    session.commit()
    send_receipt(call.id)
    return CALLER, "est transmis", "receipt"


def _taken_over(clock: Clock) -> tuple[str, str, str]:
    callout = leave_voicemail("104233", page=False)
    take_over(refreshed(callout), session.get(Person, "alice"), Channel.SMS)
    session.commit()
    return CALLER, "a pris en charge", "caller_sms"


def _pin_lock(clock: Clock) -> tuple[str, str, str]:
    callout = leave_voicemail("104233", page=False)
    tell_of_pin_lock(callout.voicemail.call_id)
    return CHLOE, "verrouillé", "pin_lock"


def _rota_gap(clock: Clock) -> tuple[str, str, str]:
    tonight = who_is_on_call(current_org(), clock_module.now())
    session.get(Person, tonight.backup).active = False  # tonight's backup left: a gap
    session.commit()
    warn_supervisor(clock_module.now())
    return CHLOE, "", "rota_gap"


def _missed_resolution(clock: Clock) -> tuple[str, str, str]:
    ticket = session.scalar(select(Ticket).where(Ticket.number == "104233"))
    ticket.opened_at = clock_module.now() - timedelta(days=30)  # long past its resolution target
    session.commit()
    note_missed_resolutions(clock_module.now())
    return CHLOE, "104233", "resolution_missed"


def _deadline_missed(clock: Clock) -> tuple[str, str, str]:
    clock.set("2026-11-25 10:00")  # by day: the supervisor is texted (at night the ticket is paged)
    ticket = session.scalar(select(Ticket).where(Ticket.number == "104240"))
    ticket.opened_at = clock_module.now() - timedelta(hours=3)  # nobody took it over by day
    session.commit()
    note_ticket_breaches(clock_module.now())
    return CHLOE, "104240", "escalation"


def _failed_page_test(clock: Clock) -> tuple[str, str, str]:
    test = pagetests.start(session.get(Person, "alice"), ("sms",), "evening", night="2026-11-24")
    test.sms_status, test.sms_sid = "undelivered", "SMgone"
    session.commit()
    pagetests.finish(test)
    return CHLOE, "Alice", "page_test_failed"


def _page_test(clock: Clock) -> tuple[str, str, str]:
    test = pagetests.start(session.get(Person, "alice"), ("sms",), "command")
    pagetests.send_test(test.id)
    return ALICE, "TEST", "page_test"


def _client_notice(clock: Clock) -> tuple[str, str, str]:
    leave_voicemail("104233", page=False)  # the client's mobile called about it
    ticket = session.scalar(select(Ticket).where(Ticket.number == "104233"))
    change_ticket(ticket, TicketChange(status=TicketStatus.RESOLVED, note="lien rétabli"), actor="Alice")
    return CALLER, "résolue", "client_notice"


KINDS: dict[str, Kind] = {
    "receipt": _receipt,
    "taken over": _taken_over,
    "PIN lock": _pin_lock,
    "rota gap": _rota_gap,
    "missed resolution": _missed_resolution,
    "deadline missed": _deadline_missed,
    "failed page test": _failed_page_test,
    "page test": _page_test,
    "client notice": _client_notice,
}


def _rows(kind: str) -> list[OutgoingMessage]:
    return list(
        session.scalars(
            select(OutgoingMessage).where(OutgoingMessage.kind == kind).order_by(OutgoingMessage.id)
        )
    )


@pytest.mark.parametrize("name", list(KINDS))
def test_a_message_a_carrier_failed_for_a_moment_leaves_once_after_the_back_off(name, org, twilio, clock):
    network = Network(since=clock.now())
    twilio.fail_next("sms", **TEMPORARY)
    to, said, kind = KINDS[name](clock)
    waiting = [m for m in _rows(kind) if retries.retrying(m)]
    assert len(waiting) == 1 and waiting[0].state is MessageState.FAILED_TEMPORARY
    topics = {m.details["topic"] for m in _rows(kind)}  # a rota with two gaps: two SMS, one failed
    assert len(twilio.sms_sent_to(to)) == len(topics) - 1
    clock.advance(seconds=10)
    retries.retry_due(clock.now())  # the sweeper's share (the pages of the callouts left aside)
    assert len(twilio.sms_sent_to(to)) == len(topics) - 1  # the back-off has not passed
    clock.advance(seconds=25)
    retries.retry_due(clock.now())
    assert len(twilio.sms_sent_to(to)) == len(topics)
    for _ in range(3):  # later turns send nothing more
        clock.advance(minutes=5)
        retries.retry_due(clock.now())
    assert len(twilio.sms_sent_to(to)) == len(topics)
    for _ in topics:
        network.expect(to, Channel.SMS, said)
    network.nothing_else()
    sent = retries.fate(waiting[0].details["topic"], kind)
    assert sent.state is MessageState.SENT and not retries.retrying(sent)
    assert sent.carrier_id in {m.sid for m in twilio.sms_sent_to(to)} and said in sent.body


@pytest.mark.parametrize("name", list(KINDS))
def test_a_message_a_carrier_refused_for_good_is_never_tried_again(name, org, twilio, clock):
    network = Network(since=clock.now())
    twilio.fail_next("sms", **PERMANENT)
    to, said, kind = KINDS[name](clock)
    refused = [m for m in _rows(kind) if m.state is MessageState.FAILED_PERMANENT]
    assert len(refused) == 1 and not retries.retrying(refused[0])
    others = len(twilio.sms_sent_to(to))  # a rota with two gaps: the other one's SMS
    for _ in range(6):
        clock.advance(minutes=5)
        retries.retry_due(clock.now())
    assert len(twilio.sms_sent_to(to)) == others
    assert retries.fate(refused[0].details["topic"], kind).id == refused[0].id  # no second attempt
    for _ in range(others):
        network.expect(to, Channel.SMS, said)
    network.nothing_else()


def test_a_message_failing_at_every_try_is_given_up_after_the_last_back_off(org, twilio, clock):
    twilio.fail_next("sms", times=len(retries.RETRY_AFTER) + 1, **TEMPORARY)
    to, _, kind = _pin_lock(clock)
    for _ in range(30):
        clock.advance(minutes=1)
        retries.retry_due(clock.now())
    attempts = _rows(kind)
    assert len(attempts) == len(retries.RETRY_AFTER) + 1
    assert attempts[-1].state is MessageState.FAILED_PERMANENT and attempts[-1].details["given_up"]
    assert not twilio.sms_sent_to(to)


def test_a_page_test_sent_after_a_retry_is_judged_on_what_its_sms_became(org, twilio, clock):
    twilio.fail_next("sms", **TEMPORARY)
    _page_test(clock)
    test = session.scalar(select(PageTest))
    assert test.sms_sid is None and test.sms_status == "sending"
    clock.advance(seconds=31)
    sweep()
    test = session.get(PageTest, test.id, populate_existing=True)
    assert test.sms_sid == twilio.sms_to(ALICE).sid
    assert twilio.status(twilio.sms_to(ALICE), "delivered") == 200
    assert pagetests.verdict(session.get(PageTest, test.id, populate_existing=True)) == "ok"


def test_astreinte_outbox_says_when_a_message_is_tried_again_and_when_it_was_given_up(
    app, org, twilio, clock
):
    twilio.fail_next("sms", times=len(retries.RETRY_AFTER) + 1, **TEMPORARY)
    _pin_lock(clock)
    shown = app.test_cli_runner().invoke(args=["outbox", "--limit", "1"]).output
    assert "pin_lock" in shown and "failed_temporary" in shown and "[tried again at 23:10:30]" in shown
    for _ in range(30):
        clock.advance(minutes=1)
        retries.retry_due(clock.now())
    shown = app.test_cli_runner().invoke(args=["outbox", "--limit", "1"]).output
    assert "failed_permanent" in shown and "[given up after its last try]" in shown

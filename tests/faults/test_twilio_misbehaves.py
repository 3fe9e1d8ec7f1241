"""Twilio misbehaves: errors, hangs, answers that come too late, dropped connections, and a share of
every request failing at random. Every callout still reaches a human; a request that may have reached
Twilio is looked up, never blindly sent again; every failure is kept with its code."""

from __future__ import annotations

import socket
from collections import Counter

import pytest
from sqlalchemy import select

from models import (
    Call,
    Callout,
    CalloutState,
    Channel,
    MessageState,
    OutgoingMessage,
    Page,
    Person,
    TicketEvent,
    session,
)
from oncall import retries
from oncall.sweeper import sweep
from oncall.voicemails import receipt_topic, send_receipt
from tests.factories import told

from ..oncall_helpers import ALICE, BRUNO, CALLER, leave_voicemail, refreshed
from ..twilio_standin import fixtures

app_config, twilio_server, twilio = fixtures()


def _pages(callout: Callout) -> list[Page]:
    return list(session.scalars(select(Page).where(Page.callout_id == callout.id).order_by(Page.id)))


def test_a_page_sms_twilio_accepted_but_answered_too_late_is_not_sent_again(twilio, clock):
    twilio.fail_next("sms", status=201, delay=1.6, accept=True)  # past the client's 1 s timeout
    callout = leave_voicemail("104233")
    assert len(twilio.sms_sent_to(ALICE)) == 1
    sms_page = next(p for p in _pages(callout) if p.channel.value == "sms")
    assert sms_page.twilio_sid == twilio.sms_to(ALICE).sid  # found by the look-up, kept
    row = session.scalar(select(OutgoingMessage).where(OutgoingMessage.page_id == sms_page.id))
    assert row.state is MessageState.SENT and row.carrier_id == sms_page.twilio_sid  # the outbox says so too
    clock.advance(minutes=3)
    sweep()
    assert len(twilio.sms_sent_to(ALICE)) == 1


def test_a_page_call_twilio_accepted_but_answered_too_late_is_not_placed_again(twilio, clock):
    twilio.fail_next("call", status=201, delay=1.6, accept=True)
    callout = leave_voicemail("104233")
    assert len(twilio.calls_to(ALICE)) == 1
    call_page = next(p for p in _pages(callout) if p.channel.value == "voice")
    assert call_page.twilio_sid == twilio.call_to(ALICE).sid


def test_a_page_whose_look_up_also_fails_is_looked_up_again_before_any_second_send(twilio, clock):
    twilio.fail_next("sms", status=201, delay=1.6, accept=True)
    twilio.fail_next("lookup", status=503, code=20503)
    callout = leave_voicemail("104233")
    sms_page = next(p for p in _pages(callout) if p.channel.value == "sms")
    assert sms_page.status == "pending" and sms_page.error_code == "maybe-sent"
    clock.advance(minutes=1)
    sweep()
    assert len(twilio.sms_sent_to(ALICE)) == 1
    assert session.get(Page, sms_page.id, populate_existing=True).twilio_sid == twilio.sms_to(ALICE).sid


def test_a_dropped_connection_is_retried_and_the_page_arrives_once(twilio, clock):
    twilio.fail_next("sms", status=0)
    callout = leave_voicemail("104233")
    assert not twilio.sms_sent_to(ALICE)
    clock.advance(minutes=1)
    sweep()
    assert len(twilio.sms_sent_to(ALICE)) == 1
    events = session.scalars(select(TicketEvent).where(TicketEvent.kind == "page_error")).all()
    assert events and refreshed(callout).state is CalloutState.PAGING


def test_undelivered_with_a_real_code_is_shown_and_the_next_step_still_pages(twilio, clock):
    callout = leave_voicemail("104233")
    assert twilio.status(twilio.sms_to(ALICE), "undelivered", error_code="30003") == 200
    assert twilio.status(twilio.call_to(ALICE), "failed", error_code="31005") == 200
    pages = _pages(callout)
    assert {(p.channel.value, p.status, p.error_code) for p in pages} == {
        ("sms", "undelivered", "30003"),
        ("voice", "failed", "31005"),
    }
    texts = [told(e) for e in session.scalars(select(TicketEvent).where(TicketEvent.kind == "page_failed"))]
    assert any("30003" in t for t in texts) and any("31005" in t for t in texts)
    clock.advance(minutes=10)
    sweep()
    assert twilio.sms_sent_to(BRUNO) and twilio.calls_to(BRUNO)


def test_a_call_status_that_never_arrives_does_not_stop_the_policy(twilio, clock):
    leave_voicemail("104233")  # the call to alice is placed; Twilio never calls back
    clock.advance(minutes=5)
    sweep()
    assert len(twilio.calls_to(ALICE)) == 2
    clock.advance(minutes=5)
    sweep()
    assert twilio.sms_sent_to(BRUNO) and twilio.calls_to(BRUNO)


def test_a_receipt_twilio_accepted_but_answered_too_late_is_not_sent_again(twilio, clock):
    callout = leave_voicemail("104233")
    call_id = _hung_up(callout)
    twilio.fail_next("sms", status=201, delay=1.6, accept=True)
    send_receipt(call_id)
    assert retries.fate(receipt_topic(call_id)).state is MessageState.MAYBE_SENT
    clock.advance(minutes=3)
    sweep()  # looked up at Twilio first: found, not sent again
    send_receipt(call_id)
    assert len(twilio.sms_sent_to(CALLER)) == 1
    receipt = retries.fate(receipt_topic(call_id))
    assert receipt.carrier_id == twilio.sms_to(CALLER).sid and receipt.state is MessageState.SENT


def test_a_receipt_being_sent_by_the_job_is_not_sent_by_the_sweeper_too(twilio, clock):
    callout = leave_voicemail("104233")
    call = session.get(Call, _hung_up(callout))
    session.add(  # the job holds it, its request in flight
        OutgoingMessage(
            kind="receipt",
            channel=Channel.SMS,
            to_address=CALLER,
            state=MessageState.SENDING,
            body="Votre message est transmis",
            details={"topic": receipt_topic(call.id), "round": 1},
        )
    )
    session.commit()
    clock.advance(minutes=1, seconds=30)
    sweep()
    assert not twilio.sms_sent_to(CALLER)
    clock.advance(minutes=1)  # the job's round is abandoned: the sweeper looks it up, then sends
    sweep()
    assert len(twilio.sms_sent_to(CALLER)) == 1


def test_a_receipt_that_failed_plainly_is_sent_by_the_next_try(twilio, clock):
    callout = leave_voicemail("104233")
    twilio.fail_next("sms", status=503, code=20503)
    call_id = _hung_up(callout)
    send_receipt(call_id)
    assert not twilio.sms_sent_to(CALLER)
    assert retries.retrying(retries.fate(receipt_topic(call_id)))
    clock.advance(minutes=2)
    sweep()
    assert len(twilio.sms_sent_to(CALLER)) == 1


def _hung_up(callout: Callout) -> int:
    """The caller hung up after the message (the call ended now): the sweeper's receipts see it."""
    call = session.get(Call, callout.voicemail.call_id)
    call.ended_at = call.started_at
    session.commit()
    return call.id


def _night(twilio, clock, callouts: int, rate: float, seed: int) -> dict[str, int]:
    """`callouts` messages on the three after-hours tickets, spread over a night, with `rate` of
    Twilio's answers failing; the technician takes over each as soon as a page reaches her."""
    twilio.chaos(rate, seed=seed)
    opened: list[Callout] = []
    reached: dict[int, str] = {}
    tickets = ["104233", "104240"]
    for i in range(callouts):
        callout = leave_voicemail(tickets[i % 2])
        opened.append(callout)
        send_receipt(_hung_up(callout))
        for _ in range(12):  # two minutes, in ten-second sweeps: retries, the other channel, the next step
            people = {p.person_id: session.get(Person, p.person_id).phone for p in _pages(callout)}
            got = [
                pid for pid, phone in people.items() if twilio.sms_sent_to(phone) or twilio.calls_to(phone)
            ]
            fresh = [
                pid
                for pid in got
                if any(
                    p.twilio_sid and p.person_id == pid and p.callout_id == callout.id
                    for p in _pages(callout)
                )
            ]
            if fresh:
                reached[callout.id] = fresh[0]
                twilio.chaos(0)
                twilio.reply(people[fresh[0]], f"OK {callout.ticket.number}")
                twilio.chaos(rate, seed=seed + i)
                break
            clock.advance(seconds=10)
            sweep()
        clock.advance(minutes=3)
        sweep()
    twilio.chaos(0)
    clock.advance(minutes=5)
    sweep()
    taken = sum(refreshed(c).state is CalloutState.TAKEN_OVER for c in opened)
    to_caller = Counter(m.body for m in twilio.messages if m.to == CALLER)
    return {
        "tried": callouts,
        "reached": len(reached),
        "taken": taken,
        "receipts": sum(1 for body in to_caller if "est transmis" in body),
        "takeover_sms": sum(1 for body in to_caller if "a pris en charge votre demande" in body),
        "duplicated": sum(n - 1 for n in to_caller.values()),
        "injected": len(twilio.state.injected),
    }


def test_thirty_percent_of_twilio_failing_every_callout_still_reaches_a_human(twilio, clock):
    figures = _night(twilio, clock, callouts=12, rate=0.3, seed=7)
    assert figures["injected"] > 0
    assert figures["reached"] == figures["tried"] == figures["taken"], figures
    assert figures["receipts"] == figures["takeover_sms"] == figures["tried"], figures
    assert figures["duplicated"] == 0, figures  # no caller told twice


@pytest.mark.slow
def test_fifty_callouts_with_thirty_percent_of_twilio_failing_lose_nothing_and_tell_no_caller_twice(
    twilio, clock
):
    figures = _night(twilio, clock, callouts=50, rate=0.3, seed=11)
    print("30 % REST errors:", figures)
    assert figures["reached"] == figures["tried"] == figures["taken"], figures
    assert figures["receipts"] == figures["takeover_sms"] == figures["tried"], figures
    assert figures["duplicated"] == 0, figures


def test_twilio_refusing_connections_is_retried_and_the_page_arrives_once(app, twilio, clock):
    with socket.socket() as s:  # a port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    app.config["TWILIO_API_BASE_URL"] = f"http://127.0.0.1:{closed}"
    app.extensions.pop("twilio", None)
    callout = leave_voicemail("104233")
    pages = _pages(callout)
    assert all(p.status == "pending" and p.twilio_sid is None for p in pages)  # refused: never reached
    assert all(p.error_code != "maybe-sent" for p in pages)
    app.config["TWILIO_API_BASE_URL"] = twilio.base_url
    app.extensions.pop("twilio", None)
    clock.advance(minutes=1)
    sweep()
    assert len(twilio.sms_sent_to(ALICE)) == 1 and len(twilio.calls_to(ALICE)) == 1

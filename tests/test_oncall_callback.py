"""Calling the client back stays masked: from the take-over page astreinte calls the technician, then
the client, showing the support number; while they talk, paging of that callout is held; afterwards
1 takes over on the same line, or paging resumes. Key 3 in the page call holds paging likewise."""

from __future__ import annotations

import re

from models import CalloutState, Page, TicketEvent, session
from oncall.sweeper import sweep
from tickets.timeline import tell

from .conftest import PARIS
from .oncall_helpers import ALICE, BRUNO, CALLER, leave_voicemail, refreshed
from .twilio_standin import fixtures

app_config, twilio_server, twilio = fixtures()

SUPPORT = "+33272646172"


def _link(body: str) -> str:
    return re.search(r"https://astreinte\.example\.test(/o/\S+)", body).group(1)


def _pages_to(person: str) -> int:
    return session.query(Page).filter(Page.person_id == person).count()


def test_the_take_over_page_calls_the_technician_then_the_client_from_the_support_number(
    twilio, clock, client
):
    callout = leave_voicemail("104233")
    link = _link(twilio.sms_to(ALICE).body)
    html = client.get(link).get_data(as_text=True)
    assert "tel:" not in html and "Appeler le client via l&#39;astreinte" in html
    assert "06 11 22 33 44" not in html and "611223344" not in html  # nothing to dial from their own phone
    asked = client.post(f"{link}/call/{callout.id}")
    assert asked.status_code == 200 and "Nous vous appelons au +33612345678" in asked.get_data(as_text=True)

    again = client.post(f"{link}/call/{callout.id}")  # a second tap while the first call is on
    assert again.status_code == 409 and "déjà en cours" in again.get_data(as_text=True)
    placed = twilio.calls_to(ALICE)[-1]
    assert len(twilio.calls_to(ALICE)) == 2  # the page call, and the one she asked for
    assert placed.from_ == SUPPORT
    alice = twilio.ring(placed)
    alice.expect("Requête 1 0 4 2 3 3 : nous appelons le client, qui verra le numéro du support")
    assert alice.pending == "dial" and alice.dialed == [CALLER]
    assert f'callerId="{SUPPORT}"' in alice.last_twiml and ALICE not in alice.last_twiml

    clock.advance(minutes=12)  # the backup's step (+10 min) and a repeat come and go while they talk
    sweep()
    assert _pages_to("bruno") == 0 and not twilio.calls_to(BRUNO)
    assert refreshed(callout).state is CalloutState.PAGING

    alice.dial_answered(seconds=12 * 60)
    alice.expect("Pour prendre en charge la requête 1 0 4 2 3 3, tapez 1").press("1")
    alice.expect("vous avez pris en charge la requête 1 0 4 2 3 3")
    taken = refreshed(callout)
    assert taken.state is CalloutState.TAKEN_OVER and taken.taken_over_by == "alice"
    clock.advance(minutes=30)
    sweep()
    assert _pages_to("bruno") == 0


def test_after_the_call_without_a_takeover_paging_resumes(twilio, clock, client):
    callout = leave_voicemail("104233")
    link = _link(twilio.sms_to(ALICE).body)
    client.post(f"{link}/call/{callout.id}")
    alice = twilio.ring(twilio.calls_to(ALICE)[-1])
    clock.advance(minutes=12)
    sweep()
    assert _pages_to("bruno") == 0
    alice.dial_answered(seconds=60).silence()  # no key: goodbye
    assert alice.ended
    events = [e for e in refreshed(callout).ticket.events if e.kind == "client_call"]
    assert (
        tell(events[-1], "fr", PARIS)
        == "Alice Martin appelle le client via l'astreinte (alerte suspendue jusqu'à 23:22)"
    )
    clock.advance(minutes=3)  # the grace after the call
    sweep()
    assert _pages_to("bruno") >= 1  # the backup's step was due: it runs now


def test_the_technician_not_picking_up_the_call_they_asked_for_ends_the_hold(twilio, clock, client):
    callout = leave_voicemail("104233")
    link = _link(twilio.sms_to(ALICE).body)
    client.post(f"{link}/call/{callout.id}")
    assert twilio.ring(twilio.calls_to(ALICE)[-1], answer="no-answer") is None
    held = [e for e in refreshed(callout).ticket.events if e.kind == "client_call"]
    assert held and held[-1].data.get("ended")


def test_key_3_in_the_page_call_holds_paging_while_the_technician_talks_to_the_client(twilio, clock):
    callout = leave_voicemail("104233")
    call = twilio.ring(twilio.call_to(ALICE))
    call.press("3").expect("Mise en relation avec le client")
    assert call.dialed == [CALLER] and f'callerId="{SUPPORT}"' in call.last_twiml
    clock.advance(minutes=15)
    sweep()
    assert _pages_to("bruno") == 0
    call.dial_answered(seconds=15 * 60)
    call.expect("tapez 1").press("1")
    assert refreshed(callout).taken_over_via.value == "voice"


def test_a_forged_or_foreign_call_back_request_changes_nothing(twilio, clock, client, phone):
    callout = leave_voicemail("104233")
    assert client.post(f"/o/forged/call/{callout.id}").status_code == 404
    link = _link(twilio.sms_to(ALICE).body)
    assert client.post(f"{link}/call/{callout.id + 99}").status_code == 404
    for path in (
        f"/voice/callback/connect?callout={callout.id}&person=alice",
        f"/voice/callback/ended?callout={callout.id}&person=alice",
        f"/voice/callback/key?callout={callout.id}&person=alice",
        f"/voice/callback/status?callout={callout.id}",
    ):
        assert client.post(path, data={"CallSid": "CA" + "1" * 32, "Digits": "1"}).status_code == 403
    status, body = phone.send(
        f"/voice/callback/key?callout={callout.id}&person=alice",
        {"CallSid": "CA" + "1" * 32, "To": BRUNO, "Digits": "1"},  # signed, but not Alice's phone
    )
    assert status == 200 and "<Hangup" in body
    assert refreshed(callout).state is CalloutState.PAGING
    assert session.query(TicketEvent).filter(TicketEvent.kind == "client_call").count() == 0

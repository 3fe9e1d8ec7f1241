"""Twilio's status callbacks as they really arrive: out of order, for SIDs we never sent, with error
codes; and page calls answered by something that is not the technician."""

from __future__ import annotations

from sqlalchemy import select

from models import CalloutState, Page, TicketEvent, session

from .factories import told
from .oncall_helpers import ALICE, leave_voicemail, refreshed
from .twilio_standin import fixtures

app_config, twilio_server, twilio = fixtures()


def _page(sid: str) -> Page:
    return session.scalar(select(Page).where(Page.twilio_sid == sid))


def _post(twilio, path: str, params: dict[str, str]) -> int:
    return twilio.phone.send(path, params)[0]


def test_a_call_completed_before_its_ringing_callback_stays_completed(twilio, clock):
    leave_voicemail("104233")
    call = twilio.call_to(ALICE)
    assert twilio.status(call, "completed") == 200
    assert twilio.status(call, "ringing") == 200
    assert twilio.status(call, "initiated") == 200
    assert _page(call.sid).status == "completed"


def test_a_callback_for_an_unknown_sid_is_answered_200_and_changes_nothing(twilio, clock):
    callout = leave_voicemail("104233")
    before = {(p.id, p.status) for p in session.scalars(select(Page))}
    assert _post(twilio, "/voice/pages/status", {"CallSid": "CAunknown", "CallStatus": "busy"}) == 200
    assert _post(twilio, "/sms/status", {"MessageSid": "SMunknown", "MessageStatus": "failed"}) == 200
    session.expire_all()
    assert {(p.id, p.status) for p in session.scalars(select(Page))} == before
    assert refreshed(callout).state is CalloutState.PAGING
    assert _post(twilio, "/voice/pages/status", {"CallStatus": "busy"}) == 400  # no CallSid at all


def test_the_error_code_of_a_failed_sms_is_kept_and_logged(twilio, clock):
    leave_voicemail("104233")
    sms = twilio.sms_to(ALICE)
    twilio.status(sms, "sent")
    twilio.status(sms, "undelivered", error_code="30006")
    twilio.status(sms, "undelivered", error_code="30006")  # a duplicate
    page = _page(sms.sid)
    assert (page.status, page.error_code) == ("undelivered", "30006")
    events = session.scalars(select(TicketEvent).where(TicketEvent.kind == "page_failed")).all()
    assert [told(e) for e in events] == [
        "SMS vers Alice Martin : non remis (erreur 30006 : ligne fixe ou opérateur injoignable, pas de SMS)"
    ]


def test_a_fax_answering_is_not_a_takeover(twilio, clock):
    callout = leave_voicemail("104233")
    placed = twilio.call_to(ALICE)
    call = twilio.phone.answer(
        placed.url, call_sid=placed.sid, to=ALICE, answered_by="fax", status_callback=placed.status_callback
    )
    assert call.ended and not call.said
    assert (_page(placed.sid).status, _page(placed.sid).answered_by) == ("machine", "fax")
    assert refreshed(callout).state is CalloutState.PAGING


def test_answering_and_hanging_up_without_a_key_is_not_a_takeover(twilio, clock):
    callout = leave_voicemail("104233")
    call = twilio.ring(twilio.call_to(ALICE))
    call.expect("Bonjour Alice")
    twilio.status(twilio.call_to(ALICE), "completed")
    assert refreshed(callout).state is CalloutState.PAGING and refreshed(callout).next_action_at is not None


def test_pressing_1_again_after_taking_over_does_not_name_yourself(twilio, clock):
    leave_voicemail("104233")
    call = twilio.ring(twilio.call_to(ALICE))
    call.press("1").expect("vous avez pris en charge la requête")
    call.press("1").expect("vous avez pris en charge la requête")
    assert not any("déjà été prise en charge par Alice" in line for line in call.said)


def test_one_minute_left_is_said_in_the_singular(twilio, clock):
    leave_voicemail("104233")
    clock.advance(minutes=28, seconds=30)
    call = twilio.ring(twilio.call_to(ALICE))
    call.expect("Il reste 1 minute.")
    assert not any("1 minutes" in line for line in call.said)

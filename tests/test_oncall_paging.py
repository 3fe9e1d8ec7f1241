"""A voicemail pages the on-call technician by SMS and by a call, then the policy runs on the clock:
re-page, backup, breach, escalation levels 1 to 3."""

from __future__ import annotations

from sqlalchemy import select

from models import CalloutState, Page, TicketEvent, session
from oncall.sweeper import sweep

from .oncall_helpers import ALICE, BRUNO, CALLER, CHLOE, DAVID, EMMA, leave_voicemail, refreshed
from .twilio_standin import fixtures

app_config, twilio_server, twilio = fixtures()


def test_the_first_page_is_an_sms_and_a_call_to_the_primary(twilio, clock):
    leave_voicemail("104233")
    sms = twilio.sms_to(ALICE)
    assert sms.body.startswith("Astreinte 104233 Boulangerie Dupont SDSL-4471 prio Élevée, reste 30 min")
    assert f"Client : {CALLER}" in sms.body and "OK 104233" in sms.body
    assert "https://astreinte.example.test/o/" in sms.body
    call = twilio.call_to(ALICE)
    assert call.url.startswith("https://astreinte.example.test/voice/pages/call")
    assert call.machine_detection == "Enable" and call.status_callback.endswith("/voice/pages/status")
    assert call.from_ == "+33272646172"
    assert not twilio.sms_sent_to(BRUNO) and not twilio.calls_to(BRUNO)


def test_nobody_answers_so_alice_is_called_again_then_bruno_is_paged(twilio, clock):
    leave_voicemail("104233")
    twilio.ring(twilio.call_to(ALICE), answer="no-answer")
    clock.advance(minutes=4)
    sweep()
    assert len(twilio.calls_to(ALICE)) == 1
    clock.advance(minutes=1)
    sweep()
    assert len(twilio.calls_to(ALICE)) == 2 and len(twilio.sms_sent_to(ALICE)) == 1  # step 2: voice only
    clock.advance(minutes=5)
    sweep()
    assert twilio.sms_to(BRUNO).body.startswith("Astreinte 104233")
    assert "reste 20 min" in twilio.sms_to(BRUNO).body
    assert len(twilio.calls_to(BRUNO)) == 1


def test_the_deadline_passes_with_nobody_then_escalation_runs_levels_1_to_3(twilio, clock):
    callout = leave_voicemail("104233")
    clock.advance(minutes=30, seconds=1)
    sweep()
    callout = refreshed(callout)
    assert callout.breached and callout.escalation_level == 0
    assert session.scalar(select(TicketEvent).where(TicketEvent.kind == "breach")) is not None
    clock.advance(minutes=15)
    sweep()
    assert refreshed(callout).escalation_level == 1
    assert "délai dépassé de 15 min" in twilio.sms_to(CHLOE).body
    clock.advance(minutes=15)
    sweep()
    assert refreshed(callout).escalation_level == 2 and twilio.calls_to(DAVID)
    clock.advance(minutes=30)
    sweep()
    assert refreshed(callout).escalation_level == 3
    assert twilio.sms_to(EMMA).body.startswith("On-call 104233 Boulangerie Dupont SDSL-4471 priority High")
    assert refreshed(callout).state is CalloutState.PAGING and refreshed(callout).next_action_at is None


def test_a_page_is_not_sent_for_a_callout_taken_over_before_its_step(twilio, clock):
    callout = leave_voicemail("104233")
    twilio.reply(ALICE, "OK 104233")
    clock.advance(minutes=20)
    sweep()
    assert len(twilio.calls_to(ALICE)) == 1 and not twilio.calls_to(BRUNO)
    assert refreshed(callout).state is CalloutState.TAKEN_OVER


def test_every_page_keeps_its_twilio_sid(twilio, clock):
    callout = leave_voicemail("104233")
    pages = session.scalars(select(Page).where(Page.callout_id == callout.id)).all()
    assert {(p.person_id, p.channel.value) for p in pages} == {("alice", "sms"), ("alice", "voice")}
    assert {p.twilio_sid for p in pages} == {twilio.sms_to(ALICE).sid, twilio.call_to(ALICE).sid}


def test_a_cancelled_callout_pages_nobody_any_more(twilio, clock):
    from oncall.callouts import cancel_callouts

    callout = leave_voicemail("104233")
    assert cancel_callouts(callout.ticket_id, "requête résolue par le service desk", actor="desk") == 1
    call = twilio.ring(twilio.call_to(ALICE))
    call.expect("Plus aucune alerte n'est en attente")
    clock.advance(minutes=60)
    sweep()
    assert len(twilio.calls_to(ALICE)) == 1 and not twilio.calls_to(BRUNO)
    callout = refreshed(callout)
    assert callout.state is CalloutState.CANCELLED and not callout.breached


def test_the_page_sms_keeps_its_accents_and_fits_three_segments(twilio, clock):
    leave_voicemail("104233")
    body = twilio.sms_to(ALICE).body
    assert "Élevée" in body and "Répondez" in body  # sent as UCS-2 by Twilio, never mangled to "?"
    assert len(body) <= 3 * 67, len(body)  # 67 UCS-2 characters per segment of a long SMS

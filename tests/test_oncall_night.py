"""The hard parts of a night: declines, bundling, throttling, Twilio errors, duplicate callbacks,
a gap in the rota, a daylight-saving night and a handoff in the middle of a callout."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml
from sqlalchemy import select

from models import Callout, CalloutState, Channel, Page, Person, TicketEvent, session
from oncall.sweeper import sweep
from org.load import current_org, load

from .conftest import ORG_FILE, paris
from .factories import told
from .oncall_helpers import ALICE, BRUNO, CALLER, CHLOE, EMMA, leave_voicemail, refreshed
from .twilio_standin import fixtures

app_config, twilio_server, twilio = fixtures()


def _page(sid: str) -> Page:
    return session.scalar(select(Page).where(Page.twilio_sid == sid))


def _events(kind: str) -> list[TicketEvent]:
    return list(session.scalars(select(TicketEvent).where(TicketEvent.kind == kind)))


# --- declining ------------------------------------------------------------------------------------


def test_alice_declines_with_9_and_the_backup_is_paged_at_once(twilio, clock):
    callout = leave_voicemail("104233")
    call = twilio.ring(twilio.call_to(ALICE))
    clock.advance(minutes=2)
    call.press("9").expect("nous prévenons la personne suivante")
    assert call.ended
    assert twilio.sms_to(BRUNO).body.startswith("Astreinte 104233") and twilio.calls_to(BRUNO)
    assert _page(twilio.call_to(ALICE).sid).status == "declined"
    twilio.status(twilio.call_to(ALICE), "completed")  # Twilio's later status keeps the decline
    assert _page(twilio.call_to(ALICE).sid).status == "declined"
    clock.advance(minutes=5)
    sweep()
    assert len(twilio.calls_to(ALICE)) == 1  # the re-page of alice was skipped: she declined
    assert refreshed(callout).next_step == 3  # next: the supervisor at 45 min


def test_a_decline_replayed_climbs_one_step_only(twilio, clock):
    """Before: the signed request of key 9 sent five times climbed four steps and paged the backup,
    the supervisor, the manager and the director within seconds."""
    callout = leave_voicemail("104233")
    call = twilio.ring(twilio.call_to(ALICE))
    call.press("9").expect("nous prévenons la personne suivante")
    nine = next(i for i, sent in enumerate(call.requests) if sent.params.get("Digits") == "9")
    step = refreshed(callout).next_step
    for _ in range(4):
        status, _body = call.replay(nine)
        assert status == 200
    callout = refreshed(callout)
    assert callout.next_step == step and callout.escalation_level == 0
    assert not twilio.sms_sent_to(CHLOE)
    assert len(_events("decline")) == 1


# --- bundling and throttling ------------------------------------------------------------------------


def test_two_callouts_waiting_for_alice_make_one_sms_and_one_call(twilio, clock):
    first = leave_voicemail("104233", page=False)  # Redis was down: the sweeper finds both
    second = leave_voicemail("104240", page=False)
    sweep()
    assert len(twilio.sms_sent_to(ALICE)) == 1 and len(twilio.calls_to(ALICE)) == 1
    body = twilio.sms_to(ALICE).body
    assert body.startswith(
        "Astreinte : 2 alertes. 104233 Boulangerie Dupont (avant 23:40); 104240 Boulangerie Dupont (avant 23:40)"
    )
    assert "104240 Boulangerie Dupont (avant 23:40" in body
    call = twilio.ring(twilio.call_to(ALICE))
    call.expect("Vous avez 2 alertes en attente").expect("Requête 1 0 4 2 3 3")
    call.press("1").expect("pris en charge la requête 1 0 4 2 3 3").expect("Alerte suivante")
    call.expect("Requête 1 0 4 2 4 0")
    call.press("1").expect("pris en charge la requête 1 0 4 2 4 0")
    assert refreshed(first).state is refreshed(second).state is CalloutState.TAKEN_OVER


def test_a_callout_arriving_while_alice_is_ringing_rides_on_that_call(twilio, clock):
    leave_voicemail("104233")
    clock.advance(seconds=20)
    leave_voicemail("104240")
    assert len(twilio.calls_to(ALICE)) == 1  # no second call: the first one carries both
    assert len(twilio.sms_sent_to(ALICE)) == 1  # the SMS waits for the throttle…
    clock.advance(seconds=10)
    sweep()
    assert len(twilio.sms_sent_to(ALICE)) == 2  # …then goes, 30 s after the first
    assert twilio.sms_to(ALICE).body.startswith("Astreinte 104240")
    twilio.ring(twilio.call_to(ALICE)).expect("Vous avez 2 alertes en attente")


def test_no_number_is_called_more_often_than_the_minimum_interval(twilio, clock):
    leave_voicemail("104233")
    twilio.ring(twilio.call_to(ALICE), answer="busy")
    clock.advance(seconds=20)
    leave_voicemail("104240")
    assert len(twilio.calls_to(ALICE)) == 1
    pending = session.scalar(select(Page).where(Page.status == "pending", Page.channel == "voice"))
    assert pending.retry_at == paris("2026-11-24 23:11")
    clock.advance(seconds=30)
    sweep()
    assert len(twilio.calls_to(ALICE)) == 1
    clock.advance(seconds=10)
    sweep()
    assert len(twilio.calls_to(ALICE)) == 2 and twilio.call_to(ALICE).at == paris("2026-11-24 23:11")


# --- Twilio errors --------------------------------------------------------------------------------


def test_a_rate_limited_sms_is_retried_with_backoff(twilio, clock):
    twilio.fail_next("sms", status=429, code=20429)
    leave_voicemail("104233")
    assert not twilio.sms_sent_to(ALICE) and twilio.calls_to(ALICE)
    page = session.scalar(select(Page).where(Page.channel == "sms"))
    assert (page.status, page.error_code, page.attempts) == ("pending", "20429", 1)
    clock.advance(seconds=30)
    sweep()
    assert twilio.sms_to(ALICE).body.startswith("Astreinte 104233")
    page = session.scalar(select(Page).where(Page.channel == "sms"))
    assert page.attempts == 2 and page.twilio_sid == twilio.sms_to(ALICE).sid


def test_twilio_failing_or_hanging_is_retried_until_it_gives_up(twilio, clock):
    twilio.fail_next("call", status=503, code=20503)
    twilio.fail_next("call", status=500, code=None, delay=1.5)  # past the client's 1 s timeout
    leave_voicemail("104233")
    for seconds in (30, 60):
        clock.advance(seconds=seconds)
        sweep()
    assert twilio.calls_to(ALICE)
    page = _page(twilio.call_to(ALICE).sid)
    assert page.attempts == 3


def test_an_invalid_number_falls_to_sms_then_to_the_next_step(twilio, clock):
    leave_voicemail("104233")
    clock.advance(minutes=5)
    twilio.fail_next("call", status=400, code=21211)  # the re-page call: permanent
    twilio.fail_next("sms", status=400, code=21614)  # and its fallback SMS too
    sweep()
    failed = session.scalars(select(Page).where(Page.step == 1)).all()
    assert {(p.channel.value, p.status, p.error_code) for p in failed} == {
        ("voice", "failed", "21211"),
        ("sms", "failed", "21614"),
    }
    assert twilio.calls_to(BRUNO)  # the backup, five minutes early
    assert [told(e) for e in _events("page_error")] == [
        "appel vers Alice Martin : échec (erreur 21211 : numéro de destination invalide)",
        "SMS vers Alice Martin : échec (erreur 21614 : ce numéro n'est pas un mobile)",
    ]


def test_a_permanent_call_error_falls_back_to_an_sms(twilio, clock):
    leave_voicemail("104233")
    clock.advance(minutes=5)
    twilio.fail_next("call", status=400, code=21211)
    sweep()
    assert len(twilio.sms_sent_to(ALICE)) == 2 and not twilio.calls_to(BRUNO)


# --- status callbacks -------------------------------------------------------------------------------


def test_duplicate_and_late_status_callbacks_change_nothing(twilio, clock):
    leave_voicemail("104233")
    sms, call = twilio.sms_to(ALICE), twilio.call_to(ALICE)
    assert twilio.status(sms, "delivered") == 200
    assert twilio.status(sms, "delivered") == 200
    assert twilio.status(sms, "sent") == 200  # late: delivered stays
    assert _page(sms.sid).status == "delivered"
    twilio.ring(call, answer="no-answer")
    twilio.ring(call, answer="no-answer")
    assert _page(call.sid).status == "no-answer"
    assert len(_events("page_failed")) == 1
    twilio.status(sms, "undelivered", error_code="30003")
    assert _page(sms.sid).error_code == "30003"


# --- the rota ---------------------------------------------------------------------------------------


@pytest.fixture
def doc() -> dict:
    return yaml.safe_load(ORG_FILE.read_text())


def test_a_gap_in_the_rota_runs_the_next_step_now_and_shows_on_healthz(twilio, clock, client, doc):
    doc["rota"]["backup"] = []
    load(doc)
    health = client.get("/healthz")
    assert health.status_code == 200  # a warning: the phone line stays in the load balancer
    assert any("astreinte de secours" in p for p in health.get_json()["warnings"])
    callout = leave_voicemail("104233")
    clock.advance(minutes=10)
    sweep()
    texts = [m.body for m in twilio.sms_sent_to(CHLOE)]
    assert texts[0].startswith("Astreinte 104233")  # the supervisor, 35 min early
    assert texts[1].startswith("Astreinte : personne n'est renfort en ce moment.")  # and the rota's gap
    assert refreshed(callout).escalation_level == 1
    assert "Personne pour le rôle « astreinte de secours »" in told(_events("gap")[0])


def test_a_handoff_in_the_middle_of_a_callout_pages_the_new_week(twilio, clock):
    # Easter Monday 2027: a public holiday, the astreinte answers all day; the week changes at 18:00.
    clock.set("2027-03-29 17:55")
    leave_voicemail("104233")
    assert twilio.sms_to(BRUNO).body.startswith("Astreinte 104233") and twilio.calls_to(BRUNO)
    clock.advance(minutes=5)
    sweep()
    assert twilio.calls_to(ALICE) and twilio.call_to(ALICE).at == paris("2027-03-29 18:00")
    clock.advance(minutes=5)
    sweep()
    assert len(twilio.sms_sent_to(BRUNO)) == 2  # bruno is the backup of the new week


def test_a_daylight_saving_night_pages_by_elapsed_time_and_speaks_local_time(twilio, clock, doc):
    doc["rota"]["start"] = "2026-10-05"
    load(doc)
    org = current_org()
    clock.set("2026-10-25 01:50")  # CEST; at 03:00 CEST the clocks go back to 02:00 CET
    callout = leave_voicemail("104233")
    assert twilio.sms_to(BRUNO)  # the week of 19 October
    for _ in range(18):  # 90 minutes, five at a time
        clock.advance(minutes=5)
        sweep()
    director = twilio.sms_to(EMMA)
    assert director.at == datetime(2026, 10, 25, 1, 20, tzinfo=UTC)  # 02:20 CET, 90 min after 01:50 CEST
    assert refreshed(callout).escalation_level == 3 and refreshed(callout).breached
    clock.advance(minutes=5)
    twilio.reply(EMMA, "OK 104233")
    assert twilio.sms_to(CALLER).body.endswith(
        "Emma a pris en charge votre demande 104233 à 02:25. Suivi : support.serveurcom.com"
    )
    assert refreshed(callout).taken_over_at.astimezone(org.timezone).strftime("%H:%M %Z") == "02:25 CET"


def test_a_page_left_half_sent_by_a_dead_worker_is_sent_again(twilio, clock):
    callout = leave_voicemail("104233", page=False)
    from oncall.paging import create_page

    page = create_page(callout, session.get(Person, "alice"), Channel.SMS, 0)
    page.status, page.sent_at = "sending", clock.now()  # the worker died before Twilio answered
    callout.next_step, callout.next_action_at = 1, paris("2026-11-24 23:15")  # step 0 had run
    session.commit()
    clock.advance(minutes=1)
    sweep()
    assert not twilio.sms_sent_to(ALICE)  # it may still be on its way
    clock.advance(minutes=2)
    sweep()
    assert twilio.sms_sent_to(ALICE) and not twilio.calls_to(ALICE)


def test_the_caller_is_told_by_sms_when_the_deadline_passes_and_then_who_took_over(twilio, clock):
    callout_id = leave_voicemail("104233").id
    clock.advance(minutes=30, seconds=1)
    sweep()
    sweep()  # once only
    told = [m.body for m in twilio.sms_sent_to(CALLER)]
    escalated = [b for b in told if "dépassé" in b]
    assert escalated == [
        "Serveurcom astreinte : le délai de 23:40 est dépassé pour votre demande 104233. "
        "Nous alertons le responsable d'astreinte. Suivi : support.serveurcom.com"
    ]
    clock.advance(minutes=16)
    sweep()
    twilio.reply(CHLOE, "OK 104233")
    assert (
        twilio.sms_to(CALLER).body
        == "Serveurcom astreinte : Chloé a pris en charge votre demande 104233 à 23:56. Suivi : support.serveurcom.com"
    )
    assert session.get(Callout, callout_id).state is CalloutState.TAKEN_OVER

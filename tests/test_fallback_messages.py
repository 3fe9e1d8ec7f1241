"""Every host was down: Twilio played the support number's fallback, which recorded the callers. When
astreinte is back it asks Twilio for those recordings, keeps each as its call's message and pages for
it, once, whichever host finds it first."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import clock as clock_module
from models import Call, Callout, CallOutcome, Person, Ticket, TicketStatus, Voicemail, VoicemailKind, session
from oncall.rota import who_is_on_call
from org.load import current_org, load, read_file
from tests.conftest import ORG_FILE, paris
from tests.phone import ISABELLE
from voice.fallback import recover_messages

from .processes import start_worker, stop_worker, wait_for, worker_env, worker_said
from .twilio_standin import fixtures

app_config, twilio_server, twilio = fixtures()

SUPPORT = "+33272646172"
ALICE = "+33612345678"  # primary on call on Tuesday 24 November 2026 at night
STRANGER = "+33699887766"  # no client's contact


@pytest.fixture(autouse=True)
def one_open_ticket(app, twilio):
    """Isabelle's client has one open ticket the astreinte covers tonight, 104233: its urgent 104245 was
    resolved during the day."""
    ticket = session.scalar(select(Ticket).where(Ticket.number == "104245"))
    assert ticket is not None
    ticket.status = TicketStatus.RESOLVED
    session.commit()


def message_of(call_sid: str) -> Voicemail:
    voicemail = session.scalar(select(Voicemail).join(Call).where(Call.sid == call_sid))
    assert voicemail is not None, f"no message kept for {call_sid}"
    return voicemail


def test_a_message_left_while_astreinte_was_down_is_paged_when_it_is_back(app, twilio, clock):
    call, recording = twilio.fallback_recorded(ISABELLE, SUPPORT, seconds=25)  # 23:10, nobody answered
    clock.advance(minutes=20)  # astreinte is back at 23:30
    assert recover_messages() == 1
    voicemail = message_of(call.sid)
    assert voicemail.recording_sid == recording.sid and voicemail.kind is VoicemailKind.ASTREINTE
    assert voicemail.ticket.number == "104233"  # Isabelle's only open ticket the astreinte covers
    assert voicemail.call.outcome is CallOutcome.VOICEMAIL and voicemail.call.from_number == ISABELLE
    callout = session.scalar(select(Callout).where(Callout.voicemail_id == voicemail.id))
    assert callout is not None and callout.due_at == paris(
        "2026-11-24 23:40"
    )  # from the message, not the return
    assert twilio.sms_to(ALICE).body.startswith("Astreinte 104233")
    asked = twilio.recording_queries[-1]
    assert asked["DateCreated>"].startswith("2026-11-23T22:30")  # the last 24 hours, in UTC


def test_the_same_recordings_found_again_page_nobody_twice(app, twilio, clock):
    twilio.fallback_recorded(ISABELLE, SUPPORT)
    clock.advance(minutes=5)
    assert recover_messages() == 1
    texts = len(twilio.sms_sent_to(ALICE))
    clock.advance(minutes=5)
    assert recover_messages() == 0  # the next sweep, or the other host
    assert recover_messages() == 0
    assert len(twilio.sms_sent_to(ALICE)) == texts
    assert session.scalar(select(func.count()).select_from(Callout)) == 1


def test_a_message_from_a_number_no_ticket_is_known_for_waits_for_the_desk_and_the_technician_hears_of_it(
    app, twilio, clock
):
    call, _ = twilio.fallback_recorded(STRANGER, SUPPORT, seconds=40)
    clock.advance(minutes=10)
    assert recover_messages() == 1
    voicemail = message_of(call.sid)
    assert voicemail.kind is VoicemailKind.DESK and voicemail.ticket is None  # agents review it
    assert voicemail.call.outcome is CallOutcome.DESK_MESSAGE
    assert session.scalar(select(func.count()).select_from(Callout)) == 0
    sms = twilio.sms_to(ALICE).body
    assert "pendant une panne" in sms and "23:10" in sms
    assert "un numéro finissant par 77 66" in sms and "699887766" not in sms.replace(" ", "")  # not to dial


def test_a_clients_contact_without_a_ticket_for_the_astreinte_is_named_to_the_technician_not_dialled(
    app, twilio, clock
):
    call, _ = twilio.fallback_recorded("+33244556677", SUPPORT, seconds=40)  # Paul Moreau: no option
    clock.advance(minutes=10)
    assert recover_messages() == 1
    assert message_of(call.sid).kind is VoicemailKind.DESK
    sms = twilio.sms_to(ALICE).body
    assert "par Paul Moreau (Cabinet Moreau), requête inconnue" in sms and "service desk" in sms
    assert "244556677" not in sms.replace(" ", "")


def test_recordings_of_other_numbers_and_unfinished_ones_are_left_alone(app, twilio, clock):
    twilio.fallback_recorded(ISABELLE, "+33100000000")  # another number of the same Twilio account
    _, processing = twilio.fallback_recorded(ISABELLE, SUPPORT)
    processing.status = "processing"
    clock.advance(minutes=5)
    assert recover_messages() == 0
    processing.status = "completed"  # Twilio finished it: the next look finds it
    assert recover_messages() == 1


def test_twilio_unreachable_when_asked_loses_nothing(app, twilio, clock):
    call, _ = twilio.fallback_recorded(ISABELLE, SUPPORT)
    twilio.fail_next("lookup", 503, 20503)
    assert recover_messages() == 0
    assert session.scalar(select(func.count()).select_from(Voicemail)) == 0
    assert recover_messages() == 1
    assert message_of(call.sid).ticket.number == "104233"


def test_a_call_astreinte_answered_then_lost_keeps_the_fallbacks_message(phone, twilio, clock):
    """astreinte failed in the middle of a call: Twilio fetched the fallback for the same call."""
    caller = phone.call(from_=ISABELLE)
    caller.expect("numéro de requête").press("104233#")
    caller.expect("code PIN").press("4821#")  # then the host died; Twilio played the fallback
    fallback_call, recording = twilio.fallback_recorded(ISABELLE, SUPPORT)
    fallback_call.sid = recording.call_sid = caller.sid
    assert recover_messages() == 1
    voicemail = message_of(caller.sid)
    assert voicemail.ticket.number == "104233" and voicemail.kind is VoicemailKind.ASTREINTE
    assert twilio.sms_to(ALICE).body.startswith("Astreinte 104233")


def test_a_message_the_caller_recorded_again_is_not_a_new_message(phone, twilio, clock):
    caller = phone.call(from_=ISABELLE)
    caller.expect("numéro de requête").press("104233#")
    caller.expect("code PIN").press("4821#")
    caller.expect("nous vous rappellerons").press("1")
    caller.expect("après le bip").record(seconds=5)
    first = caller.recording_sids[-1]
    caller.press("2").expect("après le bip").record(seconds=20)
    caller.press("1").expect("au plus tard dans 30 minutes")
    _, kept_at_twilio = twilio.fallback_recorded(ISABELLE, SUPPORT)  # the first take, not yet deleted
    kept_at_twilio.sid, kept_at_twilio.call_sid = first, caller.sid
    assert recover_messages() == 0
    assert session.scalar(select(func.count()).select_from(Callout)) == 1


@pytest.mark.parametrize(
    ("signature", "expected"),
    [("forged", 403), (None, 200)],
)
def test_the_fallbacks_recording_callback_looks_the_message_up_at_once_when_signed(
    app, twilio, clock, signature, expected
):
    call, recording = twilio.fallback_recorded(ISABELLE, SUPPORT)
    status, _ = twilio.phone.send(
        "/voice/fallback/recording",
        {
            "AccountSid": twilio.account_sid,
            "CallSid": call.sid,
            "RecordingSid": recording.sid,
            "RecordingStatus": "completed",
            "RecordingDuration": "20",
            "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{twilio.account_sid}/Recordings/{recording.sid}",
        },
        signature="forged" if signature else None,
    )
    assert status == expected
    kept = session.scalar(select(func.count()).select_from(Voicemail))
    assert kept == (0 if signature else 1)  # a forged callback makes astreinte ask Twilio nothing
    assert len(twilio.recording_queries) == (0 if signature else 1)


def test_the_recording_callback_sent_twice_keeps_and_pages_the_message_once(app, twilio, clock):
    call, recording = twilio.fallback_recorded(ISABELLE, SUPPORT)
    callback = {
        "AccountSid": twilio.account_sid,
        "CallSid": call.sid,
        "RecordingSid": recording.sid,
        "RecordingStatus": "completed",
    }
    assert twilio.phone.send("/voice/fallback/recording", callback)[0] == 200
    texts = len(twilio.sms_sent_to(ALICE))
    assert twilio.phone.send("/voice/fallback/recording", callback)[0] == 200  # Twilio retries
    assert session.scalar(select(func.count()).select_from(Voicemail)) == 1
    assert session.scalar(select(func.count()).select_from(Callout)) == 1
    assert len(twilio.sms_sent_to(ALICE)) == texts


def test_without_a_twilio_account_there_is_nothing_to_ask(app, twilio, clock):
    twilio.fallback_recorded(ISABELLE, SUPPORT)
    app.config["TWILIO_OUTBOX"] = True  # local-outbox mode: no Twilio account to ask
    assert recover_messages() == 0
    assert twilio.recording_queries == []


def test_a_worker_that_starts_pages_for_what_the_fallback_recorded_while_it_was_away(app, twilio, tmp_path):
    """The real `astreinte worker`, real clock: the messages are looked up as it starts."""
    doc = read_file(ORG_FILE)
    doc["business_hours"], doc["closures"] = {}, []  # whatever the wall clock says: the astreinte
    load(doc)
    twilio.fallback_recorded(ISABELLE, SUPPORT)
    primary = session.get(Person, who_is_on_call(current_org(), clock_module.now()).primary)
    assert primary is not None
    env = worker_env(app.config, twilio, FALLBACK_LOOKBACK_HOURS="1")
    proc = start_worker(app, env, tmp_path / "worker.log", timeout=60)
    try:
        sms = wait_for(lambda: twilio.sms_sent_to(primary.phone), timeout=60, every=0.2)
        assert sms, f"no page after the worker started; it said:\n{worker_said(proc)[-3000:]}"
        assert sms[0].body.startswith("Astreinte 104233")
        assert "DateCreated>" in twilio.recording_queries[0]
    finally:
        stop_worker(proc)

"""Talk now: a caller on an urgent ticket, after the right PIN, presses 1 and is put through to the
technician on call, who hears who calls and why and accepts with 1 (the takeover). Nobody accepting
leaves the message path of every night."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dashboard.api import create_token
from models import Call, Callout, CallOutcome, CalloutState, Channel, Page, session
from oncall.sweeper import sweep
from org.load import load, read_file
from org.orgfile import OrgFileError, parse
from tests.conftest import ORG_FILE, PARIS
from tests.factories import login
from tests.phone import ISABELLE, call_row
from tickets.timeline import tell

ALICE = "+33612345678"  # primary tonight (Tue 24 Nov 2026)
BRUNO = "+33623456789"  # backup
URGENT = "104245"  # Boulangerie Dupont, priority urgent (examples/org.yaml)


def _up_to_the_offer(phone, ticket: str = URGENT, from_: str = ISABELLE, english: bool = False):
    call = phone.call(from_=from_)
    if english:
        call.press("9")
    call.expect("ticket number" if english else "numéro de requête").press(f"{ticket}#")
    call.expect("PIN").press("4821#")
    return call


def _callouts() -> list[Callout]:
    return list(session.scalars(select(Callout).order_by(Callout.id)))


def _pages() -> list[Page]:
    return list(session.scalars(select(Page).order_by(Page.id)))


def test_an_urgent_caller_is_put_through_and_the_technician_accepts_with_1(phone, org):
    call = _up_to_the_offer(phone)
    call.expect("Merci. Requête : Site coupé").expect(
        "Pour parler maintenant au technicien d'astreinte, tapez 1"
    )
    call.expect("Pour laisser un message, restez en ligne").press("1")
    call.expect("Nous appelons le technicien d'astreinte")
    assert call.pending == "dial" and call.dialed == [ALICE]
    assert f'callerId="{org.support_number}"' in call.last_twiml and 'timeout="20"' in call.last_twiml
    assert ISABELLE not in call.last_twiml  # the caller's number is never shown to the technician
    assert "record" not in call.last_twiml  # no recording unless the organisation file asks
    assert 'ringTone="fr"' in call.last_twiml and 'answerOnBridge="true"' in call.last_twiml

    alice = call.pick_up(ALICE)
    assert alice.from_ == org.support_number  # Alice's phone shows the support number
    alice.expect("un client demande à vous parler maintenant").expect("Boulangerie Dupont")
    alice.expect("requête 1 0 4 2 4 5").expect("priorité Urgente").expect("Site coupé")
    alice.expect("Le client parle français").expect("Pour prendre l'appel, tapez 1")
    alice.press("1").expect("Vous avez pris en charge la requête 1 0 4 2 4 5")
    assert alice.bridged and not alice.ended

    (callout,) = _callouts()
    assert callout.state is CalloutState.TAKEN_OVER and callout.taken_over_by == "alice"
    assert callout.taken_over_via is Channel.LIVE and callout.opened_at == callout.taken_over_at
    assert _pages() == []  # paging never starts: she has it
    told = [e.kind for e in sorted(callout.ticket.events, key=lambda e: e.id) if e.kind != "opened"]
    assert told == ["call", "live_request", "callout", "takeover"]

    call.talk(seconds=240).expect("Merci de votre appel").expect("Au revoir")
    assert call.ended
    row = call_row(call)
    assert row.outcome is CallOutcome.CONNECTED and row.voicemail.recording_sid is None


def test_the_callout_api_says_the_takeover_was_live(phone, client):
    call = _up_to_the_offer(phone).press("1")
    call.pick_up(ALICE).press("1")
    call.talk(60)
    token = create_token("crm")
    got = client.get(
        f"/api/callouts?ticket={URGENT}", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    (callout,) = got["callouts"] if isinstance(got, dict) else got
    assert callout["state"] == "taken_over" and callout["taken_over_via"] == "live"
    assert callout["taken_over_by"] == "alice" and callout["pages"] == []


def test_the_primary_does_not_answer_and_the_backup_accepts(phone):
    call = _up_to_the_offer(phone).press("1")
    assert call.dialed == [ALICE]
    call.dial_unanswered("no-answer")
    call.expect("Nous appelons son renfort")
    assert call.dialed == [BRUNO]
    bruno = call.pick_up(BRUNO)
    bruno.expect("Boulangerie Dupont").press("1")
    (callout,) = _callouts()
    assert callout.taken_over_by == "bruno" and callout.taken_over_via is Channel.LIVE


def test_a_voicemail_answering_the_technicians_phone_never_takes_the_call(phone):
    call = _up_to_the_offer(phone).press("1")
    machine = call.pick_up(ALICE, answered_by="machine_end_beep")
    machine.expect("Pour prendre l'appel, tapez 1").silence()  # a recorder presses nothing
    assert machine.ended and not machine.bridged
    call.expect("Nous appelons son renfort")
    assert call.dialed == [BRUNO]
    assert _callouts() == []  # nobody has taken it over


def test_a_key_other_than_1_declines_and_the_next_level_rings(phone):
    call = _up_to_the_offer(phone).press("1")
    call.pick_up(ALICE).press("2")
    call.expect("Nous appelons son renfort")
    assert call.dialed == [BRUNO]


def test_nobody_answers_the_caller_leaves_a_message_and_the_callout_pages_as_every_night(phone, clock):
    call = _up_to_the_offer(phone).press("1")
    call.dial_unanswered("no-answer")
    call.dial_unanswered("busy")
    call.expect("Aucun technicien n'a pu prendre votre appel").expect("Laissez-nous un message")
    call.expect("nous vous rappellerons au").silence()
    call.expect("après le bip").record(seconds=20).press("1")
    call.expect("Votre message est transmis")
    (callout,) = _callouts()
    assert callout.state is CalloutState.PAGING and callout.voicemail.recording_sid
    assert [(p.person_id, p.channel.value) for p in _pages()] == [("alice", "sms"), ("alice", "voice")]
    kinds = [e.kind for e in callout.ticket.events]
    assert kinds.index("live_request") < kinds.index("live_unanswered") < kinds.index("voicemail")


def test_a_normal_ticket_is_not_offered_to_talk_now(phone):
    call = _up_to_the_offer(phone, ticket="104233")
    call.expect("Coupure totale").expect_not("tapez 1").expect("nous vous rappellerons")


def test_silence_at_the_offer_keeps_the_message_path(phone):
    call = _up_to_the_offer(phone)
    call.expect("Pour parler maintenant").silence()
    call.expect("nous vous rappellerons au").silence()
    call.expect("après le bip")


def test_the_caller_hangs_up_while_we_ring_and_the_callout_pages_as_for_a_message(phone):
    call = _up_to_the_offer(phone).press("1")
    call.hangup()
    assert call.cancelled == [ALICE]  # the technician's ringing leg is cancelled
    (callout,) = _callouts()
    assert callout.state is CalloutState.PAGING and callout.voicemail.recording_sid is None
    assert callout.voicemail.callback_number == ISABELLE
    assert [(p.person_id, p.channel.value) for p in _pages()] == [("alice", "sms"), ("alice", "voice")]
    row = call_row(call)
    assert row.outcome is CallOutcome.ABANDONED and row.reason == "live"
    assert "live_hung_up" in [e.kind for e in callout.ticket.events]


def test_the_caller_hangs_up_during_the_whisper_and_a_late_1_takes_nothing(phone):
    call = _up_to_the_offer(phone).press("1")
    alice = call.pick_up(ALICE)
    whisper = alice.requests[-1]
    call.hangup()
    assert call.cancelled == [ALICE] and alice.ended
    accept = whisper.body.split('action="')[1].split('"')[0].replace("&amp;", "&")
    status, body = phone.send(accept, {**whisper.params, "Digits": "1"})
    assert status == 200 and "Trop tard" in body and "<Hangup" in body
    (callout,) = _callouts()
    assert callout.state is CalloutState.PAGING  # still paging: someone calls the client back


def test_an_english_caller_is_offered_in_english_and_the_technician_told(phone):
    call = _up_to_the_offer(phone, english=True)
    call.expect("To talk to the on-call technician now, press 1").press("1")
    call.expect("We are calling the on-call technician")
    alice = call.pick_up(ALICE)
    alice.expect("Le client parle anglais")


def test_no_live_connect_in_the_file_no_offer(phone):
    doc = read_file(ORG_FILE)
    del doc["astreinte"]["live_connect"]
    load(doc)
    _up_to_the_offer(phone).expect("Site coupé").expect_not("tapez 1").expect("nous vous rappellerons")


def test_a_forged_or_foreign_leg_cannot_take_the_call(phone, client):
    call = _up_to_the_offer(phone).press("1")
    alice = call.pick_up(ALICE)
    whisper = alice.requests[-1]
    accept = whisper.body.split('action="')[1].split('"')[0].replace("&amp;", "&")
    # unsigned: 403, nothing taken
    assert client.post(phone.path_of(accept), data={**whisper.params, "Digits": "1"}).status_code == 403
    # signed, but a leg of another call
    status, body = phone.send(accept, {**whisper.params, "ParentCallSid": "CA" + "f" * 32, "Digits": "1"})
    assert status == 200 and "<Hangup" in body
    # an old level replayed after the ringing moved on
    call.dial_unanswered()
    status, body = phone.send(accept, {**whisper.params, "Digits": "1"})
    assert "<Hangup" in body
    assert _callouts() == []


def test_the_conversation_is_recorded_only_when_the_file_asks_with_the_notice_first(phone):
    doc = read_file(ORG_FILE)
    doc["astreinte"]["live_connect"]["record"] = True
    load(doc)
    call = _up_to_the_offer(phone).press("1")
    call.expect("Nous appelons le technicien").expect("Cette conversation sera enregistrée")
    assert 'record="record-from-answer-dual"' in call.last_twiml
    callback = call.last_twiml.split('recordingStatusCallback="')[1].split('"')[0].replace("&amp;", "&")
    call.pick_up(ALICE).expect("La conversation sera enregistrée").press("1")
    call.talk(120)
    recorded = {"CallSid": call.sid, "AccountSid": "AC" + "0" * 32, "RecordingSid": "RE" + "1" * 32}
    recorded |= {
        "RecordingStatus": "completed",
        "RecordingUrl": "https://api.twilio.com/r",
        "RecordingDuration": "120",
    }
    assert phone.send(callback, recorded)[0] == 200
    assert (
        phone.send(callback, {**recorded, "CallSid": "CA" + "2" * 32, "RecordingSid": "RE" + "3" * 32})[0]
        == 200
    )
    row = session.scalar(select(Call).where(Call.sid == call.sid))
    assert row is not None and row.voicemail.recording_sid == "RE" + "1" * 32  # kept with the call
    assert row.outcome is CallOutcome.CONNECTED


def test_live_routes_refuse_forgeries_and_answer_odd_or_replayed_requests_without_harm(phone, client):
    sid = {"CallSid": "CA" + "3" * 32}
    paths = (
        "/voice/live/dialled?n=x&level=0",
        "/voice/live/whisper?call=abc&level=0",
        "/voice/live/accept?call=99999999999&level=x",
        "/voice/live/recording?call=1",
    )
    for path in paths:
        assert client.post(path, data={**sid, "Digits": "1"}).status_code == 403  # unsigned
        status, body = phone.send(path, {**sid, "Digits": "1" * 500, "ParentCallSid": "<&>" * 400})
        assert status == 200 and "<Response" in body, path
    call = _up_to_the_offer(phone).press("1")
    call.dial_unanswered()
    assert call.dialed == [BRUNO]
    first = call.requests[-1].body
    status, again = call.replay(-1)  # Twilio retries the <Dial> action: the same answer, no third level
    assert status == 200 and again == first
    assert call_row(call).state["live_level"] == 1
    assert _callouts() == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (
            {"priorities": ["critical"], "ring": "20s"},
            "astreinte.live_connect.priorities[0]: unknown priority",
        ),
        (
            {"priorities": ["low"]},
            "astreinte.live_connect.priorities[0]: 'low' is not handled by the astreinte",
        ),
        ({"priorities": "urgent"}, "astreinte.live_connect.priorities: expected a list"),
        ({"priorities": ["urgent"], "ring": "3s"}, "astreinte.live_connect.ring: between 5s and 60s"),
        ({"priorities": ["urgent"], "ring": "soon"}, "astreinte.live_connect.ring: 'soon' is not a duration"),
        (
            {"priorities": ["urgent"], "record": "yes"},
            "astreinte.live_connect.record: expected true or false",
        ),
        (
            {"priorities": ["urgent"], "rings": "20s"},
            "astreinte.live_connect.rings: unknown key (did you mean ring?)",
        ),
        ("urgent", "astreinte.live_connect: expected a mapping"),
    ],
)
def test_a_bad_live_connect_is_refused_naming_its_key(value, problem):
    doc = read_file(ORG_FILE)
    doc["astreinte"]["live_connect"] = value
    with pytest.raises(OrgFileError) as refused:
        parse(doc)
    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems


def test_the_example_file_offers_live_connect_to_urgent_tickets():
    live = parse(read_file(ORG_FILE)).live_connect
    assert live is not None and live.priorities == {"urgent"} and live.ring.total_seconds() == 20
    assert live.record is False


def test_the_timeline_tells_the_live_call(phone):
    call = _up_to_the_offer(phone).press("1")
    call.dial_unanswered()
    call.pick_up(BRUNO).press("1")
    (callout,) = _callouts()
    told = [tell(e, "fr", PARIS) for e in sorted(callout.ticket.events, key=lambda e: e.id)]
    assert "Le client demande à parler au technicien (Alice Martin, Bruno Petit)" in told
    assert any(
        line.startswith("Pris en charge par Bruno Petit par mise en relation directe") for line in told
    )


def test_the_desk_sees_the_live_call_in_the_call_log_and_on_the_ticket(phone, client):
    call = _up_to_the_offer(phone).press("1")
    call.pick_up(ALICE).press("1")
    call.talk(180)
    login(client)
    calls = client.get("/calls").get_data(as_text=True)
    assert "mis en relation avec le technicien" in calls
    ticket = client.get(f"/tickets/{URGENT}").get_data(as_text=True)
    assert "Le client demande à parler au technicien (Alice Martin, Bruno Petit)" in ticket
    assert "par mise en relation directe" in ticket


def test_a_caller_whose_end_never_reached_us_is_paged_by_the_sweeper(phone, clock):
    call = _up_to_the_offer(phone).press("1")
    assert call.pending == "dial"  # the status callback of the hang-up is lost
    clock.advance(minutes=10)
    sweep()
    assert _callouts() == []  # maybe still ringing: nothing yet
    clock.advance(minutes=6)
    sweep()
    (callout,) = _callouts()
    assert callout.state is CalloutState.PAGING and _pages()
    sweep()
    assert len(_callouts()) == 1  # once

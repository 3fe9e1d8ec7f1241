"""What Twilio does to us: hang-ups at any moment, retries, late callbacks, forged or broken requests."""

from __future__ import annotations

from sqlalchemy import func, select

from models import Call, Callout, CallOutcome, Voicemail, session
from tests.conftest import PUBLIC_BASE_URL
from tests.phone import ISABELLE, call_row, up_to_the_beep


def _count(model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_hanging_up_after_the_beep_keeps_the_message_and_opens_the_callout(phone):
    call = up_to_the_beep(phone).record(seconds=15, hangup=True)
    assert call.ended
    row = call_row(call)
    assert row.outcome is CallOutcome.VOICEMAIL and row.ended_at is not None
    callout = session.scalar(select(Callout))
    assert callout.voicemail.duration == 15 and callout.ticket.number == "104233"


def test_hanging_up_at_the_confirmation_keeps_the_message(phone):
    call = up_to_the_beep(phone).record(seconds=15).expect("tapez 1 pour envoyer").hangup()
    assert call_row(call).outcome is CallOutcome.VOICEMAIL
    assert _count(Callout) == 1


def test_hanging_up_before_the_beep_is_abandoned_at_that_step(phone):
    call = phone.call(from_=ISABELLE)
    call.press("104233#").expect("code PIN").hangup()
    row = call_row(call)
    assert (row.outcome, row.reason) == (CallOutcome.ABANDONED, "pin")
    assert row.ticket.number == "104233" and row.duration is not None
    assert _count(Voicemail) == 0 and _count(Callout) == 0


def test_the_recording_callback_may_come_before_the_action(phone):
    call = up_to_the_beep(phone).record(seconds=20, status_first=True).press("1")
    call.expect("30 minutes")
    assert _count(Voicemail) == 1 and _count(Callout) == 1
    assert session.scalar(select(Voicemail)).recording_status == "completed"


def test_the_same_call_sid_twice_changes_nothing(phone):
    call = phone.call(from_=ISABELLE)
    status, body = call.replay(0)  # Twilio retries /voice/incoming
    assert status == 200 and body == call.requests[0].body
    assert _count(Call) == 1


def test_the_same_keys_twice_count_once(phone):
    call = phone.call(from_=ISABELLE).press("104233#").press("0000#")
    call.expect("est incorrect")
    status, body = call.replay()  # the wrong PIN, posted again
    assert status == 200 and body == call.last_twiml
    assert call_row(call).tries == 1


def test_the_same_recording_twice_changes_nothing(phone):
    call = up_to_the_beep(phone).record(seconds=20)
    action, callback = call.requests[-2], call.requests[-1]
    assert "RecordingStatus" in callback.params and "RecordingStatus" not in action.params
    call.replay(-2)
    call.replay(-1)
    call.press("1")
    call.replay(-3)  # the callback again, after the message went out
    assert _count(Voicemail) == 1 and _count(Callout) == 1


def test_the_status_callback_twice_changes_nothing(phone):
    call = up_to_the_beep(phone).record(seconds=20).press("1")
    row = call_row(call)
    duration, ended_at = row.duration, row.ended_at
    status, _ = call.replay()
    assert status == 200
    row = call_row(call)
    assert (row.duration, row.ended_at, row.outcome) == (duration, ended_at, CallOutcome.VOICEMAIL)


def test_a_late_status_never_overwrites_a_refusal(phone):
    call = phone.call(from_=ISABELLE).press("104251#").press("1975#").hangup()  # at the desk offer
    row = call_row(call)
    assert (row.outcome, row.reason) == (CallOutcome.REFUSED, "no_astreinte_option") and row.duration


def test_a_forged_signature_is_refused_and_leaves_no_row(phone, client):
    resp = client.post(
        "/voice/incoming",
        data={"CallSid": "CA" + "1" * 32, "From": ISABELLE},
        headers={"X-Twilio-Signature": "Zm9yZ2Vk"},
    )
    assert resp.status_code == 403
    resp = client.post("/voice/status", data={"CallSid": "CA" + "1" * 32, "CallStatus": "completed"})
    assert resp.status_code == 403
    assert _count(Call) == 0


def test_a_signature_for_another_url_is_refused(phone):
    status, _ = phone.send(
        "/voice/incoming",
        {"CallSid": "CA" + "2" * 32},
        signature=phone.validator.compute_signature(
            PUBLIC_BASE_URL + "/voice/status", {"CallSid": "CA" + "2" * 32}
        ),
    )
    assert status == 403 and _count(Call) == 0


def test_a_call_signed_with_the_port_in_its_url_is_answered_and_a_changed_value_is_refused(phone):
    """Twilio signs the URL it called with or without the port (https: 443); either is a good one.
    A value changed on the way (another caller ID) breaks both."""
    params = {"CallSid": "CA" + "4" * 32, "From": ISABELLE, "To": "+33272646172"}
    with_port = PUBLIC_BASE_URL.replace(".test", ".test:443") + "/voice/incoming"
    signature = phone.validator.compute_signature(with_port, params)
    status, _ = phone.send("/voice/incoming", {**params, "From": "+33699999999"}, signature=signature)
    assert status == 403 and _count(Call) == 0
    status, body = phone.send("/voice/incoming", params, signature=signature)
    assert status == 200 and "<Gather" in body and _count(Call) == 1


def test_missing_or_malformed_parameters_never_give_a_500(phone):
    assert phone.send("/voice/incoming", {})[0] == 400
    assert phone.send("/voice/incoming", {"CallSid": "not a sid!"})[0] == 400
    assert phone.send("/voice/status", {"CallStatus": "completed"})[0] == 400
    status, body = phone.send("/voice/incoming", {"CallSid": "CA" + "3" * 32})  # no From, no To
    assert status == 200 and "<Gather" in body
    sid = {"CallSid": "CA" + "3" * 32}
    assert phone.send("/voice/caller/step/nowhere?n=1", sid)[0] == 404
    status, body = phone.send("/voice/caller/step/greeting?n=1", {**sid, "Digits": "<&>" * 30})
    assert status == 200 and "<Response>" in body
    status, body = phone.send("/voice/caller/step/pin?n=999", {**sid, "Digits": "4821"})
    assert status == 200 and "<Response>" in body  # out of order: the saved answer again
    status, body = phone.send("/voice/caller/recorded?n=2", {**sid, "RecordingDuration": "abc"})
    assert status == 200 and "<Response>" in body
    assert phone.send("/voice/caller/recording", {**sid, "RecordingStatus": "completed"})[0] == 400
    assert phone.send("/voice/status", {**sid, "CallStatus": "completed", "CallDuration": "x"})[0] == 200
    assert phone.send("/voice/desk/dialled?n=x", {**sid, "DialCallStatus": ""})[0] == 200
    assert call_row_by_sid(sid["CallSid"]).outcome is CallOutcome.ABANDONED


def test_a_step_that_comes_out_of_order_starts_again(phone):
    call = phone.call(from_=ISABELLE)
    seq = call_row(call).state["seq"]
    status, body = phone.send(
        f"/voice/caller/step/callback?n={seq}", {**call.requests[0].params, "Digits": "1"}
    )
    assert status == 200 and "Bonsoir" in body
    assert call_row(call).callback_number is None


def call_row_by_sid(sid: str) -> Call:
    return session.scalar(select(Call).where(Call.sid == sid))


def test_with_redis_down_the_caller_hears_a_complete_call_and_the_message_is_kept(app, phone):
    app.config.update(TASKS_INLINE=False, REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
    app.extensions.pop("redis", None)
    call = up_to_the_beep(phone).record(seconds=20).press("1")
    call.expect("au plus tard dans 30 minutes").expect("au revoir")
    assert call_row(call).outcome is CallOutcome.VOICEMAIL
    callout = session.scalar(select(Callout))
    assert callout.next_action_at is not None  # the sweeper finds it in the database


def test_a_recording_that_arrives_after_the_hang_up_is_still_delivered(phone):
    call = up_to_the_beep(phone).hangup()
    assert call_row(call).outcome is CallOutcome.ABANDONED
    status, _ = phone.send(
        "/voice/caller/recording",
        {
            **call.requests[0].params,
            "RecordingSid": "RE" + "5" * 32,
            "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE" + "5" * 32,
            "RecordingStatus": "completed",
            "RecordingDuration": "12",
        },
    )
    assert status == 200
    row = call_row(call)
    assert row.outcome is CallOutcome.VOICEMAIL and row.reason is None
    assert session.scalar(select(Callout)).voicemail.duration == 12


def test_absurd_durations_from_twilio_still_keep_the_message_and_the_call_log(phone):
    call = up_to_the_beep(phone)
    record = call.requests[-1]  # the request that brought the <Record>
    status, body = phone.send(
        f"{PUBLIC_BASE_URL}/voice/caller/recorded?n={call_row(call).state['seq']}",
        {
            **record.params,
            "RecordingSid": "RE" + "6" * 32,
            "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE" + "6" * 32,
            "RecordingDuration": "99999999999",
            "Digits": "hangup",
        },
    )
    assert status == 200 and "indisponible" not in body
    status, _ = phone.send(
        "/voice/status", {**record.params, "CallStatus": "completed", "CallDuration": "²99999999999"}
    )
    assert status == 200
    row = call_row(call)
    assert row.outcome is CallOutcome.VOICEMAIL and row.ended_at is not None
    assert _count(Callout) == 1 and session.scalar(select(Voicemail)).recording_sid == "RE" + "6" * 32


def test_a_hang_up_after_the_beep_reported_before_the_record_action_still_delivers(phone):
    call = up_to_the_beep(phone)
    base = {**call.requests[0].params, "CallStatus": "completed"}
    record_action = f"{PUBLIC_BASE_URL}/voice/caller/recorded?n={call_row(call).state['seq']}"
    recording = {
        "RecordingSid": "RE" + "8" * 32,
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE" + "8" * 32,
        "RecordingDuration": "14",
    }
    assert phone.send("/voice/status", {**base, "CallDuration": "61"})[0] == 200  # the status first
    assert call_row(call).outcome is CallOutcome.ABANDONED
    assert phone.send(record_action, {**base, **recording, "Digits": "hangup"})[0] == 200
    assert (
        phone.send("/voice/caller/recording", {**base, **recording, "RecordingStatus": "completed"})[0] == 200
    )
    row = call_row(call)
    assert (row.outcome, row.reason, row.duration) == (CallOutcome.VOICEMAIL, None, 61)
    assert _count(Voicemail) == 1 and _count(Callout) == 1
    assert session.scalar(select(Voicemail)).duration == 14


def test_a_hang_up_right_after_the_hash_key_reported_first_delivers_without_the_recording_callback(phone):
    call = up_to_the_beep(phone)
    base = {**call.requests[0].params, "CallStatus": "completed"}
    record_action = f"{PUBLIC_BASE_URL}/voice/caller/recorded?n={call_row(call).state['seq']}"
    recording = {
        "RecordingSid": "RE" + "9" * 32,
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE" + "9" * 32,
        "RecordingDuration": "9",
    }
    assert phone.send("/voice/status", {**base, "CallDuration": "55"})[0] == 200
    assert phone.send(record_action, {**base, **recording, "Digits": "#"})[0] == 200
    assert call_row(call).outcome is CallOutcome.VOICEMAIL and _count(Callout) == 1  # no callback needed
    callback = {**base, **recording, "RecordingStatus": "completed"}
    assert phone.send("/voice/caller/recording", callback)[0] == 200
    assert _count(Voicemail) == 1 and _count(Callout) == 1


def test_every_url_handed_to_twilio_is_absolute_on_the_public_base_url(phone, clock):
    import xml.etree.ElementTree as ET

    night = up_to_the_beep(phone).silence().record(seconds=5).press("2").record(seconds=5).press("1")
    clock.set("2026-11-25 10:00")
    day = phone.call(from_=ISABELLE).dial_unanswered().record(seconds=5)
    urls = []
    for sent in [*night.requests, *day.requests]:
        if sent.body.startswith("<?xml"):
            for verb in ET.fromstring(sent.body).iter():
                urls += [verb.get(a) for a in ("action", "recordingStatusCallback") if verb.get(a)]
                urls += [verb.text.strip()] if verb.tag == "Redirect" and verb.text else []
    assert len(urls) > 10 and all(url.startswith(PUBLIC_BASE_URL + "/") for url in urls), urls


def test_a_message_is_kept_when_its_callout_fails_to_open_and_goes_out_on_a_later_callback(app, phone):
    from sqlalchemy import text

    engine = app.extensions["engine"]
    call = up_to_the_beep(phone)
    session.commit()
    with engine.begin() as conn:  # the on-call room is broken: its table is gone
        conn.execute(text("ALTER TABLE callout RENAME TO callout_away"))
    try:
        call.record(seconds=15, hangup=True)  # the action, the recording callback, the status: all fail
    finally:
        session.rollback()
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE callout_away RENAME TO callout"))
    row = call_row(call)
    assert row.voicemail is not None and row.voicemail.recording_sid == call.recording_sids[-1]
    assert row.voicemail.duration == 15 and row.ended_at is not None and row.duration
    assert _count(Callout) == 0

    callback = next(sent for sent in call.requests if "RecordingStatus" in sent.params)
    assert phone.send(callback.url, callback.params)[0] == 200  # Twilio sends it again
    assert call_row(call).outcome is CallOutcome.VOICEMAIL and _count(Callout) == 1


def test_with_redis_down_the_receipt_leaves_once_the_sweeper_runs(app, phone, clock):
    from oncall.sweeper import sweep
    from tests.phone import sms_to

    redis_url = app.config["REDIS_URL"]
    app.config.update(TASKS_INLINE=False, REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
    app.extensions.pop("redis", None)
    up_to_the_beep(phone).record(seconds=20).press("1").expect("au revoir")
    assert sms_to(ISABELLE) == []  # the receipt job could not be queued

    app.config.update(TASKS_INLINE=True, REDIS_URL=redis_url)
    app.extensions.pop("redis", None)
    clock.advance(minutes=2)
    sweep()
    sweep()
    receipts = sms_to(ISABELLE)
    assert len(receipts) == 1 and "104233" in receipts[0]


def test_a_message_whose_callout_failed_to_open_is_delivered_by_the_sweeper(app, phone, clock):
    from sqlalchemy import text

    from oncall.sweeper import sweep

    engine = app.extensions["engine"]
    call = up_to_the_beep(phone)
    session.commit()
    with engine.begin() as conn:  # the on-call room is broken for the length of the call
        conn.execute(text("ALTER TABLE callout RENAME TO callout_away"))
    try:
        call.record(seconds=15, hangup=True)
    finally:
        session.rollback()
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE callout_away RENAME TO callout"))
    assert _count(Callout) == 0

    clock.advance(minutes=2)  # no callback comes again: the sweeper finds the kept message
    sweep()
    assert call_row(call).outcome is CallOutcome.VOICEMAIL
    callout = session.scalar(select(Callout))
    assert callout is not None and callout.due_at == call_row(call).voicemail.recorded_at + org_takeover()
    sweep()
    assert _count(Callout) == 1


def org_takeover():
    from org.load import current_org

    return current_org().takeover

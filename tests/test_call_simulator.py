"""The fake phone itself walks TwiML as Twilio does: a small signed app stands in for ours."""

from __future__ import annotations

import pytest
from flask import Flask, request
from twilio.twiml.voice_response import VoiceResponse

from devtools.simulator import Phone
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from voice.security import twilio_request
from voice.twiml import twiml


@pytest.fixture
def toy(tmp_path) -> tuple[Phone, list[dict[str, str]]]:  # type: ignore[no-untyped-def]
    app = Flask("toy")
    app.config.update(PUBLIC_BASE_URL=PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN=AUTH_TOKEN, RECORDINGS_DIR=tmp_path)
    seen: list[dict[str, str]] = []

    @app.post("/voice/incoming")
    @twilio_request
    def incoming():  # type: ignore[no-untyped-def]
        seen.append(request.form.to_dict())
        r = VoiceResponse()
        g = r.gather(action="/step/number", num_digits=None, finish_on_key="#", timeout=5)
        g.say("Votre numéro de requête ?")
        r.say("Nous n'avons rien entendu.")
        r.redirect("/voice/incoming")
        return twiml(r)

    @app.post("/step/number")
    @twilio_request
    def number():  # type: ignore[no-untyped-def]
        seen.append(request.form.to_dict())
        r = VoiceResponse()
        r.say(f"Vous avez tapé {request.form['Digits']}.")
        r.record(
            action=PUBLIC_BASE_URL + "/step/recorded",
            recording_status_callback="/step/rec-status",
            max_length=180,
            finish_on_key="#",
        )
        r.say("Aucun message.")
        return twiml(r)

    @app.post("/step/recorded")
    @twilio_request
    def recorded():  # type: ignore[no-untyped-def]
        seen.append(request.form.to_dict())
        r = VoiceResponse()
        r.say("Merci.")
        r.dial("+33272646100", action="/step/dialled", timeout=25)
        return twiml(r)

    @app.post("/step/dialled")
    @app.post("/step/rec-status")
    @app.post("/voice/status")
    @twilio_request
    def record_only():  # type: ignore[no-untyped-def]
        seen.append(request.form.to_dict())
        r = VoiceResponse()
        r.say(f"Fin {request.form.get('DialCallStatus', '')}.")
        r.hangup()
        return twiml(r)

    return Phone(app.test_client(), AUTH_TOKEN, PUBLIC_BASE_URL, support_number="+33272646172"), seen


def test_the_phone_walks_gather_record_and_dial_with_signed_requests(toy):
    phone, seen = toy
    call = phone.call(from_="+33611223344")
    call.expect("numéro de requête").press("104233#")
    assert seen[-1]["Digits"] == "104233" and seen[-1]["FinishedOnKey"] == "#"
    call.expect("1 0 4 2 3 3".replace(" ", "")).record(seconds=20)
    assert seen[-2]["RecordingDuration"] == "20" and seen[-2]["Digits"] == "#"
    assert seen[-1]["RecordingStatus"] == "completed"  # the recording callback came after the action
    assert call.pending == "dial" and call.dialed == ["+33272646100"]
    call.dial_unanswered()
    assert call.ended and "Fin no-answer." in call.said
    assert seen[-1]["CallStatus"] == "completed" and int(seen[-1]["CallDuration"]) > 20


def test_silence_falls_through_to_the_verbs_after_the_gather(toy):
    phone, _ = toy
    call = phone.call()
    call.silence()
    call.expect("rien entendu").expect("numéro de requête")
    assert call.pending == "gather"


def test_no_audio_skips_the_record_action(toy):
    phone, _ = toy
    call = phone.call().press("12#").silence()
    call.expect("Aucun message")
    assert call.ended


def test_hanging_up_during_the_recording_still_posts_the_action(toy):
    phone, seen = toy
    phone.call().press("12#").record(seconds=5, hangup=True)
    assert [s.get("Digits") for s in seen if "RecordingSid" in s and "RecordingStatus" not in s] == ["hangup"]


def test_a_wrong_expectation_prints_the_transcript(toy):
    phone, _ = toy
    call = phone.call()
    with pytest.raises(AssertionError, match="(?s)transcript.*numéro de requête.*last TwiML"):
        call.expect("code PIN")


def test_a_forged_signature_is_refused(toy):
    phone, seen = toy
    status, _ = phone.send("/voice/incoming", {"CallSid": "CAx"}, signature="forged")
    assert status == 403 and seen == []


def test_twiml_twilio_would_refuse_fails_the_walk_with_the_reason():
    from devtools.simulator_twiml import problems

    def refused(xml: str) -> set[str]:
        import xml.etree.ElementTree as ET

        verb = ET.fromstring(xml)
        return {*problems(verb), *(p for child in verb for p in problems(child))}

    assert (
        refused(
            '<Gather input="dtmf" finishOnKey="#" timeout="5" numDigits="1"><Say language="fr-FR">Oui</Say></Gather>'
        )
        == set()
    )
    assert refused('<Gather finishOnKey="#*" timeout="0"><Record /></Gather>') == {
        '<Gather finishOnKey="#*">: expected one key',
        '<Gather timeout="0">: expected an integer from 1 to 600',
        "<Record> cannot be nested in <Gather>",
    }
    assert refused('<Dial callerId="anonymous" timeout="2"><Number>06 12</Number></Dial>') == {
        '<Dial callerId="anonymous">: expected an E.164 number',
        '<Dial timeout="2">: expected an integer from 5 to 600',
        "<Number>06 12</Number>: expected an E.164 number",
    }
    assert refused('<Record maxLength="-1" playBeep="yes" recordingStatusCallbackEvent="done" />') == {
        '<Record playBeep="yes">: expected true or false',
        '<Record recordingStatusCallbackEvent="done">: expected in-progress, completed, absent',
        '<Record maxLength="-1">: expected an integer from 1 to 14400',
    }
    assert refused('<Say language="french"></Say>') == {
        '<Say language="french">: expected a language like fr-FR',
        "<Say> with nothing to say",
    }


def test_the_phone_refuses_to_walk_a_document_twilio_would_refuse():
    app = Flask("bad")
    app.config.update(PUBLIC_BASE_URL=PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN=AUTH_TOKEN)

    @app.post("/voice/incoming")
    @twilio_request
    def incoming():  # type: ignore[no-untyped-def]
        r = VoiceResponse()
        r.dial("+33272646100", caller_id="anonymous")
        return twiml(r)

    phone = Phone(app.test_client(), AUTH_TOKEN, PUBLIC_BASE_URL, support_number="+33272646172")
    with pytest.raises(AssertionError, match='Twilio would refuse this TwiML: <Dial callerId="anonymous">'):
        phone.call()

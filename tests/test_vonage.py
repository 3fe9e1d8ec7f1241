"""Vonage, the second carrier for SMS and page calls, through its official SDK against a local stand-in:
when Twilio fails the page goes through Vonage; the technician takes over by pressing 1 in Vonage's
page call or by replying `OK 104233` to its SMS; every webhook of Vonage is signature-checked."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from devtools.fake_smtp import smtp_config
from devtools.fake_vonage import vonage_config
from models import CalloutState, Channel, OutgoingMessage, session
from oncall.sweeper import sweep

from . import smtp_server, twilio_standin, vonage_standin
from .oncall_helpers import ALICE, CHLOE, leave_voicemail, refreshed
from .twilio_standin import standin_config

mail_server, mailbox = smtp_server.fixtures()
_, twilio_server, twilio = twilio_standin.fixtures()
vonage_server, vonage = vonage_standin.fixtures()

ALICE_MAIL = "alice.martin@astreinte.example"


@pytest.fixture
def app_config(
    app_config: dict[str, Any], twilio_server: Any, mail_server: Any, vonage_server: Any
) -> dict[str, Any]:
    return vonage_config(smtp_config(standin_config(app_config, twilio_server), mail_server), vonage_server)


def _carriers_of(channel: Channel) -> list[tuple[str, str]]:
    rows = session.scalars(
        select(OutgoingMessage).where(OutgoingMessage.channel == channel).order_by(OutgoingMessage.id)
    )
    return [(m.carrier or "", m.state.value) for m in rows]


def test_twilio_failing_the_page_goes_through_vonage_and_no_email_is_needed(twilio, vonage, mailbox, clock):
    twilio.down(503, 20503)
    leave_voicemail("104233")
    sms = vonage.sms_to(ALICE)
    assert len(sms) == 1 and sms[0].text.startswith("Astreinte 104233")
    assert len(vonage.calls_to(ALICE)) == 1
    assert ("twilio", "failed_temporary") in _carriers_of(Channel.SMS)
    assert ("vonage", "sent") in _carriers_of(Channel.SMS) and ("vonage", "started") not in _carriers_of(
        Channel.VOICE
    )
    assert not mailbox.to(ALICE_MAIL)  # a phone carrier delivered it
    twilio.up()


def test_pressing_1_in_vonages_page_call_takes_over(twilio, vonage, clock):
    twilio.down(503, 20503)
    callout = leave_voicemail("104233")
    heard, answered = vonage.answer(vonage.calls_to(ALICE)[0], press="1")
    said = heard[0]["text"]
    assert "Bonjour Alice" in said and "1 0 4 2 3 3" in said and "tapez 1" in said
    assert "vous avez pris en charge la requête 1 0 4 2 3 3" in answered[0]["text"]
    callout = refreshed(callout)
    assert callout.state is CalloutState.TAKEN_OVER and callout.taken_over_via is Channel.VOICE
    twilio.up()


def test_vonages_page_call_says_what_twilios_does_the_caller_speaking_english_included(twilio, vonage, clock):
    twilio.down(503, 20503)
    leave_voicemail("104233", language="en")
    heard, _ = vonage.answer(vonage.calls_to(ALICE)[0], press="9")
    said = heard[0]["text"]
    assert "Requête 1 0 4 2 3 3, Boulangerie Dupont : Coupure totale du lien SDSL." in said
    assert "Le client parle anglais. Il reste 30 minutes." in said
    twilio.up()


def test_another_key_or_an_unanswered_call_never_takes_over(twilio, vonage, clock):
    twilio.down(503, 20503)
    callout = leave_voicemail("104233")
    call = vonage.calls_to(ALICE)[0]
    vonage.answer(call, press="9")
    assert vonage.event(call, "unanswered") == 204
    assert refreshed(callout).state is CalloutState.PAGING
    twilio.up()


def test_replying_ok_to_vonages_sms_takes_over_and_the_answer_comes_back(twilio, vonage, clock):
    callout = leave_voicemail("104233")
    assert vonage.reply(ALICE, "OK 104233") == 204
    callout = refreshed(callout)
    assert callout.state is CalloutState.TAKEN_OVER and callout.taken_over_via is Channel.SMS
    answers = [m.body for m in twilio.sms_sent_to(ALICE) if "pris en charge" in m.body]
    assert answers and "104233" in answers[-1]


def test_vonage_webhooks_refuse_what_vonage_did_not_sign(app, twilio, vonage, clock):
    callout = leave_voicemail("104233")
    client = app.test_client()
    forged = vonage.sms_params(ALICE, "OK 104233", secret="not-the-secret-0123456789-abcdefgh")
    assert client.post("/vonage/sms", data=forged).status_code == 403
    stale = vonage.sms_params(ALICE, "OK 104233", at=clock.now().timestamp() - 3600)  # a replay, an hour late
    assert client.post("/vonage/sms", data=stale).status_code == 403
    unsigned = vonage.sms_params(ALICE, "OK 104233")
    del unsigned["sig"]
    assert client.post("/vonage/sms", data=unsigned).status_code == 403
    tampered = vonage.sms_params(ALICE, "OK 104240")
    tampered["text"] = "OK 104233"
    assert client.post("/vonage/sms", data=tampered).status_code == 403
    crowd = {**vonage.sms_params(ALICE, "OK"), **{f"f{i}": "x" for i in range(100)}}
    assert client.post("/vonage/sms", data=crowd).status_code == 403
    page = callout.pages[-1].id
    body = b'{"uuid": "x", "dtmf": {"digits": "1"}}'
    wrong = vonage.signed_headers(body, secret="not-the-secret-0123456789-abcdefgh")
    assert client.post(f"/vonage/pages/key?page={page}", data=body, headers=wrong).status_code == 403
    other_body = vonage.signed_headers(b"{}")  # signed for another body
    assert client.post(f"/vonage/pages/key?page={page}", data=body, headers=other_body).status_code == 403
    late = vonage.signed_headers(body, at=clock.now().timestamp() - 3600)
    assert client.post(f"/vonage/pages/key?page={page}", data=body, headers=late).status_code == 403
    assert client.post(f"/vonage/pages/key?page={page}", data=body).status_code == 403
    assert refreshed(callout).state is CalloutState.PAGING


def test_without_a_signature_secret_every_vonage_webhook_is_refused(app, twilio, vonage, clock):
    app.config["VONAGE_SIGNATURE_SECRET"] = None
    leave_voicemail("104233")
    assert vonage.reply(ALICE, "OK 104233") == 403


def test_twilio_and_vonage_both_down_the_page_goes_by_email_only(twilio, vonage, mailbox, clock):
    twilio.down(503, 20503)
    vonage.down(503)
    leave_voicemail("104233")
    assert len(mailbox.to(ALICE_MAIL)) == 1
    assert ("vonage", "failed_temporary") in _carriers_of(Channel.SMS)
    vonage.up()
    twilio.up()


def test_twilio_down_ten_minutes_every_page_goes_by_vonage_the_supervisor_is_told_once_twilio_comes_back(
    twilio, vonage, mailbox, clock, capsys
):
    twilio.down(503, 20503)
    leave_voicemail("104233")
    assert vonage.sms_to(ALICE) and vonage.calls_to(ALICE)  # at once, through the second carrier
    for _ in range(60):  # ten minutes of the worker's sweeper
        clock.advance(seconds=10)
        sweep()
    told = [m for m in vonage.sms_to(CHLOE) if "Twilio" in m.text]
    assert len(told) == 1  # the supervisor, once, by whatever works: Vonage's SMS
    assert not mailbox.mails  # a phone carrier delivered every page: no e-mail
    during = Counter((m.carrier, m.state.value) for m in session.scalars(select(OutgoingMessage)))
    twilio.up()
    back = clock.now()
    for _ in range(66):
        clock.advance(seconds=10)
        sweep()
    assert [m for m in twilio.messages if m.at >= back], "Twilio is used again"
    assert len([m for m in vonage.sms_to(CHLOE) if "Twilio" in m.text]) == 1
    after = Counter((m.carrier, m.state.value) for m in session.scalars(select(OutgoingMessage))) - during
    with capsys.disabled():
        print(f"\nTwilio down 10 min, Vonage up: {dict(during)}; after Twilio came back: {dict(after)}")


def test_an_sms_twilio_reports_undelivered_is_sent_again_through_vonage(twilio, vonage, mailbox, clock):
    leave_voicemail("104233")
    assert len(twilio.sms_sent_to(ALICE)) == 1 and not vonage.sms_to(ALICE)
    assert twilio.status(twilio.sms_to(ALICE), "undelivered", error_code="30008") == 200
    assert len(mailbox.to(ALICE_MAIL)) == 1  # at once by e-mail
    clock.advance(seconds=31)  # PAGE_SMS_INTERVAL: one SMS to a number every 30 s, whatever the carrier
    sweep()
    again = vonage.sms_to(ALICE)
    assert len(again) == 1 and again[0].text.startswith("Astreinte 104233")  # the other carrier
    assert len(twilio.sms_sent_to(ALICE)) == 1  # not Twilio again
    assert len(mailbox.to(ALICE_MAIL)) == 1  # and the e-mail: one more per fault at most
    assert (
        twilio.status(twilio.sms_to(ALICE), "undelivered", error_code="30008") == 200
    )  # Twilio repeats itself
    assert len(vonage.sms_to(ALICE)) == 1 and len(mailbox.to(ALICE_MAIL)) == 1  # nothing more

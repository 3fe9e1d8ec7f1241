"""E-mail, a carrier of the outbox over SMTP (a real local SMTP server): a policy step may page by
e-mail, the e-mail carries the same facts and take-over link as the SMS, and a page no phone carrier can
deliver goes to the person's e-mail within the minute."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from dashboard.api import create_token
from devtools.fake_smtp import smtp_config
from models import Channel, MessageState, OutgoingMessage, Page, Ticket, session
from oncall.sweeper import sweep
from org.load import load, read_file
from org.orgfile import OrgFileError, parse
from wsgi import create_app

from . import smtp_server, twilio_standin
from .conftest import ORG_FILE
from .oncall_helpers import ALICE, leave_voicemail, refreshed
from .twilio_standin import standin_config

mail_server, mailbox = smtp_server.fixtures()
_, twilio_server, twilio = twilio_standin.fixtures()

ALICE_MAIL = "alice.martin@astreinte.example"


@pytest.fixture
def app_config(app_config: dict[str, Any], twilio_server: Any, mail_server: Any) -> dict[str, Any]:
    return smtp_config(standin_config(app_config, twilio_server), mail_server)


def _link(body: str) -> str:
    found = re.search(r"https://astreinte\.example\.test(/o/\S+)", body)
    assert found, body
    return found.group(1)


CLIENT_DIGITS = "611223344"  # Isabelle Dupont's mobile, however it is written (06 11 22 33 44, +33 6 11…)


def _dialable(text: str) -> bool:
    return CLIENT_DIGITS in re.sub(r"[\s.+()-]", "", text)


@pytest.mark.parametrize(
    ("lang", "sms_says", "mail_says", "button"),
    [
        (
            "fr",
            "Client : rappel via le lien.",
            "Rappeler le client : par le lien",
            "Appeler le client via l&#39;astreinte",
        ),
        (
            "en",
            "Client: call back via the link.",
            "Call the client back: through the link",
            "Call the client through astreinte",
        ),
    ],
)
def test_the_technician_is_never_shown_the_clients_number_to_dial_only_the_masked_call_back(
    twilio, mailbox, clock, client, lang, sms_says, mail_says, button
):
    doc = read_file(ORG_FILE)
    doc["astreinte"]["policy"][0]["by"] = ["sms", "voice", "email"]
    next(p for p in doc["people"] if p["id"] == "alice")["language"] = lang
    load(doc)
    leave_voicemail("104233")

    sms = twilio.sms_to(ALICE).body
    mail = mailbox.to(ALICE_MAIL)[0]
    assert sms_says in sms and mail_says in mail.body
    page = client.get(_link(sms)).get_data(as_text=True)
    assert button in page
    _status, reply = twilio.reply(ALICE, "OK 104233")
    assert "104233" in reply
    for shown in (sms, mail.subject, mail.body, page, reply):  # a phone would make any of them a link
        assert not _dialable(shown), shown


def test_a_step_by_email_pages_by_email_with_the_facts_and_the_link_that_takes_over(
    twilio, mailbox, clock, client, org
):
    doc = read_file(ORG_FILE)
    doc["astreinte"]["policy"][0]["by"] = ["sms", "voice", "email"]
    load(doc)
    callout = leave_voicemail("104233")

    mail = mailbox.to(ALICE_MAIL)[0]
    assert mail.sender == "astreinte@support.example"
    assert "104233" in mail.subject and "Boulangerie Dupont" in mail.subject
    assert "Coupure totale du lien SDSL" in mail.body and "Rappeler le client : par le lien" in mail.body
    assert "Avant 23:40" in mail.body and "OK 104233" in mail.body  # the deadline, as the SMS says it
    sms_link = _link(twilio.sms_to(ALICE).body)
    mail_link = _link(mail.body)
    assert client.get(mail_link).status_code == 200
    clock.advance(minutes=3)
    assert client.post(f"{mail_link}/take/{callout.id}").status_code == 200
    assert refreshed(callout).taken_over_via is Channel.WEB
    assert sms_link != mail_link  # each message its own link
    row = session.scalar(select(OutgoingMessage).where(OutgoingMessage.channel == Channel.EMAIL))
    assert row.carrier == "smtp" and row.state is MessageState.SENT and row.to_address == ALICE_MAIL


def test_a_page_twilio_refuses_for_good_goes_by_email_at_once(twilio, mailbox, clock, org):
    twilio.fail_next("sms", status=400, code=21614)  # "not a mobile number": Twilio will never take it
    twilio.fail_next("call", status=400, code=21614)
    leave_voicemail("104233")
    assert len(mailbox.to(ALICE_MAIL)) == 1  # one e-mail for the step, not one per channel
    email_page = session.scalar(select(Page).where(Page.channel == Channel.EMAIL))
    assert email_page.to_number == ALICE_MAIL and email_page.twilio_sid  # the carrier's id is kept


def test_an_undelivered_sms_and_an_unanswered_call_go_by_email(twilio, mailbox, clock, org):
    leave_voicemail("104233")
    assert not mailbox.to(ALICE_MAIL)  # Twilio took them: no e-mail yet
    assert twilio.status(twilio.sms_to(ALICE), "undelivered", error_code="30003") == 200
    assert len(mailbox.to(ALICE_MAIL)) == 1
    assert twilio.status(twilio.call_to(ALICE), "no-answer") == 200
    assert len(mailbox.to(ALICE_MAIL)) == 1  # the same step: still one e-mail


def test_a_recipient_the_mail_server_refuses_is_a_permanent_failure_sent_once(twilio, mailbox, clock, org):
    mailbox.refuse = "550 5.1.1 no such user"
    twilio.fail_next("sms", status=400, code=21614)
    leave_voicemail("104233")
    row = session.scalar(select(OutgoingMessage).where(OutgoingMessage.channel == Channel.EMAIL))
    assert row.state is MessageState.FAILED_PERMANENT and row.details["code"] == 550
    mailbox.refuse = None
    clock.advance(minutes=2)
    sweep()
    assert not mailbox.to(ALICE_MAIL)  # refused for good: not tried again


def test_a_wrong_smtp_password_is_a_carrier_fault_and_nothing_is_lost(app, twilio, mailbox, clock, org):
    app.config["SMTP_URL"] = mailbox.url(password="wrong")
    app.extensions["carriers"] = [c for c in app.extensions["carriers"] if c.name != "smtp"]
    import mail

    mail.register(app)
    twilio.fail_next("sms", status=400, code=21614)
    leave_voicemail("104233")
    row = session.scalar(select(OutgoingMessage).where(OutgoingMessage.channel == Channel.EMAIL))
    assert row.state is MessageState.FAILED_PERMANENT and "login refused" in row.details["error"]
    assert not mailbox.mails


def test_without_smtp_url_there_is_no_email_and_the_org_file_may_still_name_addresses(
    app, twilio, clock, org
):
    app.extensions["carriers"] = [c for c in app.extensions["carriers"] if c.name != "smtp"]
    twilio.fail_next("sms", status=400, code=21614)
    leave_voicemail("104233")
    assert session.scalar(select(Page).where(Page.channel == Channel.EMAIL)) is None


def test_a_subject_written_to_smuggle_a_header_stays_in_the_subject(twilio, mailbox, clock, org):
    ticket = session.scalar(select(Ticket).where(Ticket.number == "104233"))
    ticket.subject = "Panne\r\nBcc: mallory@evil.example\r\n\r\nfaux corps"
    session.commit()
    twilio.fail_next("sms", status=400, code=21614)
    leave_voicemail("104233")
    mail = mailbox.to(ALICE_MAIL)[0]
    assert mail.message["Bcc"] is None and not mailbox.to("mallory@evil.example")
    assert mail.subject.endswith("Panne Bcc: mallory@evil.example faux corps")


@pytest.mark.parametrize(
    "url", ["http://smtp.example.fr", "smtp://", "mailto:a@b.c", "smtp//user:pw@host:25", "smtp://h:notaport"]
)
def test_a_malformed_smtp_url_stops_the_start_naming_the_variable(app_config, url):
    with pytest.raises(ValueError, match="SMTP_URL"):
        create_app({**app_config, "SMTP_URL": url})


def test_people_email_in_the_org_file_is_checked(org):
    doc = read_file(ORG_FILE)
    doc["people"][0]["email"] = "alice at example"
    doc["people"][1]["email"] = "bruno@example.fr\nBcc: x@y.z"
    with pytest.raises(OrgFileError) as refused:
        parse(doc)
    said = str(refused.value)
    assert "people[0].email" in said and "people[1].email" in said


def test_the_clients_notice_of_a_resolved_ticket_goes_by_email_through_the_outbox(
    client, mailbox, clock, org
):
    token = create_token("itsm")
    answer = client.patch(
        "/api/tickets/104240", json={"status": "resolved"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    mail = mailbox.to("isabelle@boulangerie-dupont.example")
    assert len(mail) == 1 and mail[0].subject == "Requête 104240 résolue"
    assert "48 h pour contester" in mail[0].body
    row = session.scalar(
        select(OutgoingMessage).where(
            OutgoingMessage.kind == "client_notice", OutgoingMessage.channel == Channel.EMAIL
        )
    )
    assert row.carrier == "smtp" and row.state is MessageState.SENT

"""A carrier goes down: Twilio's API answering 503 to everything for ten minutes, or answering too slowly.
The technician still gets the page (by e-mail) within a minute of the first failure; Twilio is set
aside, shown in /healthz, /metrics and the dashboard, the supervisor is told once, and Twilio is used
again as soon as it answers."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from devtools.fake_smtp import smtp_config
from models import Channel, MessageState, OutgoingMessage, session
from oncall.sweeper import sweep

from .. import factories, smtp_server, twilio_standin
from ..oncall_helpers import leave_voicemail
from ..twilio_standin import standin_config

mail_server, mailbox = smtp_server.fixtures()
_, twilio_server, twilio = twilio_standin.fixtures()

ALICE_MAIL = "alice.martin@astreinte.example"
CHLOE_MAIL = "chloe.durand@astreinte.example"  # the supervisor


@pytest.fixture
def app_config(app_config: dict[str, Any], twilio_server: Any, mail_server: Any) -> dict[str, Any]:
    return smtp_config(standin_config(app_config, twilio_server), mail_server)


def _messages() -> list[OutgoingMessage]:
    return list(session.scalars(select(OutgoingMessage).order_by(OutgoingMessage.id)))


def _by_carrier() -> Counter[tuple[str, str]]:
    return Counter((m.carrier or "none", m.state.value) for m in _messages())


def _minutes(twilio: Any, clock: Any, minutes: int, every: int = 10) -> None:
    """The worker's sweeper, every `every` seconds of a fast-forwarded clock."""
    for _ in range(minutes * 60 // every):
        clock.advance(seconds=every)
        sweep()


def _told_supervisor() -> list[Any]:
    return [m for m in _messages() if m.kind == "carrier_down" and m.carrier_id]


def test_twilio_down_for_ten_minutes_pages_by_email_within_a_minute_tells_the_supervisor_once_and_comes_back(
    twilio, mailbox, clock, client, capsys
):
    start = clock.now()
    twilio.down(503, 20503)
    leave_voicemail("104233")

    mails = mailbox.to(ALICE_MAIL)
    assert len(mails) == 1 and "104233" in mails[0].subject and "/o/" in mails[0].body
    first_failure = min(m.created_at for m in _messages() if m.state is MessageState.FAILED_TEMPORARY)
    mailed = min(m.created_at for m in _messages() if m.channel is Channel.EMAIL)
    assert mailed - first_failure <= timedelta(seconds=60)

    _minutes(twilio, clock, 10)
    health = client.get("/healthz")
    assert health.status_code == 200
    assert any("Twilio" in w for w in health.get_json()["warnings"]), health.get_json()
    factories.login(client)
    banner = factories.visible_text(client.get("/now"))
    assert re.search(r"L'opérateur Twilio échoue depuis 23:1\d : mis de côté", banner), banner
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'astreinte_carrier_set_aside{carrier="twilio"} 1.0' in metrics
    assert 'astreinte_messages_total{carrier="smtp",channel="email",state="sent"}' in metrics
    told = _told_supervisor()
    assert len(told) == 1 and told[0].channel is Channel.EMAIL and told[0].to_address == CHLOE_MAIL
    assert "Twilio" in mailbox.to(CHLOE_MAIL)[0].subject
    # Set aside, Twilio is only probed: no page waits on it, and it is not asked for each one.
    probes_and_sends = twilio.refused
    assert probes_and_sends <= 10 * 2 + 12, probes_and_sends  # about one probe a minute, and the first tries
    during = _by_carrier()
    # And nothing else was sent: one e-mail per round of the policy, one warning.
    assert Counter(m.to[0] for m in mailbox.mails) == {
        ALICE_MAIL: 3,
        "bruno.petit@astreinte.example": 1,
        CHLOE_MAIL: 1,
    }
    assert not twilio.messages and not twilio.calls  # Twilio kept nothing while it was down

    twilio.up()
    back = clock.now()
    _minutes(twilio, clock, 1)
    assert not any("Twilio" in w for w in client.get("/healthz").get_json()["warnings"])
    _minutes(twilio, clock, 10)  # the policy's next pages
    assert [m for m in twilio.messages if m.at >= back], "Twilio is used again"
    assert len(_told_supervisor()) == 1  # told once
    with capsys.disabled():
        print(f"\nTwilio down 10 min from {start:%H:%M} UTC: messages by (carrier, state) {dict(during)}")
        print(
            f"after it came back: {dict(_by_carrier() - during)}; Twilio refused {probes_and_sends} requests"
        )
        print("e-mails:", [(m.to[0], m.subject) for m in mailbox.mails])


def test_twilio_answering_slowly_makes_no_page_wait_beyond_its_time_out(app, twilio, mailbox, clock):
    twilio.down(503, 20503, delay=3.0)  # the answer comes long after TWILIO_TIMEOUT (1 s here)
    began = time.monotonic()
    leave_voicemail("104233")
    spent = time.monotonic() - began
    # The receipt, the SMS page and the page call each wait one time-out at most, then e-mail goes.
    assert spent < 3 * (app.config["TWILIO_TIMEOUT"] + 0.5), spent
    assert len(mailbox.to(ALICE_MAIL)) == 1
    twilio.up()


def test_a_mail_server_answering_slowly_holds_no_page_beyond_its_time_out(app, twilio, mailbox, clock):
    twilio.down(503, 20503)
    mailbox.silent = 2.5  # the server sits on the message past SMTP_TIMEOUT (1 s here)
    began = time.monotonic()
    leave_voicemail("104233")
    assert (
        time.monotonic() - began < 3 * (app.config["TWILIO_TIMEOUT"] + 0.5) + app.config["SMTP_TIMEOUT"] + 0.5
    )
    row = next(m for m in _messages() if m.channel is Channel.EMAIL)
    assert row.state is MessageState.FAILED_TEMPORARY  # tried again, never waited on
    mailbox.silent = 0.0
    time.sleep(2)  # the server finishes with the first attempt (it may keep it: one more per fault)
    _minutes(twilio, clock, 2)
    assert 1 <= len(mailbox.to(ALICE_MAIL)) <= 2
    twilio.up()

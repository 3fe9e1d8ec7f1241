"""The real `astreinte worker`, on the wall clock, with Twilio's API answering 503 to everything and
SMTP_URL set: a caller's message reaches the on-call technician by e-mail within 60 seconds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

import clock
from devtools.fake_smtp import smtp_config
from oncall.rota import who_is_on_call
from org.load import current_org

from .. import processes, smtp_server, twilio_standin
from ..oncall_helpers import leave_voicemail
from ..twilio_standin import TwilioStandIn, standin_config

mail_server, mailbox = smtp_server.fixtures()
_, twilio_server, twilio = twilio_standin.fixtures()

pytestmark = pytest.mark.slow


@pytest.fixture
def app_config(app_config: dict[str, Any], twilio_server: TwilioStandIn, mail_server: Any) -> dict[str, Any]:
    return {**smtp_config(standin_config(app_config, twilio_server), mail_server), "TASKS_INLINE": False}


@pytest.fixture
def worker(
    app: Any, app_config: dict[str, Any], twilio_server: TwilioStandIn, mail_server: Any
) -> Iterator[Any]:
    env = processes.worker_env(
        app_config,
        twilio_server,
        TWILIO_TIMEOUT="2",
        SMTP_URL=mail_server.url(),
        MAIL_FROM="astreinte@support.example",
    )
    proc = processes.start_worker(app, env, app_config["INSTANCE"].parent / "worker.log", timeout=20)
    yield proc
    processes.stop_worker(proc)


def test_twilio_down_the_worker_gets_the_page_to_the_technician_by_email_within_a_minute(
    app, org, twilio, mailbox, worker
):
    twilio.down(503, 20503)
    on_call = current_org().people[who_is_on_call(current_org(), clock.now())["primary"]]
    began = time.monotonic()
    leave_voicemail("104233")
    mail = processes.wait_for(lambda: mailbox.to(on_call.email or ""), 60, every=0.2)
    took = time.monotonic() - began
    assert mail, processes.worker_said(worker)[-3000:]
    assert "104233" in mail[0].subject and "/o/" in mail[0].body
    assert took < 60, took
    print(f"\nreal worker, Twilio down: the e-mail reached {on_call.id} {took:.1f} s after the message")
    twilio.up()

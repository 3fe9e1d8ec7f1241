"""`astreinte page test` as an operator runs it: `astreinte up` serving (gunicorn, the worker, the
embedded Redis), the command in a terminal of its own, Twilio's REST API played by the stand-in and the
technician's phone walking the test call over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from devtools.simulator import Phone

from .conftest import AUTH_TOKEN, ORG_FILE
from .oncall_helpers import ALICE
from .processes import astreinte, free_port, healthz, wait_serving
from .twilio_standin import TwilioStandIn, fixtures

twilio_server = fixtures()[1]


def test_an_operator_tests_alices_page_against_the_running_service(tmp_path: Path, twilio_server):
    twilio: TwilioStandIn = twilio_server
    twilio.reset()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        ASTREINTE_INSTANCE=str(tmp_path / "instance"),
        WEB_CONCURRENCY="1",
        WEB_THREADS="2",
        PUBLIC_BASE_URL=base,
        TWILIO_ACCOUNT_SID=twilio.account_sid,
        TWILIO_AUTH_TOKEN=twilio.auth_token,
        TWILIO_API_BASE_URL=twilio.base_url,
    )
    subprocess.run(astreinte("db", "upgrade"), env=env, check=True, capture_output=True)
    subprocess.run(astreinte("load", str(ORG_FILE)), env=env, check=True, capture_output=True)
    up = subprocess.Popen(
        astreinte("up", "--port", str(port)),
        env=env,
        stdout=(tmp_path / "up.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    command = None
    try:
        assert wait_serving(lambda: healthz(port)[0] == 200, 60), (tmp_path / "up.log").read_text()
        twilio.phone = Phone(base, AUTH_TOKEN, base, support_number="+33272646172")
        command = subprocess.Popen(
            astreinte("page", "test", "alice", "--wait", "60"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert wait_serving(lambda: twilio.sms_sent_to(ALICE) and twilio.calls_to(ALICE), 30), (
            "nothing reached Twilio"
        )
        sms, call = twilio.sms_to(ALICE), twilio.call_to(ALICE)
        assert twilio.status(sms, "delivered") == 200  # the callback, to the web server
        answered = twilio.ring(call, "human")
        assert answered is not None
        answered.expect("ceci est un test d'alerte").press("1").expect("vos alertes vous parviennent")
        out, _ = command.communicate(timeout=60)
        assert command.returncode == 0, out
        assert "page test 1 of Alice Martin (alice), 06 12 34 56 78: an SMS and a call" in out
        assert "delivered" in out and "1 pressed: confirmed" in out
        assert "passed: Alice's page works (SMS delivered, 1 pressed in the call)." in out
    finally:
        twilio.phone = None
        if command is not None and command.poll() is None:
            command.kill()
        up.send_signal(signal.SIGTERM)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()

"""The real thing: `astreinte worker` (RQ worker and scheduler) against Redis, a policy in seconds,
and the pages arriving at the Twilio stand-in on time."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

import tasks
from models import Person, session
from oncall.rota import who_is_on_call
from oncall.sweeper import sweep
from org.load import current_org, load

from .conftest import ORG_FILE
from .oncall_helpers import leave_voicemail
from .processes import start_worker, stop_worker, wait_for, worker_env, worker_said
from .twilio_standin import TwilioStandIn, fixtures, standin_config

_base_config, twilio_server, _twilio = fixtures()

SLACK = 2.5  # seconds: the worker's timer queues a step within 20 ms; the rest is a busy shared machine


@pytest.fixture
def app_config(app_config: dict[str, Any], twilio_server: TwilioStandIn) -> dict[str, Any]:
    return {**standin_config(app_config, twilio_server), "TASKS_INLINE": False}


@pytest.fixture
def worker(app: Any, app_config: dict[str, Any], twilio_server: TwilioStandIn) -> Iterator[subprocess.Popen]:
    env = worker_env(app_config, twilio_server)
    proc = start_worker(app, env, app_config["INSTANCE"].parent / "worker.log", timeout=15)
    yield proc
    stop_worker(proc)


def test_the_worker_and_its_scheduler_send_each_step_on_time(app, twilio_server, worker):
    doc = yaml.safe_load(ORG_FILE.read_text())
    doc["astreinte"]["takeover"] = "20s"
    doc["astreinte"]["policy"] = [
        {"after": "0s", "notify": "primary", "by": ["sms"]},
        {"after": "4s", "notify": "primary", "by": ["voice"]},
        {"after": "8s", "notify": "backup", "by": ["sms"]},
    ]
    load(doc)
    twilio_server.reset()
    callout = leave_voicemail("104233")  # real clock: the worker lives in real time
    opened = callout.opened_at.timestamp()
    on_call = who_is_on_call(current_org(), callout.opened_at)
    primary, backup = (session.get(Person, p).phone for p in (on_call.primary, on_call.backup))

    sms = wait_for(lambda: twilio_server.sms_sent_to(primary), timeout=SLACK + 2)
    assert sms, f"the primary's SMS never came; the worker said:\n{worker_said(worker)[-3000:]}"
    assert sms[0].wall - opened < SLACK
    call = wait_for(lambda: twilio_server.calls_to(primary), timeout=4 + SLACK + 2)
    assert call, "the primary's call never came"
    assert 4 - 0.2 <= call[0].wall - opened < 4 + SLACK
    backup = wait_for(lambda: twilio_server.sms_sent_to(backup), timeout=8 + SLACK)
    assert backup, "the backup's SMS never came"
    assert 8 - 0.2 <= backup[0].wall - opened < 8 + SLACK
    assert worker.poll() is None


def test_a_redis_that_lost_every_job_loses_no_page(app, twilio_server, clock):
    load(yaml.safe_load(ORG_FILE.read_text()))
    twilio_server.reset()
    leave_voicemail("104233")  # the first step goes to Redis: no worker runs it
    assert sum(q.count for q in tasks.queues(app)) == 1 and not twilio_server.messages
    tasks.connection(app).flushdb()  # Redis restarts empty
    sweep()
    alice = session.get(Person, "alice").phone
    assert twilio_server.sms_to(alice).body.startswith("Astreinte 104233")
    clock.advance(minutes=5)
    sweep()  # the re-page was scheduled in Redis, lost too: the database knew
    assert len(twilio_server.calls_to(alice)) == 2


def test_the_workers_lines_name_the_ticket_and_the_call_and_it_says_when_it_starts_and_stops(
    app, app_config, twilio_server, tmp_path
):
    load(yaml.safe_load(ORG_FILE.read_text()))
    twilio_server.reset()
    env = worker_env(app_config, twilio_server, LOG_FORMAT="json")
    proc = start_worker(app, env, tmp_path / "worker.log", timeout=15)
    try:
        callout = leave_voicemail("104233")
        sid = callout.voicemail.call.sid
        assert wait_for(lambda: twilio_server.messages, timeout=SLACK + 5), worker_said(proc)[-3000:]
        assert wait_for(lambda: "job done" in worker_said(proc), timeout=5)
    finally:
        stop_worker(proc)
    lines = [json.loads(line) for line in worker_said(proc).splitlines() if line.startswith("{")]
    said = [line["message"] for line in lines]
    assert said[0].startswith("worker started (pid ") and said[-1].startswith("worker stopped (pid ")
    assert any(m.startswith("scheduler started") for m in said) and "sweeper stopped" in said
    steps = [line for line in lines if line.get("job", "").startswith(f"run_due_steps({callout.id}")]
    assert steps, said
    assert all(line["ticket"] == "104233" and line["call_sid"] == sid for line in steps), steps

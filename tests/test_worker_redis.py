"""The real `astreinte worker` when Redis goes away and comes back: the process stays up and says so,
the sweeper keeps paging from the database during the outage, and the queue is served again once
Redis is back, with nobody restarting anything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rq import Worker

import tasks
from org.load import load

from .conftest import ORG_FILE, PUBLIC_BASE_URL, ROOT
from .oncall_helpers import leave_voicemail
from .twilio_standin import TwilioStandIn, fixtures, standin_config

_base_config, twilio_server, _twilio = fixtures()


class Redis:
    """A redis-server of this test's own, on a unix socket, that the test stops and starts again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.proc, self.url = tasks.start_embedded_redis(folder)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def start(self) -> None:
        self.proc, _ = tasks.start_embedded_redis(self.folder)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Redis]:
    server = Redis(tmp_path / "redis")
    yield server
    server.kill()


@pytest.fixture
def app_config(
    app_config: dict[str, Any], twilio_server: TwilioStandIn, redis_server: Redis
) -> dict[str, Any]:
    return {
        **standin_config(app_config, twilio_server),
        "TASKS_INLINE": False,
        "REDIS_URL": redis_server.url,
        "PAGE_SMS_INTERVAL": 0,
    }


@pytest.fixture
def worker(app: Any, app_config: dict[str, Any], twilio_server: TwilioStandIn) -> Iterator[subprocess.Popen]:
    doc = yaml.safe_load(ORG_FILE.read_text())
    doc["astreinte"]["policy"] = [{"after": "0s", "notify": "primary", "by": ["sms"]}]
    load(doc)
    env = {
        **os.environ,
        "DATABASE_URL": app_config["DATABASE_URL"],
        "REDIS_URL": app_config["REDIS_URL"],
        "TWILIO_ACCOUNT_SID": twilio_server.account_sid,
        "TWILIO_AUTH_TOKEN": twilio_server.auth_token,
        "TWILIO_API_BASE_URL": twilio_server.base_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "SECRET_KEY": app_config["SECRET_KEY"],
        "ASTREINTE_INSTANCE": str(app_config["INSTANCE"]),
        "PAGE_SMS_INTERVAL": "0",
    }
    log = (app_config["INSTANCE"].parent / "worker.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "wsgi", "worker"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    proc.log_path = log.name  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while not Worker.all(connection=tasks.connection(app)):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the worker did not start: {_said(proc)}")
        time.sleep(0.1)
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _said(proc: subprocess.Popen) -> str:
    return Path(proc.log_path).read_text()  # type: ignore[attr-defined]


def _wait_for(predicate: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := predicate():
            return found
        time.sleep(0.1)
    return None


def test_the_worker_outlives_redis_and_every_callout_is_paged_during_and_after_the_outage(
    app, twilio_server, redis_server, worker
):
    twilio_server.reset()  # real time: whoever is primary now is paged (the rota decides)

    redis_server.kill()
    leave_voicemail("104233")  # its first step cannot be queued: the sweeper finds it in the database
    assert _wait_for(lambda: twilio_server.messages, timeout=25), _said(worker)  # a sweep: every 10 s
    assert worker.poll() is None, _said(worker)

    redis_server.start()
    back = time.monotonic()
    app.extensions.pop("redis", None)
    leave_voicemail("104233")
    assert _wait_for(lambda: len(twilio_server.messages) >= 2, timeout=10), _said(worker)
    assert time.monotonic() - back < 10
    assert worker.poll() is None
    said = _said(worker)
    assert "Redis unreachable" in said or "could not connect to Redis" in said, said

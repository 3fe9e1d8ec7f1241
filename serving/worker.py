"""`astreinte worker`: the RQ worker (with its scheduler) and, beside it, the sweeper of overdue work.

A Redis that goes away does not stop the process: the worker logs it, retries the connection every
few seconds and serves the queue again when Redis is back. The sweeper runs in its own thread, each
sweep in its own application context, whatever happens to the queue or to one job, so overdue steps
are found in the database and paged even while Redis is down (DESIGN: Redis only carries work).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Any

import redis
from flask import Flask
from rq import SimpleWorker
from sqlalchemy import select

import models
import tasks
from models import Call, Callout, Ticket, Voicemail
from oncall.callouts import ESCALATE_NOW_JOB, RUN_STEPS_JOB
from oncall.sweeper import sweep
from org.load import NoOrganisation
from serving import logs
from voice.fallback import recover_messages
from voice.retention import purge_recordings

log = logging.getLogger("astreinte.worker")

SWEEP_EVERY = 10.0  # seconds
PURGE_EVERY = 3600.0
FALLBACK_EVERY = 300.0  # seconds between two looks at Twilio for messages its fallback recorded
RECONNECT_MAX = 5.0  # seconds between two attempts to reach a Redis that went away


class _Worker(SimpleWorker):
    """RQ's worker, told apart: a stop asked by a signal ends the process, a lost Redis does not."""

    max_connection_wait_time = RECONNECT_MAX
    stopping = False

    def request_stop(self, signum: Any, frame: Any) -> None:
        self.stopping = True
        super().request_stop(signum, frame)

    app: Flask | None = None

    def perform_job(self, job: Any, queue: Any, *args: Any, **kwargs: Any) -> bool:
        """Each log line of the job names it, with its ids (a callout, a page, a call), and the ticket
        and the caller's CallSid it concerns (docs/deploy.md follows one call through the logs)."""
        name, *ids = job.args or ("?",)
        token = logs.job_context.set(f"{name}({', '.join(map(str, ids))})")
        concerns = logs.job_ids.set(self._concerns(str(name), ids))
        started = time.monotonic()
        try:
            done = bool(super().perform_job(job, queue, *args, **kwargs))
            log.info("job %s in %.0f ms", "done" if done else "failed", (time.monotonic() - started) * 1000)
            return done
        finally:
            logs.job_ids.reset(concerns)
            logs.job_context.reset(token)

    def _concerns(self, name: str, ids: list[Any]) -> dict[str, str]:
        if self.app is None or not ids:
            return {}
        try:
            with self.app.app_context():
                return job_concerns(name, ids[0])
        except Exception:  # noqa: BLE001 - a log line's extra ids never stop a job
            log.debug("no ticket or call found for %s", name, exc_info=True)
            return {}

    def _start_scheduler(self, *args: Any, **kwargs: Any) -> None:
        super()._start_scheduler(*args, **kwargs)
        process = self.scheduler._process if self.scheduler is not None else None
        if process is not None:
            log.info("scheduler started (pid %s)", process.pid)

    def stop_scheduler(self) -> None:
        process = self.scheduler._process if self.scheduler is not None else None
        super().stop_scheduler()
        if process is not None:
            log.info("scheduler stopped (pid %s)", process.pid)


# The jobs whose first argument is a callout, or a call: their lines carry its ticket and CallSid.
CALLOUT_JOBS = {RUN_STEPS_JOB, ESCALATE_NOW_JOB, "notify_caller", "notify_caller_breach"}
CALL_JOBS = {"send_receipt"}


def job_concerns(name: str, row_id: Any) -> dict[str, str]:
    """The ticket number and the caller's CallSid that the job `name` on `row_id` concerns."""
    if not isinstance(row_id, int):
        return {}
    if name in CALLOUT_JOBS:
        query = (
            select(Ticket.number, Call.sid)
            .select_from(Callout)
            .join(Ticket, Ticket.id == Callout.ticket_id)
            .outerjoin(Voicemail, Voicemail.id == Callout.voicemail_id)
            .outerjoin(Call, Call.id == Voicemail.call_id)
            .where(Callout.id == row_id)
        )
    elif name in CALL_JOBS:
        query = (
            select(Ticket.number, Call.sid)
            .outerjoin(Ticket, Ticket.id == Call.ticket_id)
            .where(Call.id == row_id)
        )
    else:
        return {}
    row = models.session.execute(query).first()
    if row is None:
        return {}
    return {key: value for key, value in (("ticket", row[0]), ("call_sid", row[1])) if value}


def sweep_forever(app: Flask, stop: threading.Event, every: float = SWEEP_EVERY) -> None:
    """Re-run overdue work from the database every `every` seconds, purge recordings past their
    retention once an hour, and ask Twilio for the messages its fallback recorded while no host
    answered: at once, then every FALLBACK_EVERY. Nothing a sweep raises stops the next one."""
    last_purge = -PURGE_EVERY
    logs.job_context.set("sweep")
    last_fallback = time.monotonic()
    _recover_fallback(app)
    log.info("sweeper started (every %.0f s)", every)
    while not stop.wait(every):
        try:
            with app.app_context():
                sweep()
                if time.monotonic() - last_purge >= PURGE_EVERY:
                    last_purge = time.monotonic()
                    purge_recordings()
        except Exception:  # noqa: BLE001 - keep sweeping; the error is logged
            log.exception("sweep failed; the next one runs in %.0f s", every)
        if time.monotonic() - last_fallback >= FALLBACK_EVERY:
            last_fallback = time.monotonic()
            _recover_fallback(app)
    log.info("sweeper stopped")


def _recover_fallback(app: Flask) -> None:
    try:
        with app.app_context():
            recover_messages()
    except NoOrganisation:
        pass  # nothing loaded yet: nobody to page
    except Exception:  # noqa: BLE001 - the next round asks again; the error is logged
        log.exception("the messages recorded by Twilio's fallback could not be recovered")


def run(app: Flask, burst: bool = False) -> None:
    """The worker loop: serve the queues until a signal stops the process (or, with `burst`, until
    they are empty)."""
    tasks.bind_worker(app)
    log.info(
        "worker started (pid %s): queues %s%s",
        os.getpid(),
        ", ".join(q.name for q in tasks.queues(app)),
        " until they are empty" if burst else ", with the scheduler, the timer and the sweeper",
    )
    # RQ's own lines (locks, registries, subscriptions) only at DEBUG; each job gets one line of ours.
    rq_level = logging.getLevelName(max(logging.WARNING, log.getEffectiveLevel()))
    stop = threading.Event()
    sweeper = None
    if not burst:
        sweeper = threading.Thread(target=sweep_forever, args=(app, stop), name="sweeper", daemon=True)
        sweeper.start()

    def _stop(signum: int, _frame: Any) -> None:
        stop.set()

    wait, lost = 1.0, False
    try:
        while not stop.is_set():
            # Between two attempts the signals are ours; during work() they are RQ's.
            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
            worker = None
            try:
                tasks.connection(app).ping()
                if lost:
                    log.warning("Redis reachable again: serving the queue")
                    lost, wait = False, 1.0
                # A connection of its own: the worker blocks on Redis for minutes (BLPOP), which the
                # short socket timeout of the application's pool (shared with the timer) would cut.
                own = redis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2)
                worker = _Worker(tasks.queues(app), connection=own)
                worker.app = app
                worker.work(
                    burst=burst,
                    with_scheduler=True,
                    logging_level=rq_level,
                )
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                if not lost:
                    log.error("Redis unreachable (%s): the sweeper keeps paging from the database", exc)
                lost = True
            if burst or (worker is not None and worker.stopping):
                break
            if not stop.is_set():
                if not lost:
                    log.warning("the worker loop ended; starting it again")
                stop.wait(wait)
                wait = min(wait * 2, RECONNECT_MAX)
    finally:
        stop.set()
        if sweeper is not None:
            sweeper.join(timeout=30)
        log.info("worker stopped (pid %s)", os.getpid())

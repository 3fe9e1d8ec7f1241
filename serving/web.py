"""`astreinte serve`: the web application behind gunicorn, the production WSGI server (the same one
`gunicorn wsgi:app` runs). Each gunicorn worker process builds its own application."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn import glogging
from gunicorn.app.base import BaseApplication


def default_workers() -> int:
    return int(os.environ.get("WEB_CONCURRENCY") or 2)


def default_threads() -> int:
    return int(os.environ.get("WEB_THREADS") or 4)


class _Log(glogging.Logger):  # type: ignore[misc]
    """gunicorn's own lines go through the process's logging (text or JSON, one format for all);
    below WARNING only with LOG_LEVEL=DEBUG (its start and stop lines say what `up` says)."""

    def setup(self, cfg: Any) -> None:
        self.error_log.propagate = True
        self.error_log.setLevel(
            logging.DEBUG if logging.getLogger().level <= logging.DEBUG else logging.WARNING
        )
        self.access_log.propagate = False


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, factory: Callable[[], Flask], options: dict[str, Any]) -> None:
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.factory()


def serve(factory: Callable[[], Flask], host: str, port: int, workers: int, threads: int) -> None:
    """Serve until SIGTERM or SIGINT: gunicorn then lets requests in flight finish (up to 10 s)."""
    os.environ["WEB_THREADS"] = str(threads)  # each process's database pool: one connection a thread
    _Server(
        factory,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 30,  # a webhook that takes longer is stuck: Twilio gave up after 15 s
            "graceful_timeout": 10,
            "keepalive": 5,
            "accesslog": None,  # one line per request comes from the application, without link tokens
            "errorlog": "-",
            "logger_class": _Log,
            "proc_name": "astreinte-web",
            "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        },
    ).run()

"""`astreinte serve`: the web application behind gunicorn, the production WSGI server (the same one
`gunicorn wsgi:app` runs). Each gunicorn worker process builds its own application."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn import glogging
from gunicorn.app.base import BaseApplication


def default_workers() -> int:
    return int(os.environ.get("WEB_CONCURRENCY") or 2)


def default_threads() -> int:
    return int(os.environ.get("WEB_THREADS") or 4)


def local_address(host: str, port: int) -> str:
    """The address a browser on this machine uses for a server bound to `host:port`."""
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else "[::1]" if host == "::" else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def follow_port(host: str, port: int) -> None:
    """In development (no PUBLIC_BASE_URL set), links sent in SMS and calendar addresses follow the
    port served: the processes started from here read it from the environment."""
    if not os.environ.get("PUBLIC_BASE_URL"):
        os.environ["PUBLIC_BASE_URL"] = local_address(host, port)


def port_taken(host: str, port: int) -> str | None:
    """Why `host:port` cannot be served (another program listens there), or None when it is free.
    Checked before anything starts: gunicorn on a busy port would retry, exit, and be restarted."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            s.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


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


log = logging.getLogger("astreinte.web")


def serve(factory: Callable[[], Flask], host: str, port: int, workers: int, threads: int) -> None:
    """Serve until SIGTERM or SIGINT: gunicorn then lets requests in flight finish (up to 10 s)."""
    arbiter = os.getpid()
    log.info(
        "web starting on %s (pid %s, %s process(es) x %s threads)",
        local_address(host, port),
        arbiter,
        workers,
        threads,
    )
    try:
        _run(factory, host, port, workers, threads)
    finally:
        if os.getpid() == arbiter:  # gunicorn's forked processes leave through here too
            log.info("web stopped (pid %s)", arbiter)


def _run(factory: Callable[[], Flask], host: str, port: int, workers: int, threads: int) -> None:
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

"""`astreinte serve`: the web application behind gunicorn, the production WSGI server (the same one
`gunicorn wsgi:app` runs). Each gunicorn worker process builds its own application."""

from __future__ import annotations

import errno
import logging
import os
import re
import selectors
import socket
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask
from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import TConn, ThreadWorker

# A request reaches a thread only once its headers (and its body, up to EARLY_BYTES) are in: a client
# that trickles them (slowloris) waits in the worker's poller, holding no thread, and is dropped after
# HEAD_SECONDS. Twilio sends a webhook in one go; 8 slow sockets used to hold every thread.
HEAD_SECONDS = 10
EARLY_BYTES = 96 * 1024  # headers plus the largest webhook (voice.security.MAX_BODY: 64 KiB)
_CONTINUE = re.compile(rb"\r\nexpect:[ \t]*100-continue", re.IGNORECASE)
_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d{1,12})", re.IGNORECASE)


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


def _request_is_in(data: bytes) -> bool:
    """Whether `data` holds a request's headers and as much of its body as waiting for is worth."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return len(data) >= EARLY_BYTES  # too long for headers: gunicorn refuses it (limit_request_*)
    if _CONTINUE.search(data, 0, end + 2):
        return True  # the client waits for gunicorn's "100 Continue" before it sends the body
    length = _LENGTH.search(data, 0, end + 2)
    body = int(length.group(1)) if length else 0
    return len(data) >= min(end + 4 + body, EARLY_BYTES)


class HeadersFirstWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker, except that a connection is handed to a thread only when its
    request is in (`_request_is_in`); until then it waits in the poller with a deadline."""

    def accept(self, server: Any, listener: Any) -> None:
        try:
            sock, client = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        conn = TConn(self.cfg, sock, client, server)
        conn.timeout = time.time() + HEAD_SECONDS  # closed by murder_keepalived when still incomplete
        self.nr_conns += 1
        with self._lock:
            self._keep.append(conn)
            self.poller.register(
                conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn)
            )

    def on_client_socket_readable(self, conn: Any, client: Any) -> None:
        if not self._read_early(conn):
            return  # still incomplete: stays registered, and in _keep with its deadline
        if not conn.initialized:
            with self._lock:
                try:
                    self._keep.remove(conn)
                except ValueError:
                    return  # dropped at its deadline meanwhile
        super().on_client_socket_readable(conn, client)

    def _read_early(self, conn: Any) -> bool:
        early: bytearray = getattr(conn, "early", None) or bytearray()
        try:
            chunk = conn.sock.recv(EARLY_BYTES)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True  # gunicorn meets the error and closes
        early += chunk
        conn.early = early
        if not chunk:
            return True  # the client closed: what came is handed over as it is
        left = conn.parser.unreader.buf.getvalue() if conn.parser is not None else b""
        return _request_is_in(bytes(left) + bytes(early))

    def enqueue_req(self, conn: Any) -> None:
        conn.init()
        if early := getattr(conn, "early", None):
            conn.parser.unreader.unread(bytes(early))
            conn.early = None
        super().enqueue_req(conn)


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
    os.environ["WEB_THREADS"] = str(threads)  # each process's database pool: one connection a thread
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
            "worker_class": "serving.web.HeadersFirstWorker",
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

"""Logging for every process: one line per event, text by default or JSON lines (LOG_FORMAT=json), at
LOG_LEVEL, each line carrying what ties a night together when it is known: the request id, the
Twilio CallSid / MessageSid, the job and its ids. Secrets never reach a line: PINs typed by callers,
take-over and media link tokens, bearer tokens and recording URLs are masked before formatting."""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request

job_context: contextvars.ContextVar[str | None] = contextvars.ContextVar("job", default=None)
# What a job concerns, for its lines: the ticket number and the caller's CallSid (serving/worker.py).
job_ids: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("job_ids", default=None)
_IDS = ("request_id", "call_sid", "ticket", "job")

_SECRETS = [
    (re.compile(r"https?://[^\s\"']*/Recordings/RE[0-9a-zA-Z]+[^\s\"']*"), "[recording URL]"),
    (re.compile(r"(/o/(?:media/)?)[^/\s\"'?]+"), r"\1[token]"),
    (re.compile(r"(?i)(bearer\s+)[^\s\"']+"), r"\1[token]"),
    (re.compile(r"(?i)\b(pin|digits|password|token)(['\"]?\s*[=:]\s*['\"]?)[^\s,&'\"}]+"), r"\1\2[hidden]"),
]


def mask(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class _Context(logging.Filter):
    """Adds request_id, call_sid and job to every record, and masks secrets in its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = record.call_sid = record.ticket = None
        if has_request_context():
            record.request_id = g.get("request_id")
            record.call_sid = g.get("call_sid")
        record.job = job_context.get()
        if concerns := job_ids.get():
            record.call_sid = getattr(record, "call_sid", None) or concerns.get("call_sid")
            record.ticket = concerns.get("ticket")
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = mask(message), None
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s%(context)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = [f"{key}={getattr(record, key)}" for key in _IDS if getattr(record, key, None)]
        record.context = f" [{' '.join(ids)}]" if ids else ""
        return super().format(record)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _IDS:
            if value := getattr(record, key, None):
                line[key] = value
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


def configure(level: str | None = None, fmt: str | None = None, stream: Any = None) -> None:
    """Set up the root logger once per process, from LOG_LEVEL (default INFO) and LOG_FORMAT
    (`text` or `json`). Calling it again replaces its own handler only."""
    level = (level or os.environ.get("LOG_LEVEL") or "INFO").upper()
    fmt = (fmt or os.environ.get("LOG_FORMAT") or "text").lower()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "astreinte", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.astreinte = True  # type: ignore[attr-defined]
    handler.addFilter(_Context())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("urllib3", "twilio.http_client", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


SECRET_ARGS = {"token", "secret"}  # route variables that are credentials: a link's token, a calendar's
_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
PATH_MAX = 200


def logged_path() -> str:
    """The path of this request as an operator looks for it (`/voicemails/12/audio`, `/tickets/104233`),
    with the route's secret parts as `[token]` (`/o/[token]`, `/calendar/[token].ics`). A path that
    matches no route is cut to PATH_MAX characters and masked."""
    rule = request.url_rule
    if rule is None:
        return mask(request.path[:PATH_MAX])
    values = request.view_args or {}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return "[token]" if name in SECRET_ARGS else str(values.get(name, match.group(0)))[:PATH_MAX]

    return _VARIABLE.sub(value, rule.rule)


def init_app(app: Flask) -> None:
    """A request id on every request (the caller's X-Request-Id when it sends a sane one), the Twilio
    SID of a webhook (set by voice.security), and one line per request naming its path, its secrets
    masked (`logged_path`)."""
    requests_log = logging.getLogger("astreinte.request")

    @app.before_request
    def _ids() -> None:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if re.fullmatch(r"[\w.-]{8,64}", given) else uuid.uuid4().hex[:16]
        g.request_started = time.monotonic()
        # The webhook's SID (`g.call_sid`) is noted by voice.security once the signature holds: the
        # form of a stranger's request is never parsed before that.

    @app.after_request
    def _line(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        elapsed = (time.monotonic() - g.get("request_started", time.monotonic())) * 1000
        requests_log.info("%s %s %s %.0f ms", request.method, logged_path(), response.status_code, elapsed)
        return response

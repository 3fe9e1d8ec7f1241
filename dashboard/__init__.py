"""The agents' dashboard and the JSON API: login, the live callouts, the call log, tickets, the rota,
reports. It reads every room below it and is read by none."""

from __future__ import annotations

import logging

from flask import Flask

from dashboard import (  # noqa: F401 - routes attach on import
    api,
    api_tickets,
    auth,
    calllog,
    pagetests,
    reports,
    rota,
    takeover,
    tickets,
    users,
    views,
    web,
)
from dashboard.auth import language
from dashboard.cli import token_group, user_group
from oncall.health import warnings
from voice.production import outbox_warnings

log = logging.getLogger(__name__)


def rota_warnings() -> list[str]:
    """The gaps in the rota, now or within 24 hours, for the banner of every dashboard page (the
    same warnings as /healthz), in the agent's language. A page still renders when they cannot be
    computed."""
    try:
        return warnings(language()) + outbox_warnings(language())
    except Exception:  # noqa: BLE001 - a banner never breaks a page
        log.exception("rota warnings could not be computed")
        return []


def register(app: Flask) -> None:
    app.register_blueprint(auth.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(takeover.bp)
    app.register_blueprint(rota.calendar_bp)
    app.cli.add_command(user_group)
    app.cli.add_command(token_group)
    app.context_processor(lambda: {"rota_warnings": rota_warnings})

"""The agents' dashboard and the JSON API: login, the live callouts, the call log, tickets, the rota,
reports. It reads every room below it and is read by none."""

from __future__ import annotations

from flask import Flask

from dashboard import api, auth, calllog, reports, rota, takeover, views, web  # noqa: F401 - routes attach on import
from dashboard.cli import token_group, user_group


def register(app: Flask) -> None:
    app.register_blueprint(auth.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(takeover.bp)
    app.register_blueprint(rota.calendar_bp)
    app.cli.add_command(user_group)
    app.cli.add_command(token_group)

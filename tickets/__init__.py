"""The ticket store: clients, services, PINs, tickets and their timeline, the API and the agents' views."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from tickets import api, auth, calllog, cli, reports, views, web  # noqa: F401 - routes attach on import

    app.register_blueprint(auth.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(api.bp)
    app.cli.add_command(cli.user_group)
    app.cli.add_command(cli.token_group)

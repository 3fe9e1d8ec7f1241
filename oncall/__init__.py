"""The on-call side: hours, the rota, callouts, the policy engine, pages, takeover, escalation."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from oncall.cli import load_command

    app.cli.add_command(load_command)

"""The on-call side: hours, the rota, callouts, the policy engine, pages, takeover, escalation."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from oncall.cli import load_command

    app.cli.add_command(load_command)
    from oncall.demo import demo_command
    from oncall.metrics import bp as metrics_bp
    from oncall.routes import bp as oncall_bp

    app.register_blueprint(oncall_bp)
    app.register_blueprint(metrics_bp)
    app.cli.add_command(demo_command)

"""The on-call side: the rota, callouts, the policy engine, the pages to send, takeover, escalation.

It decides who is paged and writes the pages to send as rows; it knows no Twilio word (`voice/`
delivers the rows and reports outcomes back in domain words)."""

from __future__ import annotations

from flask import Flask

from oncall import client_notices, steps, voicemails  # noqa: F401 - their jobs register on import
from oncall.metrics import bp as metrics_bp


def register(app: Flask) -> None:
    app.register_blueprint(metrics_bp)

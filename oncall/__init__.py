"""The on-call side: the rota, callouts, the policy engine, the pages to send, takeover, escalation.

It decides who is paged and writes the pages to send as rows, and owns the outbox that sends them
through the carriers registered by channel; it knows no Twilio word (Twilio's carrier and webhooks are
in `voice/`, e-mail's in `mail/`, and they report outcomes back in domain words)."""

from __future__ import annotations

from flask import Flask

from models import Channel
from oncall import client_notices, delivery, outbox, steps, voicemails  # noqa: F401 - their jobs register on import
from oncall.metrics import bp as metrics_bp
from oncall.outbox_cli import outbox_command


def register(app: Flask) -> None:
    app.register_blueprint(metrics_bp)
    app.cli.add_command(outbox_command)
    if any(Channel.EMAIL in c.channels for c in app.extensions.get("carriers", [])):
        app.extensions[client_notices.EMAIL_SENDER] = outbox.EmailThroughOutbox()

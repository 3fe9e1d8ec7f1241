"""The telephony edge, the only place that knows Twilio: webhooks, TwiML, prompts, outbound calls."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    pass

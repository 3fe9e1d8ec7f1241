"""Vonage, a second carrier for SMS and page calls (it serves France), through its official SDK: the
carrier of the outbox and its signed webhooks (a technician's SMS reply, the page call's key 1).
Registered after Twilio when VONAGE_API_KEY and a secret are set: the outbox fails over to it."""

from __future__ import annotations

from flask import Flask

from oncall import carriers
from vonage_carrier.carrier import VonageCarrier, configured
from vonage_carrier.webhooks import bp


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    if configured(app):
        voice = bool(app.config.get("VONAGE_APPLICATION_ID") and app.config.get("VONAGE_PRIVATE_KEY"))
        carriers.register(app, VonageCarrier(voice))

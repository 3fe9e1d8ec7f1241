"""TwiML answers and the absolute URLs handed to Twilio."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, url_for
from twilio.twiml import TwiML


def twiml(response: TwiML) -> Response:
    return Response(str(response), mimetype="text/xml")


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute URL on PUBLIC_BASE_URL, the address Twilio can reach (and signs)."""
    return current_app.config["PUBLIC_BASE_URL"] + url_for(endpoint, **values)

"""TwiML answers and the absolute URLs handed to Twilio."""

from __future__ import annotations

from typing import Any

from flask import Response
from twilio.twiml import TwiML

from oncall.links import absolute_url


def twiml(response: TwiML) -> Response:
    return Response(str(response), mimetype="text/xml")


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute URL on PUBLIC_BASE_URL, the address Twilio can reach (and signs)."""
    return absolute_url(endpoint, **values)

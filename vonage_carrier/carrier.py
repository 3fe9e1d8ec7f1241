"""Vonage as a carrier of the outbox, through its official SDK (`vonage`): SMS over the SMS API, page
calls over the Voice API (the call fetches its words, an NCCO, from `vonage_carrier/webhooks.py`).
Every address is a setting, the API hosts included, so tests point it at a local stand-in."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from flask import Flask, current_app
from vonage import Auth, HttpClientOptions, Vonage
from vonage_http_client.errors import AuthenticationError, HttpRequestError
from vonage_sms import SmsMessage
from vonage_sms.errors import SmsError
from vonage_voice import CreateCallRequest

from models import Channel
from oncall.carriers import Outgoing, SendError, Sent
from oncall.links import absolute_url
from org.load import current_org
from words.pages import GSM7

# SMS API statuses (the "status" of each message) worth another try: throttled, internal error,
# communication failed. Those that are the carrier's fault: credentials, account barred, quota,
# signature (it is set aside like a failing Twilio).
TEMPORARY_SMS = {"1", "5", "13"}
AUTH_SMS = {"4", "8", "9", "14"}


def configured(app: Flask) -> bool:
    c = app.config
    return bool(c.get("VONAGE_API_KEY") and (c.get("VONAGE_API_SECRET") or c.get("VONAGE_SIGNATURE_SECRET")))


def _private_key(value: str) -> str:
    """VONAGE_PRIVATE_KEY: the PEM itself, or the path of its file."""
    if "-----BEGIN" in value:
        return value
    return Path(value).read_text()


def _client() -> Vonage:
    app = current_app
    client = app.extensions.get("vonage")
    if client is None:
        c = app.config
        voice = bool(c.get("VONAGE_APPLICATION_ID") and c.get("VONAGE_PRIVATE_KEY"))
        auth = Auth(
            api_key=c["VONAGE_API_KEY"],
            api_secret=c.get("VONAGE_API_SECRET") or None,
            application_id=c["VONAGE_APPLICATION_ID"] if voice else None,
            private_key=_private_key(c["VONAGE_PRIVATE_KEY"]) if voice else None,
        )
        options = HttpClientOptions(
            api_host=c["VONAGE_API_HOST"], rest_host=c["VONAGE_REST_HOST"], timeout=int(c["VONAGE_TIMEOUT"])
        )
        client = Vonage(auth, options)
        app.extensions["vonage"] = client
    return client


def _number(e164: str) -> str:
    return e164.removeprefix("+")  # Vonage writes numbers without the +


def _error(exc: Exception) -> SendError:
    if isinstance(exc, AuthenticationError):
        return SendError("Vonage refused our credentials", 401, temporary=False)
    if isinstance(exc, HttpRequestError):
        status = exc.response.status_code
        return SendError(f"Vonage error {status}", status, temporary=status >= 500 or status == 429)
    if isinstance(exc, requests.Timeout):
        return SendError("Vonage: no answer in time", None, temporary=True, maybe_sent=True)
    return SendError(f"Vonage unreachable: {type(exc).__name__}", None, temporary=True)


class VonageCarrier:
    """SMS (and page calls when a Voice application is configured) through Vonage."""

    name = "vonage"

    def __init__(self, voice: bool) -> None:
        self.channels = frozenset({Channel.SMS, Channel.VOICE} if voice else {Channel.SMS})

    def _from(self) -> str:
        return _number(current_app.config.get("VONAGE_NUMBER") or current_org().support_number)

    def send(self, message: Outgoing) -> Sent:
        if message.channel is Channel.SMS:
            return self._sms(message)
        if message.about != "page":
            raise SendError("Vonage places page calls only", None, temporary=False)
        page_id = message.ids["page"]
        request = CreateCallRequest(
            to=[{"type": "phone", "number": _number(message.to)}],
            from_={"type": "phone", "number": self._from()},
            answer_url=[absolute_url("vonage.answer", page=page_id)],
            answer_method="POST",
            event_url=[absolute_url("vonage.events", page=page_id)],
            event_method="POST",
            machine_detection="hangup",  # answered is not acknowledged: a machine is a failure
            ringing_timer=int(current_app.config["PAGE_RING_SECONDS"]),
        )
        try:
            call = _client().voice.create_call(request)
        except Exception as exc:  # noqa: BLE001 - every failure is classified
            raise _error(exc) from exc
        return Sent(call.uuid, call.status or "started")

    def _sms(self, message: Outgoing) -> Sent:
        kind = "text" if set(message.body) <= GSM7 else "unicode"  # GSM-7: 160 characters a segment
        sms = SmsMessage(to=_number(message.to), from_=self._from(), text=message.body, type=kind)
        try:
            answer = _client().sms.send(sms)
        except SmsError as exc:  # the API answered 200 with a status other than 0
            status = next((s for s in str(exc).split() if s.rstrip(":").isdigit()), "")
            status = status.rstrip(":")
            temporary = status in TEMPORARY_SMS
            code = 401 if status in AUTH_SMS else int(status) if status else None
            raise SendError(f"Vonage SMS status {status}", code, temporary) from exc
        except Exception as exc:  # noqa: BLE001
            raise _error(exc) from exc
        first: Any = answer.messages[0]
        return Sent(first.message_id or "", "sent")

    def look_up(self, message: Outgoing, since: datetime, until: datetime | None) -> list[Sent]:
        return []  # the SMS API lists nothing back: an attempt without an answer is sent once more at most

    def probe(self) -> None:
        try:
            _client().account.get_balance()
        except Exception as exc:  # noqa: BLE001
            raise _error(exc) from exc

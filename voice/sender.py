"""Outbound SMS and calls: Twilio's REST API (TWILIO_API_BASE_URL honoured), or the local outbox. The
domain's `oncall.sending` port is plugged to `TwilioSender` when the application is built.

Without credentials nothing leaves the machine: each message or call is written to the
`outbox_message` table and gets a local SID, so the rest of the application runs unchanged.
"""

from __future__ import annotations

import logging
import uuid

from flask import current_app
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client as TwilioClient

from models import OutboxMessage, session
from oncall.sending import SendError, Sent
from org.load import current_org

log = logging.getLogger(__name__)

# Twilio errors worth another try later: rate limits, their side failing.
TEMPORARY_CODES = {20429, 20500, 20503}


def _client() -> TwilioClient:
    app = current_app
    client = app.extensions.get("twilio")
    if client is None:
        # A bounded wait: a REST call that hangs is a temporary error, retried by the pager.
        http = TwilioHttpClient(timeout=float(app.config["TWILIO_TIMEOUT"]))
        client = TwilioClient(
            app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"], http_client=http
        )
        client.api.base_url = app.config["TWILIO_API_BASE_URL"].rstrip("/")
        app.extensions["twilio"] = client
    return client


def _support_number() -> str:
    return current_org().support_number


def _outbox(kind: str, to: str, body: str) -> Sent:
    prefix = "SM" if kind == "sms" else "CA"
    sid = f"{prefix}local{uuid.uuid4().hex[:24]}"
    session.add(OutboxMessage(sid=sid, kind=kind, to_number=to, from_number=_support_number(), body=body))
    session.flush()
    log.info("outbox %s to %s: %s", kind, to, sid)
    return Sent(sid, "outbox")


def _error(exc: Exception) -> SendError:
    if isinstance(exc, TwilioRestException):
        code = exc.code if isinstance(exc.code, int) else None
        temporary = exc.status >= 500 or exc.status == 429 or code in TEMPORARY_CODES
        return SendError(f"Twilio error {code or exc.status}: {exc.msg}", code, temporary)
    status = getattr(exc, "status", None)
    if isinstance(status, int):  # TwilioServiceException (RFC 9457 errors) and the like
        code = getattr(exc, "code", None)
        code = code if isinstance(code, int) else None
        temporary = status >= 500 or status == 429 or code in TEMPORARY_CODES
        return SendError(f"Twilio error {code or status}", code, temporary)
    return SendError(f"Twilio unreachable: {type(exc).__name__}", None, True)


def send_sms(to: str, body: str, status_callback: str | None = None) -> Sent:
    if current_app.config["TWILIO_OUTBOX"]:
        return _outbox("sms", to, body)
    try:
        kwargs = {"status_callback": status_callback} if status_callback else {}
        # A Messaging Service sends from its own sender pool (French geographic numbers cannot send SMS).
        if service := current_app.config.get("TWILIO_MESSAGING_SERVICE_SID"):
            kwargs["messaging_service_sid"] = service
        else:
            kwargs["from_"] = _support_number()
        msg = _client().messages.create(to=to, body=body, **kwargs)
    except Exception as exc:  # noqa: BLE001 - every failure is classified
        raise _error(exc) from exc
    return Sent(msg.sid or "", msg.status or "queued")


def place_call(
    to: str,
    url: str,
    status_callback: str | None = None,
    machine_detection: str | None = "Enable",
    timeout: int = 25,
) -> Sent:
    if current_app.config["TWILIO_OUTBOX"]:
        return _outbox("call", to, url)
    kwargs: dict[str, object] = {"timeout": timeout}
    if status_callback:
        kwargs["status_callback"] = status_callback
        kwargs["status_callback_event"] = ["initiated", "ringing", "answered", "completed"]
    if machine_detection:
        kwargs["machine_detection"] = machine_detection
    try:
        call = _client().calls.create(to=to, from_=_support_number(), url=url, **kwargs)
    except Exception as exc:  # noqa: BLE001
        raise _error(exc) from exc
    return Sent(call.sid or "", call.status or "queued")


def new_local_sid(prefix: str) -> str:
    return f"{prefix}local{uuid.uuid4().hex[:24]}"


class TwilioSender:
    """The `oncall.sending.Sender` of the application."""

    def send_sms(self, to: str, body: str, status_callback: str | None = None) -> Sent:
        return send_sms(to, body, status_callback)

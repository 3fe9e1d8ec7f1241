"""Outbound SMS and calls: Twilio's REST API (TWILIO_API_BASE_URL honoured), or the local outbox. The
outbox's carrier for Twilio (`voice/carrier.py`) sends through here.

Without credentials nothing leaves the machine: each message or call gets a local SID and stays a row
of `outgoing_message` (carrier `outbox`), so the rest of the application runs unchanged.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from flask import current_app
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client as TwilioClient

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
    sid = new_local_sid("SM" if kind == "sms" else "CA")
    log.info("outbox %s to %s: %s", kind, to, sid)
    return Sent(sid, "outbox", body)


def _may_have_arrived(exc: Exception) -> bool:
    """Whether a request that failed this way may still have reached Twilio: the connection was
    made and the answer never came (a read timeout, a connection dropped mid-answer). A refused
    connection or a timeout while connecting never carried the request."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.Timeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        text = repr(exc)
        return not any(w in text for w in ("NewConnectionError", "Connection refused", "NameResolution"))
    return False


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
    maybe = _may_have_arrived(exc)
    what = "no answer in time" if maybe else "unreachable"
    return SendError(f"Twilio {what}: {type(exc).__name__}", None, True, maybe_sent=maybe)


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


# Twilio's clock and ours differ by a little; its dates have whole seconds.
_SLACK = timedelta(seconds=60)


def sent_sms(to: str, since: datetime, until: datetime | None = None) -> list[Sent]:
    """The messages to `to` Twilio accepted between `since` and `until` (its clock and ours differ a
    little: a minute's slack either side), newest first. SendError when Twilio cannot be asked."""
    if current_app.config["TWILIO_OUTBOX"]:
        return []  # the outbox never times out
    try:
        # No date filter at Twilio: it filters on DateSent, which a message still queued has not.
        found = _client().messages.list(to=to, from_=_support_number(), limit=50)
    except Exception as exc:  # noqa: BLE001
        raise _error(exc) from exc
    return [
        Sent(m.sid or "", m.status or "queued", m.body or "", m.date_created or m.date_sent)
        for m in found
        if _within(m.date_created or m.date_sent, since, until)
    ]


def placed_calls(to: str, since: datetime, until: datetime | None = None) -> list[Sent]:
    """The calls to `to` Twilio accepted between `since` and `until` (see sent_sms)."""
    if current_app.config["TWILIO_OUTBOX"]:
        return []
    try:
        found = _client().calls.list(to=to, from_=_support_number(), limit=50)  # StartTime: unset if queued
    except Exception as exc:  # noqa: BLE001
        raise _error(exc) from exc
    return [
        Sent(c.sid or "", c.status or "queued", "", c.date_created or c.start_time)
        for c in found
        if _within(c.date_created or c.start_time, since, until)
    ]


def _within(at: datetime | None, since: datetime, until: datetime | None) -> bool:
    if at is None:
        return True
    return at >= since - _SLACK and (until is None or at <= until + _SLACK)


def find_sms(to: str, since: datetime, contains: str) -> Sent | None:
    """The message to `to` Twilio holds since `since` whose body contains `contains`: what a request
    that timed out may have sent."""
    return next((m for m in sent_sms(to, since) if contains in m.body), None)


@dataclass(frozen=True)
class Status:
    """What Twilio holds now of one message or call it accepted."""

    status: str
    error_code: str | None = None
    answered_by: str | None = None


def fetch_status(sid: str) -> Status:
    """The current status of message `SM…` or call `CA…` at Twilio (SendError when it cannot be asked):
    what a status callback that never reached us would have said."""
    try:
        if sid.startswith("CA"):
            call = _client().calls(sid).fetch()
            return Status(call.status or "queued", None, getattr(call, "answered_by", None) or None)
        msg = _client().messages(sid).fetch()
        code = msg.error_code
        return Status(msg.status or "queued", str(code) if code else None)
    except Exception as exc:  # noqa: BLE001
        raise _error(exc) from exc


def fetch_account() -> None:
    """Whether Twilio answers with our credentials: the account, fetched (SendError when not)."""
    if current_app.config["TWILIO_OUTBOX"]:
        return
    try:
        _client().api.v2010.accounts(current_app.config["TWILIO_ACCOUNT_SID"]).fetch()
    except Exception as exc:  # noqa: BLE001
        raise _error(exc) from exc


def new_local_sid(prefix: str) -> str:
    return f"{prefix}local{uuid.uuid4().hex[:24]}"

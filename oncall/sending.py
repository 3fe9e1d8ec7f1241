"""The port through which the domain sends a text message: `voice/` plugs in Twilio's REST API (or the
local outbox) when the application is built. The domain knows what to say and to whom; never how."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from flask import current_app


@dataclass(frozen=True)
class Sent:
    """What the carrier said: its id for the message or call, and the first status."""

    sid: str
    status: str
    body: str = ""  # what the carrier holds, when it was looked up
    at: datetime | None = None  # when the carrier accepted it, when it was looked up


class SendError(Exception):
    """The carrier refused or could not be reached. `temporary` says whether retrying may help;
    `maybe_sent` that the request may have reached the carrier (no answer came back in time): look
    it up before sending it again, or the recipient gets it twice."""

    def __init__(self, message: str, code: int | None, temporary: bool, maybe_sent: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.temporary = temporary
        self.maybe_sent = maybe_sent


class Sender(Protocol):
    def send_sms(self, to: str, body: str, status_callback: str | None = None) -> Sent: ...

    def find_sms(self, to: str, since: datetime, contains: str) -> Sent | None: ...


def send_sms(to: str, body: str) -> Sent:
    """Send `body` to `to` through the sender the application plugged in (SendError otherwise)."""
    sender: Sender = current_app.extensions["sender"]
    return sender.send_sms(to, body)


def find_sms(to: str, since: datetime, contains: str) -> Sent | None:
    """A text message to `to` the carrier holds since `since` whose body contains `contains` (the
    reconciliation of an attempt whose answer never came); SendError when it cannot be asked."""
    sender: Sender = current_app.extensions["sender"]
    return sender.find_sms(to, since, contains)

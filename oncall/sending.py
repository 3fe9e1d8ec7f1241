"""The port through which the domain sends a text message: `voice/` plugs in Twilio's REST API (or the
local outbox) when the application is built. The domain knows what to say and to whom; never how."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import current_app


@dataclass(frozen=True)
class Sent:
    """What the carrier said: its id for the message or call, and the first status."""

    sid: str
    status: str


class SendError(Exception):
    """The carrier refused or could not be reached. `temporary` says whether retrying may help."""

    def __init__(self, message: str, code: int | None, temporary: bool) -> None:
        super().__init__(message)
        self.code = code
        self.temporary = temporary


class Sender(Protocol):
    def send_sms(self, to: str, body: str, status_callback: str | None = None) -> Sent: ...


def send_sms(to: str, body: str) -> Sent:
    """Send `body` to `to` through the sender the application plugged in (SendError otherwise)."""
    sender: Sender = current_app.extensions["sender"]
    return sender.send_sms(to, body)

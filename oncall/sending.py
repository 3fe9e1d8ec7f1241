"""The domain's short way to send a text message (the caller's receipt, "pris en charge", a supervisor's
alert): one outgoing message through the outbox (`oncall/outbox.py`), whichever SMS carrier takes it.
The domain knows what to say and to whom; never how."""

from __future__ import annotations

from datetime import datetime

from models import Channel
from oncall import outbox
from oncall.carriers import Outgoing, SendError, Sent

__all__ = ["SendError", "Sent", "find_sms", "send_sms"]


def send_sms(to: str, body: str, kind: str = "sms", person_id: str | None = None) -> Sent:
    """Send `body` to `to` through the first SMS carrier that takes it (SendError when none does)."""
    return outbox.send(kind, Outgoing(Channel.SMS, to, body), person_id)


def find_sms(to: str, since: datetime, contains: str) -> Sent | None:
    """A text message to `to` a carrier holds since `since` whose body contains `contains` (the
    reconciliation of an attempt whose answer never came); SendError when it cannot be asked."""
    found = outbox.look_up(Outgoing(Channel.SMS, to), since, None)
    return next((m for m in found if contains in m.body), None)

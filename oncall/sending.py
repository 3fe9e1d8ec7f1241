"""The domain's short way to send a text message (the caller's receipt, "pris en charge", a supervisor's
alert): one outgoing message through the outbox (`oncall/outbox.py`), whichever SMS carrier takes it.
The domain knows what to say and to whom; never how. `text_once` sends a message once for what it is
about, and the outbox tries it again after a temporary failure (`retries.retry_due`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from models import Channel, MessageState, OutgoingMessage
from oncall import outbox, retries
from oncall.carriers import Outgoing, SendError, Sent

__all__ = ["SendError", "Sent", "find_sms", "send_sms", "text_once", "told"]


def send_sms(to: str, body: str, kind: str = "sms", person_id: str | None = None) -> Sent:
    """Send `body` to `to` through the first SMS carrier that takes it (SendError when none does)."""
    return outbox.send(kind, Outgoing(Channel.SMS, to, body), person_id)


def text_once(
    kind: str, to: str, body: str, topic: str, person_id: str | None = None, **facts: Any
) -> OutgoingMessage | None:
    """Text `body` to `to` once for `topic` (`pin_lock:12`): None when it was already asked for. The
    row returned says what came of the first round; a temporary failure is tried again by the outbox."""
    return retries.once(kind, Outgoing(Channel.SMS, to, body), topic, person_id, **facts)


def told(row: OutgoingMessage | None) -> dict[str, Any]:
    """What a timeline keeps of a message's first round: its id at the carrier, or its error and
    whether it is tried again."""
    if row is None:
        return {}
    if row.carrier_id and row.state not in outbox.NOT_REACHED:
        return {"sid": row.carrier_id}
    facts: dict[str, Any] = {"error": (row.details or {}).get("code")}
    if row.state is not MessageState.FAILED_PERMANENT and retries.retrying(row):
        facts["retrying"] = True
    return facts


def find_sms(to: str, since: datetime, contains: str) -> Sent | None:
    """A text message to `to` a carrier holds since `since` whose body contains `contains` (the
    reconciliation of an attempt whose answer never came); SendError when it cannot be asked."""
    found = outbox.look_up(Outgoing(Channel.SMS, to), since, None)
    return next((m for m in found if contains in m.body), None)

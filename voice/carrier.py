"""Twilio as a carrier of the outbox, for SMS and calls: what a message is about becomes the addresses
Twilio calls back (the page call's words and keys, the status callbacks). In local-outbox mode (no
credentials) the same adapter is named `outbox`, and nothing leaves the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from models import Channel
from oncall.carriers import Outgoing, Sent
from oncall.links import absolute_url
from voice import sender


@dataclass(frozen=True)
class _Call:
    """Where Twilio fetches the words of a call about something, where it reports its statuses (each
    endpoint with the ids it takes), whether it detects an answering machine, how long it rings."""

    words: tuple[str, tuple[str, ...]]
    status: tuple[str, tuple[str, ...]]
    machine_detection: str | None  # answered is not acknowledged: a machine is a failure
    ring: str | int  # a setting's name, or seconds


_CALLS = {
    "page": _Call(("paging.call", ("page",)), ("paging.status", ()), "Enable", "PAGE_RING_SECONDS"),
    "page_test": _Call(
        ("page_tests.call", ("test",)), ("page_tests.status", ("test",)), "Enable", "PAGE_RING_SECONDS"
    ),
    # The technician asked for it (the take-over page's button): no key needed to prove a human.
    "callback": _Call(
        ("callback.connect", ("callout", "person")), ("callback.status", ("callout",)), None, 30
    ),
}
_SMS_STATUS = {
    None: ("sms.status", ()),
    "page": ("sms.status", ()),
    "page_test": ("page_tests.status", ("test",)),
}


def _url(endpoint: tuple[str, tuple[str, ...]], message: Outgoing) -> str:
    name, args = endpoint
    return absolute_url(name, **{arg: message.ids[arg] for arg in args})


class TwilioCarrier:
    """SMS and calls over Twilio's REST API (TWILIO_API_BASE_URL honoured), or the local outbox."""

    channels = frozenset({Channel.SMS, Channel.VOICE})

    @property
    def name(self) -> str:
        return "outbox" if current_app.config["TWILIO_OUTBOX"] else "twilio"

    def send(self, message: Outgoing) -> Sent:
        if message.channel is Channel.SMS:
            status = _url(_SMS_STATUS[message.about], message)
            return sender.send_sms(message.to, message.body, status_callback=status)
        call = _CALLS.get(message.about or "")
        if call is None:
            raise ValueError(f"a call must say what it is about, not {message.about!r}")
        ring = call.ring if isinstance(call.ring, int) else int(current_app.config[call.ring])
        return sender.place_call(
            message.to,
            _url(call.words, message),
            status_callback=_url(call.status, message),
            machine_detection=call.machine_detection,
            timeout=ring,
        )

    def probe(self) -> None:
        sender.fetch_account()

    def look_up(self, message: Outgoing, since: datetime, until: datetime | None) -> list[Sent]:
        if message.channel is Channel.SMS:
            return sender.sent_sms(message.to, since, until)
        return sender.placed_calls(message.to, since, until)

"""Twilio as a carrier of the outbox, for SMS and calls: what a message is about becomes the addresses
Twilio calls back (the page call's words and keys, the status callbacks). In local-outbox mode (no
credentials) the same adapter is named `outbox`, and nothing leaves the machine.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from models import Channel
from oncall.carriers import Outgoing, Sent
from oncall.links import absolute_url
from voice import sender

# Where Twilio fetches the words of a call, and where it reports its statuses, by what it is about.
_CALL_WORDS = {"page": ("paging.call", "page"), "page_test": ("page_tests.call", "test")}
_CALL_STATUS = {"page": ("paging.status", None), "page_test": ("page_tests.status", "test")}
_SMS_STATUS = {
    None: ("sms.status", None),
    "page": ("sms.status", None),
    "page_test": ("page_tests.status", "test"),
}


def _url(endpoint: tuple[str, str | None], about: tuple[str, int] | None) -> str:
    name, arg = endpoint
    return absolute_url(name, **({arg: about[1]} if arg and about else {}))


class TwilioCarrier:
    """SMS and calls over Twilio's REST API (TWILIO_API_BASE_URL honoured), or the local outbox."""

    channels = frozenset({Channel.SMS, Channel.VOICE})

    @property
    def name(self) -> str:
        return "outbox" if current_app.config["TWILIO_OUTBOX"] else "twilio"

    def send(self, message: Outgoing) -> Sent:
        kind = message.about[0] if message.about else None
        if message.channel is Channel.SMS:
            return sender.send_sms(
                message.to, message.body, status_callback=_url(_SMS_STATUS[kind], message.about)
            )
        if kind not in _CALL_WORDS:
            raise ValueError(f"a call must say what it is about, not {message.about!r}")
        return sender.place_call(
            message.to,
            _url(_CALL_WORDS[kind], message.about),
            status_callback=_url(_CALL_STATUS[kind], message.about),
            machine_detection="Enable",  # answered is not acknowledged: a machine is a failure
            timeout=int(current_app.config["PAGE_RING_SECONDS"]),
        )

    def probe(self) -> None:
        sender.fetch_account()

    def look_up(self, message: Outgoing, since: datetime, until: datetime | None) -> list[Sent]:
        if message.channel is Channel.SMS:
            return sender.sent_sms(message.to, since, until)
        return sender.placed_calls(message.to, since, until)

"""What the support number answers, kept on the call, and the <Record> every kind of message shares.

Every answer carries a sequence number (`n`) in its URLs and is kept on the call: a request Twilio
sends twice (or late) gets the same answer again and changes nothing.
"""

from __future__ import annotations

from flask import current_app
from twilio.twiml.voice_response import VoiceResponse

from models import Call
from oncall.links import absolute_url
from tickets.calls import recall, remember
from voice.twiml import document

RECORD_MAX_SECONDS = 180


def is_current(call: Call, n: str | None) -> bool:
    """Is this request an answer to the last thing we said? (Otherwise: a retry, or a late one.)"""
    return n is not None and n == str(recall(call, "seq", 0))


def saved_answer(call: Call) -> str | None:
    return recall(call, "twiml")


def next_seq(call: Call) -> int:
    n = int(recall(call, "seq", 0)) + 1
    remember(call, seq=n)
    return n


def kept(call: Call, r: VoiceResponse) -> VoiceResponse:
    remember(call, twiml=document(r))
    return r


def record_message(r: VoiceResponse, action: str) -> None:
    """The <Record> of a message, night or desk: `#` ends it, the recording callback keeps it even
    when the caller hangs up before the action comes back."""
    r.record(
        action=action,
        method="POST",
        max_length=RECORD_MAX_SECONDS,
        timeout=10,
        finish_on_key="#",
        play_beep=True,
        recording_status_callback=absolute_url("caller.recording"),
        recording_status_callback_method="POST",
    )


def retention_days() -> int:
    """How many days a recording is kept: what the recording notice says."""
    return int(current_app.config["RECORDING_RETENTION_DAYS"])

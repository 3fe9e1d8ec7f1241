"""What the Twilio stand-in holds: the SMS and calls its account took, the recordings of Twilio's
fallback, and the failures it was told to give (devtools/fake_twilio.py drives it)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Message:
    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    at: datetime
    wall: float
    status: str = "sent"  # what a look-up of the message says now; status callbacks move it
    error_code: str | None = None


@dataclass
class PlacedCall:
    sid: str
    to: str
    from_: str
    url: str
    status_callback: str | None
    events: list[str]
    machine_detection: str | None
    timeout: str | None
    at: datetime
    wall: float
    status: str = "queued"
    answered_by: str | None = None
    direction: str = "outbound-api"


@dataclass
class Recording:
    """A recording Twilio holds (the fallback's <Record> while astreinte was down)."""

    sid: str
    call_sid: str
    at: datetime
    seconds: int
    status: str = "completed"
    source: str = "RecordVerb"


@dataclass
class Failure:
    """status 0 drops the connection unanswered; `accept` keeps the message or call (Twilio got it)
    and answers after `delay`: the client gave up waiting although the request went through."""

    status: int
    code: int | None
    delay: float = 0.0
    accept: bool = False


# What a bad night looks like from the REST API (weights): errors Twilio documents, and the network.
CHAOS = [
    (Failure(500, 20500), 2),
    (Failure(503, 20503), 2),
    (Failure(429, 20429), 2),
    (Failure(0, None), 1),  # connection dropped before any answer
    (Failure(201, None, delay=2.0, accept=True), 2),  # accepted, answered past the client's timeout
    (Failure(503, 20503, delay=2.0), 1),  # hangs past the timeout, then fails
]


@dataclass
class State:
    messages: list[Message] = field(default_factory=list)
    calls: list[PlacedCall] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=lambda: {"sms": [], "call": [], "lookup": []})
    inbound: list[PlacedCall] = field(default_factory=list)  # calls to the support number
    recordings: list[Recording] = field(default_factory=list)
    recording_queries: list[dict[str, str]] = field(default_factory=list)  # each Recordings list asked
    requests: int = 0
    numbers: list[dict[str, Any]] = field(default_factory=list)  # the account's incoming phone numbers
    lookups: int = 0
    chaos_rate: float = 0.0
    latency: float = 0.0  # every accepted request is answered this late
    chaos_rng: random.Random = field(default_factory=lambda: random.Random(0))
    injected: list[tuple[str, int, bool]] = field(default_factory=list)  # (kind, status, accepted)
    outage: Failure | None = None  # every request (sends, look-ups, the account) answers this
    refused: int = 0  # requests answered by the outage

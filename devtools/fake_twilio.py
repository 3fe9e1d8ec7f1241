"""A Twilio REST stand-in: a real HTTP server on 127.0.0.1, in a thread, speaking the shape of Twilio's
`POST /2010-04-01/Accounts/{sid}/Messages.json` and `Calls.json`.

It records every SMS and call the application sends, can be told to fail (HTTP status + Twilio error
code, a hang past the client's timeout, a request accepted whose answer comes too late, a dropped
connection), or to misbehave at random on a share of requests (`chaos`); it lists what it holds
(`GET Messages.json?To=`, `Calls.json?To=`, `Recordings.json?DateCreated>=`, a call by its SID) as Twilio
does, for the application's look-ups, holds what Twilio's fallback recorded (`fallback_recorded`); and it can
ring a technician: walk the page call with the fake phone, answering as a human or a machine, or not
answering (busy, no-answer, failed).

Point the application at it with TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_API_BASE_URL and
TWILIO_OUTBOX False: the tests' `twilio` fixture does that (tests/twilio_standin.py), and the benchmarks
run against it with `keep_alive` (HTTP/1.1 and TCP_NODELAY, as Twilio's API answers) and `since`.
What it holds is in fake_twilio_account.py, how it answers over HTTP in fake_twilio_rest.py.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from http.server import ThreadingHTTPServer
from typing import Any

import clock
from devtools.fake_twilio_account import CHAOS, Failure, Message, PlacedCall, Recording, State
from devtools.fake_twilio_rest import RECORDINGS_QUERY
from devtools.fake_twilio_rest import handler as rest_handler
from devtools.simulator import Call, Phone

__all__ = [
    "ACCOUNT_SID",
    "AUTH_TOKEN",
    "CHAOS",
    "RECORDINGS_QUERY",
    "Arrival",
    "Failure",
    "Message",
    "PlacedCall",
    "Recording",
    "TwilioStandIn",
]

ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "stand-in-auth-token-0123456789abcdef"  # signs the page calls it rings


@dataclass(frozen=True)
class Arrival:
    """One request that reached the stand-in: an SMS or a call, and when (time.time())."""

    kind: str  # sms | call
    to: str
    body: str
    wall: float


class TwilioStandIn:
    def __init__(
        self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN, keep_alive: bool = False
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.state = State()
        self.lock = threading.Lock()
        handler = rest_handler(self)
        if keep_alive:  # the benchmarks: the twilio client keeps its connection, no Nagle delay
            handler.protocol_version = "HTTP/1.1"
            handler.disable_nagle_algorithm = True
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.phone: Phone | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def since(self, wall: float) -> list[Arrival]:
        """The SMS and calls that arrived at or after `wall` (time.time()), in order."""
        with self.lock:
            found = [Arrival("sms", m.to, m.body, m.wall) for m in self.state.messages if m.wall >= wall]
            found += [Arrival("call", c.to, c.url, c.wall) for c in self.state.calls if c.wall >= wall]
        return sorted(found, key=lambda a: a.wall)

    def reset(self) -> None:
        with self.lock:
            self.state = State()

    # --- what the application sent -------------------------------------------------------------

    @property
    def messages(self) -> list[Message]:
        with self.lock:
            return list(self.state.messages)

    @property
    def calls(self) -> list[PlacedCall]:
        with self.lock:
            return list(self.state.calls)

    def sms_sent_to(self, number: str) -> list[Message]:
        return [m for m in self.messages if m.to == number]

    def sms_to(self, number: str) -> Message:
        """The last SMS sent to `number` (fails when none was)."""
        sent = self.sms_sent_to(number)
        assert sent, f"no SMS to {number}; sent: {[(m.to, m.body) for m in self.messages]}"
        return sent[-1]

    def calls_to(self, number: str) -> list[PlacedCall]:
        return [c for c in self.calls if c.to == number]

    def call_to(self, number: str) -> PlacedCall:
        placed = self.calls_to(number)
        assert placed, f"no call to {number}; placed: {[c.to for c in self.calls]}"
        return placed[-1]

    def own_number(self, phone_number: str, **fields: Any) -> dict[str, Any]:
        """The account owns `phone_number` (what `astreinte check` reads): Twilio's fields, overridable."""
        number = {
            "sid": "PN" + uuid.uuid4().hex,
            "account_sid": self.account_sid,
            "phone_number": phone_number,
            "friendly_name": phone_number,
            "capabilities": {"voice": True, "sms": True, "mms": False, "fax": False},
            "voice_url": "",
            "voice_method": "POST",
            "voice_fallback_url": "",
            "status_callback": "",
            "status_callback_method": "POST",
            "sms_url": "",
            "sms_method": "POST",
            **fields,
        }
        with self.lock:
            self.state.numbers.append(number)
        return number

    def fallback_recorded(
        self, from_: str, to: str, seconds: int = 20, at: datetime | None = None
    ) -> tuple[PlacedCall, Recording]:
        """A caller reached the support number while astreinte did not answer: Twilio's fallback
        recorded their message (an inbound call and its completed recording)."""
        at = at or clock.now()
        call = PlacedCall(
            "CA" + uuid.uuid4().hex, to, from_, "", None, [], None, None, at, time.time(), "completed"
        )
        call.direction = "inbound"
        recording = Recording("RE" + uuid.uuid4().hex, call.sid, at, seconds)
        with self.lock:
            self.state.inbound.append(call)
            self.state.recordings.append(recording)
        return call, recording

    @property
    def recording_queries(self) -> list[dict[str, str]]:
        with self.lock:
            return list(self.state.recording_queries)

    # --- making it fail --------------------------------------------------------------------------

    def fail_next(
        self,
        kind: str,
        status: int = 500,
        code: int | None = None,
        times: int = 1,
        delay: float = 0.0,
        accept: bool = False,
    ) -> None:
        """The next `times` requests for `kind` (sms, call, lookup) answer `status` with Twilio error
        `code`; with `delay`, the answer comes that many seconds late (past a client's timeout); with
        `accept`, the message or call is kept all the same (Twilio got it); status 0 drops the
        connection unanswered."""
        with self.lock:
            self.state.failures[kind].extend(Failure(status, code, delay, accept) for _ in range(times))

    def down(self, status: int = 503, code: int | None = 20503, delay: float = 0.0) -> None:
        """Twilio's API out of order: every request answers `status` (after `delay`) until `up()`."""
        with self.lock:
            self.state.outage = Failure(status, code, delay)

    def up(self) -> None:
        with self.lock:
            self.state.outage = None

    @property
    def refused(self) -> int:
        with self.lock:
            return self.state.refused

    def outage_now(self) -> Failure | None:
        """The outage every request answers now (counted as refused), or None."""
        with self.lock:
            if self.state.outage is not None:
                self.state.refused += 1
            return self.state.outage

    def chaos(self, rate: float, seed: int = 0) -> None:
        """From now on, `rate` of the POSTs (SMS and calls) misbehave, drawn from CHAOS."""
        with self.lock:
            self.state.chaos_rate = rate
            self.state.chaos_rng = random.Random(seed)

    def next_failure(self, kind: str) -> Failure | None:
        """The failure a POST of `kind` meets: the next one told (`fail_next`), or a chaos draw."""
        st = self.state
        if st.failures[kind]:
            return st.failures[kind].pop(0)
        if st.chaos_rate and st.chaos_rng.random() < st.chaos_rate:
            choices, weights = zip(*CHAOS, strict=True)
            return st.chaos_rng.choices(choices, weights)[0]
        return None

    # --- the technician's phone ------------------------------------------------------------------

    def ring(self, call: PlacedCall, answer: str = "human") -> Call | None:
        """The technician's phone rings: `human` or `machine` picks up (returns the walked call);
        `busy`, `no-answer`, `failed` post the status callback Twilio would, and return None."""
        assert self.phone is not None, "the stand-in needs a phone (the `twilio` fixture sets it)"
        if answer in ("human", "machine"):
            self.now_is(call, "in-progress", answered_by="human" if answer == "human" else "machine_start")
            return self.phone.answer(
                call.url,
                call_sid=call.sid,
                from_=call.from_,
                to=call.to,
                answered_by="human" if answer == "human" else "machine_start",
                status_callback=call.status_callback,
            )
        self.status(call, answer)
        return None

    def status(
        self,
        call: PlacedCall | Message,
        status: str,
        error_code: str | None = None,
        answered_by: str | None = None,
    ) -> int:
        """Post one status callback for a call (CallStatus) or a message (MessageStatus); a look-up
        at the stand-in says it from now on."""
        self.now_is(call, status, error_code, answered_by)
        assert self.phone is not None and call.status_callback
        if isinstance(call, PlacedCall):
            params = {
                "CallSid": call.sid,
                "AccountSid": self.account_sid,
                "From": call.from_,
                "To": call.to,
                "CallStatus": status,
                "Direction": "outbound-api",
                "ApiVersion": "2010-04-01",
                "CallDuration": "0",
            }
            if answered_by:
                params["AnsweredBy"] = answered_by
        else:
            params = {
                "MessageSid": call.sid,
                "SmsSid": call.sid,
                "AccountSid": self.account_sid,
                "From": call.from_,
                "To": call.to,
                "MessageStatus": status,
                "SmsStatus": status,
                "ApiVersion": "2010-04-01",
            }
        if error_code:
            params["ErrorCode"] = error_code
        code, _body = self.phone.send(call.status_callback, params)
        return code

    def now_is(
        self,
        call: PlacedCall | Message,
        status: str,
        error_code: str | None = None,
        answered_by: str | None = None,
    ) -> None:
        """What a look-up of this call or message says from now on, with no callback posted (one that
        never reached the application)."""
        with self.lock:
            call.status = status
            if isinstance(call, Message):
                call.error_code = error_code or call.error_code
            elif answered_by:
                call.answered_by = answered_by

    def reply(self, from_: str, body: str, sid: str | None = None) -> tuple[int, str]:
        """An SMS from `from_` to the support number: POSTs /sms/incoming like Twilio."""
        assert self.phone is not None
        params = {
            "MessageSid": sid or "SM" + uuid.uuid4().hex,
            "AccountSid": self.account_sid,
            "From": from_,
            "To": self.phone._support_number(),
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "ApiVersion": "2010-04-01",
        }
        params["SmsSid"] = params["MessageSid"]
        return self.phone.send("/sms/incoming", params)

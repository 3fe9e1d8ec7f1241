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
"""

from __future__ import annotations

import base64
import email.utils
import json
import random
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import clock
from devtools.simulator import Call, Phone

ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "stand-in-auth-token-0123456789abcdef"  # signs the page calls it rings


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


# The query parameters of `GET /2010-04-01/Accounts/{AccountSid}/Recordings.json` in Twilio's API
# description (twilio-oai, spec/json/twilio_api_v2010.json, operation ListRecording): nothing else.
RECORDINGS_QUERY = {
    "DateCreated",
    "DateCreated<",
    "DateCreated>",
    "CallSid",
    "ConferenceSid",
    "IncludeSoftDeleted",
    "PageSize",
    "Page",
    "PageToken",
}


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
class _State:
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
        self.state = _State()
        self.lock = threading.Lock()
        handler = _handler(self)
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
            self.state = _State()

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

    def _outage(self) -> Failure | None:
        with self.lock:
            if self.state.outage is not None:
                self.state.refused += 1
            return self.state.outage

    def chaos(self, rate: float, seed: int = 0) -> None:
        """From now on, `rate` of the POSTs (SMS and calls) misbehave, drawn from CHAOS."""
        with self.lock:
            self.state.chaos_rate = rate
            self.state.chaos_rng = random.Random(seed)

    def _next_failure(self, kind: str) -> Failure | None:
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


def _handler(standin: TwilioStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (its timeout): as with Twilio, the request stands

        def _error(self, status: int, code: int | None, message: str) -> None:
            self._answer(
                status,
                {
                    "code": code,
                    "message": message,
                    "status": status,
                    "more_info": f"https://www.twilio.com/docs/errors/{code}",
                },
            )

        def _authorised(self) -> bool:
            expected = (
                "Basic " + base64.b64encode(f"{standin.account_sid}:{standin.auth_token}".encode()).decode()
            )
            return self.headers.get("Authorization") == expected

        def do_GET(self) -> None:  # noqa: N802 - the account, its numbers, and the lists filtered by To
            if not self._authorised():
                return self._error(401, 20003, "Authenticate")
            if (outage := standin._outage()) is not None:
                return self._fail(outage)
            path, _, query = self.path.partition("?")
            account = f"/2010-04-01/Accounts/{standin.account_sid}"
            if path == account + ".json":
                return self._answer(
                    200,
                    {
                        "sid": standin.account_sid,
                        "status": "active",
                        "friendly_name": "stand-in",
                        "type": "Full",
                    },
                )
            if path == account + "/IncomingPhoneNumbers.json":
                wanted = urllib.parse.parse_qs(query).get("PhoneNumber", [None])[0]
                with standin.lock:
                    found = [n for n in standin.state.numbers if wanted in (None, n["phone_number"])]
                return self._page("incoming_phone_numbers", found, account + "/IncomingPhoneNumbers.json")
            prefix = f"/2010-04-01/Accounts/{standin.account_sid}/"
            if path == prefix + "Recordings.json":
                return self._recordings(query)
            kind, _, sid = path.removeprefix(prefix).removesuffix(".json").partition("/")
            if sid:  # one message or call, by its SID
                with standin.lock:
                    if kind == "Messages":
                        found = [_message_json(m) for m in standin.state.messages if m.sid == sid]
                    else:
                        calls = standin.state.calls + standin.state.inbound
                        found = [_call_json(c) for c in calls if c.sid == sid]
                if not found:
                    return self._error(404, 20404, f"The requested resource {path} was not found")
                return self._answer(200, found[0])
            to = urllib.parse.parse_qs(query).get("To", [""])[0]
            with standin.lock:
                standin.state.lookups += 1
                failure = self._draw("lookup")
                if path == prefix + "Messages.json":
                    key, rows = "messages", [_message_json(m) for m in standin.state.messages if m.to == to]
                elif path == prefix + "Calls.json":
                    key, rows = "calls", [_call_json(c) for c in standin.state.calls if c.to == to]
                else:
                    return self._error(404, 20404, f"The requested resource {path} was not found")
            if failure is not None and not failure.accept:
                return self._fail(failure)
            rows.reverse()  # newest first, as Twilio lists
            self._answer(
                200,
                {key: rows, "next_page_uri": None, "page": 0, "page_size": 50, "uri": self.path, "start": 0},
            )

        def _recordings(self, query: str) -> None:
            """The Recordings list, refusing what Twilio's API description does not allow (unknown
            parameters, a date that is not ISO 8601, a page size out of 1-1000, a malformed CallSid)."""
            asked = {k: v[-1] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}
            unknown = set(asked) - RECORDINGS_QUERY
            if unknown:
                return self._error(400, 20001, f"Unknown parameter(s) {sorted(unknown)}")
            bounds: dict[str, datetime] = {}
            for name in ("DateCreated>", "DateCreated<"):
                if name in asked:
                    try:
                        bounds[name] = datetime.fromisoformat(asked[name].replace("Z", "+00:00"))
                    except ValueError:
                        return self._error(400, 20001, f"{name} is not a date-time")
            size = asked.get("PageSize", "50")
            if not size.isdigit() or not 1 <= int(size) <= 1000:
                return self._error(400, 20001, "PageSize must be 1 to 1000")
            if "CallSid" in asked and not (len(asked["CallSid"]) == 34 and asked["CallSid"].startswith("CA")):
                return self._error(400, 20001, "CallSid is not a call SID")
            with standin.lock:
                standin.state.recording_queries.append(asked)
                failure = self._draw("lookup")
                rows = [
                    _recording_json(standin.account_sid, r)
                    for r in reversed(standin.state.recordings)  # newest first, as Twilio lists
                    if ("DateCreated>" not in bounds or r.at >= bounds["DateCreated>"])
                    and ("DateCreated<" not in bounds or r.at <= bounds["DateCreated<"])
                    and asked.get("CallSid", r.call_sid) == r.call_sid
                ]
            if failure is not None and not failure.accept:
                return self._fail(failure)
            uri = f"/2010-04-01/Accounts/{standin.account_sid}/Recordings.json"
            return self._page("recordings", rows[: int(size)], uri, int(size), total=len(rows))

        def _page(
            self, key: str, rows: list[dict[str, Any]], uri: str, size: int = 50, total: int | None = None
        ) -> None:
            """One page of a Twilio list: everything fits, so there is no next page."""
            end = max((len(rows) if total is None else total) - 1, 0)
            self._answer(
                200,
                {
                    key: rows,
                    "page": 0,
                    "page_size": size,
                    "start": 0,
                    "end": end,
                    "uri": uri,
                    "first_page_uri": uri,
                    "next_page_uri": None,
                    "previous_page_uri": None,
                },
            )

        def _draw(self, kind: str) -> Failure | None:
            if kind == "lookup":
                st = standin.state
                if st.failures["lookup"]:
                    return st.failures["lookup"].pop(0)
                if st.chaos_rate and st.chaos_rng.random() < st.chaos_rate / 3:
                    return Failure(503, 20503)
                return None
            return standin._next_failure(kind)

        def _fail(self, failure: Failure) -> None:
            if failure.delay:
                time.sleep(failure.delay)
            if failure.status == 0:
                self.close_connection = True
                self.connection.close()
                return
            self._error(failure.status, failure.code, "stand-in told to fail")

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
            prefix = f"/2010-04-01/Accounts/{standin.account_sid}/"
            if not self._authorised():
                return self._error(401, 20003, "Authenticate")
            if (outage := standin._outage()) is not None:
                return self._fail(outage)
            if self.path == prefix + "Messages.json":
                kind = "sms"
            elif self.path == prefix + "Calls.json":
                kind = "call"
            else:
                return self._error(404, 20404, f"The requested resource {self.path} was not found")
            with standin.lock:
                standin.state.requests += 1
                failure = self._draw(kind)
                if failure is not None:
                    standin.state.injected.append((kind, failure.status, failure.accept))
            if failure is not None and not failure.accept:
                return self._fail(failure)
            late = failure.delay if failure is not None else standin.state.latency
            one = {k: v[0] for k, v in form.items()}
            if kind == "sms" and not one.get("From") and one.get("MessagingServiceSid"):
                one["From"] = one["MessagingServiceSid"]  # a Messaging Service picks the sender
            if not one.get("To") or not one.get("From"):
                return self._error(400, 21604, "A 'To' phone number is required.")
            if kind == "sms":
                msg = Message(
                    "SM" + uuid.uuid4().hex,
                    one["To"],
                    one["From"],
                    one.get("Body", ""),
                    one.get("StatusCallback"),
                    clock.now(),
                    time.time(),
                )
                return self._accepted(standin.state.messages, msg, late, body=msg.body, num_segments="1")
            call = PlacedCall(
                "CA" + uuid.uuid4().hex,
                one["To"],
                one["From"],
                one.get("Url", ""),
                one.get("StatusCallback"),
                form.get("StatusCallbackEvent", []),
                one.get("MachineDetection"),
                one.get("Timeout"),
                clock.now(),
                time.time(),
            )
            return self._accepted(standin.state.calls, call, late)

        def _accepted(self, held: list[Any], sent: Message | PlacedCall, late: float, **extra: str) -> None:
            """Keep the message or call, then answer 201 queued (after `late`, the injected latency)."""
            with standin.lock:
                held.append(sent)
            if late:
                time.sleep(late)
            self._answer(
                201,
                {
                    "sid": sent.sid,
                    "status": "queued",
                    "to": sent.to,
                    "from": sent.from_,
                    "account_sid": standin.account_sid,
                    "direction": "outbound-api",
                    **extra,
                },
            )

    return Handler


def _rfc2822(at: datetime) -> str:
    return email.utils.format_datetime(clock.as_utc(at), usegmt=True)


def _message_json(m: Message) -> dict[str, Any]:
    return {
        "sid": m.sid,
        "status": m.status,
        "error_code": int(m.error_code) if m.error_code else None,
        "to": m.to,
        "from": m.from_,
        "body": m.body,
        "date_created": _rfc2822(m.at),
        "date_sent": _rfc2822(m.at),
        "direction": "outbound-api",
    }


def _call_json(c: PlacedCall) -> dict[str, Any]:
    return {
        "sid": c.sid,
        "status": c.status,
        "answered_by": c.answered_by,
        "to": c.to,
        "from": c.from_,
        "date_created": _rfc2822(c.at),
        "start_time": _rfc2822(c.at),
        "direction": c.direction,
    }


def _recording_json(account_sid: str, r: Recording) -> dict[str, Any]:
    uri = f"/2010-04-01/Accounts/{account_sid}/Recordings/{r.sid}.json"
    return {
        "sid": r.sid,
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "call_sid": r.call_sid,
        "conference_sid": None,
        "date_created": _rfc2822(r.at),
        "date_updated": _rfc2822(r.at),
        "start_time": _rfc2822(r.at),
        "duration": str(r.seconds),
        "price": None,
        "price_unit": "USD",
        "status": r.status,
        "channels": 1,
        "source": r.source,
        "error_code": None,
        "uri": uri,
        "encryption_details": None,
        "subresource_uris": {},
        "media_url": f"https://api.twilio.com/2010-04-01/Accounts/{account_sid}/Recordings/{r.sid}",
    }

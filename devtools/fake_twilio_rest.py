"""Twilio's REST API as the stand-in answers it: `POST Messages.json` and `Calls.json` (kept, or
failed as told), the account and its numbers, and the lists and look-ups the application makes
(`Messages.json?To=`, `Calls.json?To=`, `Recordings.json`, one message or call by its SID)."""

from __future__ import annotations

import base64
import email.utils
import json
import time
import urllib.parse
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

import clock
from devtools.fake_twilio_account import Failure, Message, PlacedCall, Recording, State


class StandIn(Protocol):
    """What the REST answers read of the fake account (`devtools.fake_twilio.TwilioStandIn`)."""

    account_sid: str
    auth_token: str
    state: State
    lock: Any

    def outage_now(self) -> Failure | None: ...

    def next_failure(self, kind: str) -> Failure | None: ...


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


def handler(standin: StandIn) -> type[BaseHTTPRequestHandler]:
    """The request handler of `standin`'s server: it reads and changes `standin.state` under its lock."""

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
            if (outage := standin.outage_now()) is not None:
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
            return standin.next_failure(kind)

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
            if (outage := standin.outage_now()) is not None:
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

"""Every Twilio route and every API endpoint, fuzzed (hypothesis) with valid signatures and tokens:
never a 5xx, never a "service unavailable" said to a caller for input Twilio can send, no half-written
row. Bodies oversized, not UTF-8, carrying NUL bytes; callbacks repeated and out of order (the
examples share one database, so every request lands on what the earlier ones left)."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from dashboard.api import create_token
from models import Call, CallOutcome, InboundSms, PageTest, Voicemail, session
from voice.caller_ivr import STEPS
from words.catalogue import text

from ..conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from ..oncall_helpers import ALICE, BRUNO, CALLER, leave_voicemail

QUICK, FULL = 150, 4000  # examples per test: the default run, and the slow run (~9,000 with the odd bodies)

CALLER_ROUTES = [f"/voice/caller/step/{s}" for s in STEPS] + [
    "/voice/incoming",
    "/voice/status",
    "/voice/caller/recorded",
    "/voice/caller/recording",
    "/voice/desk/dialled",
    "/voice/desk/recorded",
]
PAGE_ROUTES = ["/voice/pages/call", "/voice/pages/menu", "/voice/pages/key", "/voice/pages/status"]
SMS_ROUTES = ["/sms/incoming", "/sms/status"]
PAGE_TEST_ROUTES = ["/voice/page-tests/call", "/voice/page-tests/key", "/voice/page-tests/status"]

# What Twilio sends: its parameter names, and values it can send for them.
SIDS = st.sampled_from(["CA" + "1" * 32, "CA" + "2" * 32, "CA" + "3" * 32, "SM" + "4" * 32, "RE" + "5" * 32])
STATUSES = st.sampled_from(
    ["queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled", "sent",
     "delivered", "undelivered", "absent", "answered", "initiated", "read", "accepted", "scheduled"]
)  # fmt: skip
ANSWERED_BY = st.sampled_from(
    [
        "human",
        "machine_start",
        "machine_end_beep",
        "machine_end_silence",
        "machine_end_other",
        "fax",
        "unknown",
    ]
)
PHONES = st.sampled_from(
    [CALLER, ALICE, BRUNO, "+33272646172", "anonymous", "+266696687", "", "+1 (555) 010"]
)
DIGITS = st.text(alphabet="0123456789*#", max_size=12) | st.sampled_from(
    ["104233#", "4821#", "1", "2", "9", "*"]
)
ERRORS = st.sampled_from(["30003", "30005", "30006", "30007", "30008", "21610", "0", "31005", "13227"])
BODIES = st.sampled_from(["OK", "OK 104233", "ok 104 233", "STOP", "Arrêt", "OK 999999", "?"])
JUNK = (
    st.text(max_size=40)
    | st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300)
    | st.sampled_from(["\x00", "CA\x00" + "1" * 30, "x" * 5000, "9" * 40, "-1", "1e9", "ﾟ", "\ud7ff"])
)
FIELDS: dict[str, st.SearchStrategy[str]] = {
    "CallSid": SIDS,
    "AccountSid": st.just("AC" + "5" * 32),
    "From": PHONES,
    "To": PHONES,
    "CallStatus": STATUSES,
    "Direction": st.sampled_from(["inbound", "outbound-api", "outbound-dial"]),
    "Digits": DIGITS,
    "RecordingSid": SIDS,
    "RecordingUrl": st.just("https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1"),
    "RecordingDuration": st.sampled_from(["0", "1", "20", "180", "-1", "9" * 30]),
    "RecordingStatus": STATUSES,
    "CallDuration": st.sampled_from(["0", "12", "99999999999999999999"]),
    "DialCallStatus": STATUSES,
    "AnsweredBy": ANSWERED_BY,
    "ErrorCode": ERRORS,
    "MessageSid": SIDS,
    "SmsSid": SIDS,
    "MessageStatus": STATUSES,
    "Body": BODIES,
    "NumMedia": st.just("0"),
    "SequenceNumber": st.sampled_from(["0", "1", "7"]),
}


def _params() -> st.SearchStrategy[dict[str, str]]:
    """A form Twilio could send (its values) mixed with junk it should never send (any text)."""
    names = st.sampled_from(sorted(FIELDS)) | st.text(min_size=1, max_size=12)
    return st.dictionaries(names, st.none(), max_size=9).flatmap(
        lambda keys: st.fixed_dictionaries({k: (FIELDS[k] | JUNK) if k in FIELDS else JUNK for k in keys})
    )


def _query() -> st.SearchStrategy[str]:
    ids = st.integers(min_value=-5, max_value=2**63) | st.sampled_from([1, 2, 3, 2**31 - 1, 2**31])
    return st.one_of(
        st.just(""),
        st.builds(lambda p, c, t: f"?page={p}&callout={c}&tries={t}", ids, ids, ids),
        st.builds(lambda p: f"?page={p}", ids),
        st.builds(lambda t, n: f"?test={t}&tries={n}", ids, ids),
        st.builds(lambda n: f"?n={n}", ids),
        st.text(max_size=20).map(lambda s: "?" + urllib.parse.quote(s, safe="=&")),
    )


class Fuzz:
    """Signs each request as Twilio would and checks what a caller or technician would suffer."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.validator = RequestValidator(AUTH_TOKEN)
        self.tried = 0
        self.sorry = [text("caller.unavailable", lang) for lang in ("fr", "en")]

    def post(self, path: str, params: dict[str, str], raw: bytes | None = None) -> Any:
        self.tried += 1
        signature = self.validator.compute_signature(PUBLIC_BASE_URL + path, params)
        headers = {"X-Twilio-Signature": signature}
        if raw is not None:
            answer = self.client.post(
                path, data=raw, headers=headers, content_type="application/x-www-form-urlencoded"
            )
        else:
            answer = self.client.post(path, data=params, headers=headers)
        assert answer.status_code < 500, (path, params, answer.get_data(as_text=True)[:500])
        body = answer.get_data(as_text=True)
        if answer.status_code == 200 and path.startswith("/voice/"):
            assert body.startswith("<?xml"), (path, params, body[:300])
            assert not any(s in body for s in self.sorry), (path, params, "a caller was told sorry")
        _no_half_written_row()
        return answer


def _no_half_written_row() -> None:
    """What a request left committed is whole: every SMS kept has its outcome, every message left on
    a night ticket has its recording and its callback number."""
    session.rollback()
    assert session.scalar(select(InboundSms.id).where(InboundSms.outcome.is_(None))) is None
    half = session.scalar(
        select(Voicemail.id)
        .join(Call, Call.id == Voicemail.call_id)
        .where(
            Call.outcome == CallOutcome.VOICEMAIL,
            Voicemail.recording_sid.is_(None) | Voicemail.callback_number.is_(None),
        )
    )
    assert half is None, f"voicemail {half} delivered half-written"


@pytest.fixture
def night(app, org, clock) -> Fuzz:
    """A night in progress: a message on 104233 paging alice (pages 1 and 2), a call on the line."""
    leave_voicemail("104233")
    session.add(Call(sid="CA" + "1" * 32, from_number=CALLER, to_number="+33272646172", after_hours=True))
    session.add(  # a page test of alice under way: test 1, its SMS and its call among the SIDs sent
        PageTest(
            person_id="alice",
            origin="command",
            to_number=ALICE,
            channels="sms voice",
            sms_sid="SM" + "4" * 32,
            sms_status="queued",
            call_sid="CA" + "2" * 32,
            call_status="queued",
        )
    )
    session.commit()
    return Fuzz(app.test_client())


ROUTE = st.sampled_from(CALLER_ROUTES + PAGE_ROUTES + SMS_ROUTES + PAGE_TEST_ROUTES)
SETTINGS = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


def _twilio_routes(night: Fuzz, route: str, query: str, params: dict[str, str]) -> None:
    if route.startswith(("/voice/pages/", "/voice/page-tests/")):
        route += query
    elif route.startswith("/voice/caller/step/") and query.startswith("?n="):
        route += query
    night.post(route, params)


def _odd_bodies(night: Fuzz, route: str, raw: bytes) -> None:
    night.post(route, {}, raw=raw)


RAW = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda b: b"CallSid=CA" + b"1" * 32 + b"&Digits=" + b, st.binary(max_size=50)),
    st.builds(
        lambda n: b"Body=" + b"a" * n + b"&MessageSid=SM" + b"7" * 32 + b"&From=%2B33612345678",
        st.integers(0, 300_000),
    ),
    st.just(b"CallSid=CA%00" + b"1" * 30 + b"&From=%FF%FE"),
)


def _api(night: Fuzz, token: str, request: tuple[str, str, Any]) -> None:
    method, path, payload = request
    night.tried += 1
    headers = {"Authorization": f"Bearer {token}"}
    if method == "GET":
        answer = night.client.get(path, headers=headers)
    elif isinstance(payload, bytes):
        answer = night.client.post(path, data=payload, headers=headers, content_type="application/json")
    else:
        answer = night.client.post(path, json=payload, headers=headers)
    assert answer.status_code < 500, (method, path, payload, answer.get_data(as_text=True)[:500])
    assert answer.is_json or 300 <= answer.status_code < 400, (method, path)
    _no_half_written_row()


def _api_requests() -> st.SearchStrategy[tuple[str, str, Any]]:
    word = JUNK | st.sampled_from(
        ["104233", "C1001", "high", "2026-11-24", "voicemail", "pin", "0", "paging"]
    )
    args = st.dictionaries(
        st.sampled_from(
            ["from", "to", "outcome", "reason", "client", "ticket", "caller", "limit", "after", "state"]
        )
        | st.text(max_size=6),
        word,
        max_size=5,
    ).map(lambda d: "?" + urllib.parse.urlencode(d) if d else "")
    cursor = st.builds(
        lambda at, ident: (
            "?after=" + __import__("base64").urlsafe_b64encode(f"{at}|{ident}".encode()).decode()
        ),
        st.sampled_from(["2026-11-24T23:10:00+01:00", "9999-12-31T23:59:59+00:00", "x"]),
        st.integers(min_value=-(2**70), max_value=2**70),
    )
    json_body = st.recursive(
        st.none() | st.booleans() | st.integers() | word,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(word, inner, max_size=4),
        max_leaves=8,
    )
    ticket = st.fixed_dictionaries(
        {"client": st.sampled_from(["C1001", "C1002"]) | word, "priority": st.sampled_from(["high", "low"]) | word,
         "subject": word},
        optional={"service": st.sampled_from(["SDSL-4471", "VOIP-0400"]) | word, "description": word},
    )  # fmt: skip
    return st.one_of(
        st.tuples(st.just("GET"), st.sampled_from(["/api/calls", "/api/callouts"]), st.none()).flatmap(
            lambda r: st.one_of(args, cursor).map(lambda q: (r[0], r[1] + q, None))
        ),
        word.map(lambda n: ("GET", "/api/tickets/" + urllib.parse.quote(n, safe=""), None)),
        st.tuples(st.just("POST"), st.just("/api/tickets"), ticket | json_body),
        st.tuples(st.just("POST"), st.just("/api/tickets"), st.binary(max_size=80)),
    )


def _run(night: Fuzz, examples: int) -> None:
    @settings(max_examples=examples, **SETTINGS)
    @given(route=ROUTE, query=_query(), params=_params())
    def twilio_routes(route: str, query: str, params: dict[str, str]) -> None:
        _twilio_routes(night, route, query, params)

    twilio_routes()


def _run_odd_bodies(night: Fuzz, examples: int) -> None:
    @settings(max_examples=examples, **SETTINGS)
    @given(route=ROUTE, raw=RAW)
    def odd(route: str, raw: bytes) -> None:
        _odd_bodies(night, route, raw)

    odd()


def _run_api(night: Fuzz, examples: int) -> None:
    token = create_token("fuzz")

    @settings(max_examples=examples, **SETTINGS)
    @given(request=_api_requests())
    def api(request: tuple[str, str, Any]) -> None:
        _api(night, token, request)

    api()


def test_fuzzed_twilio_webhooks_never_fail(night):
    _run(night, QUICK)
    assert night.tried >= QUICK


def test_fuzzed_odd_bodies_never_fail(night):
    _run_odd_bodies(night, QUICK // 3)


def test_fuzzed_api_requests_never_fail(night):
    _run_api(night, QUICK)


@pytest.mark.slow
def test_ten_thousand_fuzzed_requests_never_fail(night):
    _run(night, FULL)
    _run_odd_bodies(night, FULL // 4)
    _run_api(night, FULL)
    print(f"fuzzed requests: {night.tried}")
    assert night.tried >= 2 * FULL


def test_repeated_and_out_of_order_callbacks_change_nothing_twice(night, clock):
    sid = "CA" + "9" * 32
    for status in ("completed", "ringing", "completed", "in-progress", "completed"):
        night.post(
            "/voice/status", {"CallSid": sid, "CallStatus": status, "From": CALLER, "Direction": "inbound"}
        )
    night.post(
        "/voice/caller/recording",
        {"CallSid": sid, "RecordingSid": "RE" + "8" * 32, "RecordingStatus": "completed"},
    )
    night.post(
        "/voice/caller/recording",
        {"CallSid": sid, "RecordingSid": "RE" + "8" * 32, "RecordingStatus": "completed"},
    )
    call = session.scalar(select(Call).where(Call.sid == sid))
    assert call is not None and call.status == "completed" and call.voicemail is not None
    json.dumps(call.state or {})


def test_a_ticket_keyed_on_a_call_whose_greeting_was_never_logged_is_asked_again(night):
    sid = "CA" + "6" * 32  # only its status callback reached us; then the caller's keys
    night.post("/voice/status", {"CallSid": sid, "CallStatus": "in-progress", "From": CALLER})
    answer = night.post("/voice/caller/step/greeting", {"CallSid": sid, "From": CALLER, "Digits": "12ab"})
    assert answer.status_code == 200 and "<Gather" in answer.get_data(as_text=True)

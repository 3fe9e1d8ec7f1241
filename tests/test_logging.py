"""The log of a night, read line by line: one JSON object per line with LOG_FORMAT=json, each webhook
line tied to its CallSid and request id, and no PIN, link token, API token or recording URL anywhere."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from dashboard.api import create_token
from serving import logs

from . import factories
from .oncall_helpers import ALICE
from .phone import up_to_the_beep
from .twilio_standin import fixtures

app_config, twilio_server, twilio = fixtures()


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    logs.configure(level="DEBUG", fmt="json", stream=buffer)
    yield buffer
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "astreinte", False)]:
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)


def test_a_night_call_logs_one_json_line_per_event_with_its_ids_and_no_secret(
    twilio, clock, client, phone, lines
):
    call = up_to_the_beep(phone)
    call.record(seconds=20).press("1")
    link = re.search(r"https://astreinte\.example\.test(/o/\S+)", twilio.sms_to(ALICE).body).group(1)
    assert client.get(link).status_code == 200
    token = create_token("crm")
    assert (
        client.get("/api/callouts?ticket=104233", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    client.get("/api/callouts", headers={"Authorization": "Bearer not-a-token-but-secret"})

    text = lines.getvalue()
    records = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    assert records and all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    webhooks = [r for r in records if r["logger"] == "astreinte.request" and "/voice/" in r["message"]]
    assert webhooks and all(r["call_sid"].startswith("CA") and r["request_id"] for r in webhooks)
    assert any(r["message"].startswith("GET /o/[token] 200") for r in records)
    secret_token = link.split("/")[2]
    for secret in (secret_token, token, "not-a-token-but-secret", "/Recordings/"):
        assert secret not in text, secret
    # the PIN as a value of its own: random hex ids (request, CallSid, MessageSid) may hold its digits
    assert not re.search(r"(?<![0-9A-Za-z])4821(?![0-9A-Za-z])", text)


def test_text_lines_carry_the_ids_in_brackets(twilio, clock, phone):
    buffer = io.StringIO()
    logs.configure(level="INFO", fmt="text", stream=buffer)
    try:
        up_to_the_beep(phone)
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "astreinte", False)]:
            root.removeHandler(handler)
    line = next(li for li in buffer.getvalue().splitlines() if "POST /voice/incoming 200" in li)
    assert re.search(
        r"INFO astreinte\.request: POST /voice/incoming 200 \d+ ms \[request_id=\w+ call_sid=CA\w+\]$", line
    )


def test_the_access_log_names_the_item_asked_for_and_never_a_links_secret(client, clock, org, lines):
    factories.login(client)
    client.get("/tickets/104233")
    client.get("/calendar/s3cr3t-calendar-address.ics")
    client.get("/o/s3cr3t-link-token/take/7")
    client.get("/no/such/page/4821")
    said = [json.loads(line)["message"] for line in lines.getvalue().splitlines()]
    assert any(m.startswith("GET /tickets/104233 200 ") for m in said), said
    assert any(m.startswith("GET /calendar/[token].ics 404 ") for m in said), said
    assert any(m.startswith("GET /o/[token]/take/7 ") for m in said), said
    assert any(m.startswith("GET /no/such/page/4821 404 ") for m in said), said
    assert "s3cr3t" not in lines.getvalue()

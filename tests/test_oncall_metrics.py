"""`GET /metrics` in Prometheus text format, and /healthz when someone is on call."""

from __future__ import annotations

import re

import pytest
import yaml

from oncall.sweeper import sweep

from .conftest import ORG_FILE
from .oncall_helpers import ALICE, leave_voicemail
from .twilio_standin import fixtures

app_config, twilio_server, twilio = fixtures()


def test_metrics_count_callouts_takeovers_breaches_and_pages(twilio, clock, client):
    leave_voicemail("104233")
    clock.advance(minutes=4)
    twilio.reply(ALICE, "OK 104233")
    leave_voicemail("104240")
    clock.advance(minutes=31)
    sweep()
    resp = client.get("/metrics")
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    text = resp.get_data(as_text=True)
    assert 'astreinte_callouts{state="paging"} 1' in text
    assert 'astreinte_callouts{state="taken_over"} 1' in text
    assert "astreinte_callouts_breached_total 1" in text
    assert 'astreinte_pages_total{channel="sms",status="queued"}' in text
    assert 'astreinte_takeover_seconds_bucket{le="300"} 1' in text
    assert "# TYPE astreinte_takeover_seconds histogram" in text


def test_healthz_is_green_when_someone_is_on_call(twilio, clock, client):
    resp = client.get("/healthz")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}, "warnings": []}


def test_a_gap_in_the_rota_now_is_a_warning_never_a_failed_health_check(twilio, clock, client):
    from models import Person, session

    session.get(Person, "bruno").active = False  # left the company, still in the rota and an override
    session.commit()
    resp = client.get("/healthz")
    assert resp.status_code == 200  # a load balancer keeps the only process answering callers
    assert resp.get_json()["status"] == "ok"
    assert resp.get_json()["warnings"] == [
        "rota : personne pour le rôle « astreinte de secours » (backup) en ce moment",
        "rota : personne pour le rôle « astreinte principale » (primary) à partir du 25/11 à 18:00",
    ]
    assert "astreinte_rota_gaps 1.0" in client.get("/metrics").get_data(as_text=True)


def test_healthz_fails_when_redis_does_not_answer(twilio, clock, client, app):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions.pop("redis", None)
    resp = client.get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["redis"].startswith("unreachable")
    assert resp.get_json()["checks"]["database"] == "ok"


@pytest.fixture
def doc() -> dict:
    return yaml.safe_load(ORG_FILE.read_text())


def test_healthz_stays_up_and_warns_of_a_gap_coming_within_24_hours(twilio, clock, client, doc):
    from models import Person, session
    from org.load import load

    doc["rota"]["overrides"] = [
        {"from": "2026-11-25 18:00", "to": "2026-11-26 08:30", "position": "primary", "person": "chloe"}
    ]
    load(doc)
    session.get(Person, "chloe").active = False  # away, and nobody moved her override
    session.commit()
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json()["warnings"] == [
        "rota : personne pour le rôle « astreinte principale » (primary) à partir du 25/11 à 18:00",
    ]


SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})? (\S+)$'
)


def test_metrics_are_well_formed_prometheus_text(twilio, clock, client):
    for ticket in ("104233", "104240"):
        leave_voicemail(ticket)
    clock.advance(minutes=7)
    twilio.reply(ALICE, "OK 104233")
    text = client.get("/metrics").get_data(as_text=True)
    assert text.endswith("\n")
    described: dict[str, str] = {}
    seen: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, help_ = line[7:].split(" ", 1)
            assert help_ and name not in described, line
            described[name] = ""
        elif line.startswith("# TYPE "):
            name, kind = line[7:].split(" ")
            assert name in described and kind in ("counter", "gauge", "histogram"), line
            described[name] = kind
        else:
            match = SAMPLE.match(line)
            assert match, line
            name, labels, value = match.groups()
            family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in described else name
            assert described.get(family), f"{line}: no HELP/TYPE before it"
            assert "e+" not in value and float(value) >= 0, line
            series = name + (labels or "")
            assert series not in seen, f"duplicate series {series}"
            seen.add(series)
    assert 'astreinte_takeover_seconds_bucket{le="600"} 1' in text
    assert "astreinte_takeover_seconds_sum 420" in text


def test_large_counts_are_written_exactly():
    from oncall.metrics import sample_value

    assert (sample_value(1234567), sample_value(2.5), sample_value(0)) == ("1234567", "2.5", "0")

"""`GET /metrics` in Prometheus text format, and /healthz when someone is on call."""

from __future__ import annotations

import pytest
import yaml
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from oncall.sweeper import sweep

from .conftest import ORG_FILE
from .oncall_helpers import ALICE, leave_voicemail
from .twilio_standin import fixtures

app_config, twilio_server, twilio = fixtures()


def _scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    """/metrics read by prometheus_client's own parser: {(sample name, labels): value}."""
    resp = client.get("/metrics", headers=headers)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == CONTENT_TYPE_LATEST  # one charset, as Prometheus 3 wants
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(resp.get_data(as_text=True))
        for sample in family.samples
    }


def test_metrics_count_callouts_takeovers_breaches_and_pages(twilio, clock, client):
    leave_voicemail("104233")
    clock.advance(minutes=4)
    twilio.reply(ALICE, "OK 104233")
    leave_voicemail("104240")
    clock.advance(minutes=31)
    sweep()
    got = _scrape(client)
    assert got[("astreinte_callouts", (("state", "paging"),))] == 1
    assert got[("astreinte_callouts", (("state", "taken_over"),))] == 1
    assert got[("astreinte_callouts_taken_over_total", ())] == 1
    assert got[("astreinte_callouts_breached_total", ())] == 1
    assert got[("astreinte_pages_total", (("channel", "sms"), ("status", "queued")))] >= 1
    assert got[("astreinte_takeover_seconds_bucket", (("le", "60.0"),))] == 0
    assert got[("astreinte_takeover_seconds_bucket", (("le", "300.0"),))] == 1
    assert got[("astreinte_takeover_seconds_bucket", (("le", "+Inf"),))] == 1
    assert got[("astreinte_takeover_seconds_count", ())] == 1
    assert abs(got[("astreinte_takeover_seconds_sum", ())] - 240) < 1
    assert got[("astreinte_rota_gaps", ())] == 0


def test_metrics_ask_for_the_bearer_token_when_one_is_set(twilio, client, app):
    app.config["METRICS_TOKEN"] = "scrape-secret-0123456789"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    got = _scrape(client, Authorization="Bearer scrape-secret-0123456789")
    assert got[("astreinte_callouts_open", ())] == 0


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
        "planning d'astreinte : personne pour le rôle « astreinte de secours » (backup) en ce moment",
        "planning d'astreinte : personne pour le rôle « astreinte principale » (primary) à partir du 25/11 à 18:00",
    ]
    assert _scrape(client)[("astreinte_rota_gaps", ())] == 1


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
        "planning d'astreinte : personne pour le rôle « astreinte principale » (primary) à partir du 25/11 à 18:00",
    ]

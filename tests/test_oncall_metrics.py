"""`GET /metrics` in Prometheus text format, and /healthz when someone is on call."""

from __future__ import annotations

from oncall.sweeper import sweep

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
    assert resp.get_json()["problems"] == []


def test_healthz_warns_of_a_gap_coming_within_24_hours(twilio, clock, client):
    from models import Person, session

    session.get(Person, "bruno").active = False  # left the company, still in the rota and an override
    session.commit()
    resp = client.get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["problems"] == [
        "rota : personne pour le rôle « astreinte de secours » (backup) en ce moment",
        "rota : personne pour le rôle « astreinte principale » (primary) à partir du 25/11 à 18:00",
    ]

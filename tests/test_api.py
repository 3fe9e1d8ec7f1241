"""The JSON API as a client system uses it: a bearer token, tickets, calls, callouts (DESIGN: contract)."""

from __future__ import annotations

from datetime import datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from dashboard.api import create_token
from models import ApiToken, Channel, Person, Ticket, session
from oncall.takeover import take_over

from . import factories
from .oncall_helpers import leave_voicemail


@pytest.fixture
def api(client):
    """A client that sends a valid bearer token."""
    token = create_token("crm")

    class Api:
        def get(self, path, headers=None, **kw):
            return client.get(path, headers={"Authorization": f"Bearer {token}", **(headers or {})}, **kw)

        def post(self, path, **kw):
            return client.post(path, headers={"Authorization": f"Bearer {token}"}, **kw)

    return Api()


def test_the_api_refuses_a_request_without_a_valid_token(client, org):
    assert client.get("/api/calls").status_code == 401
    answer = client.get("/api/calls", headers={"Authorization": "Bearer ast_forged"})
    assert answer.status_code == 401
    assert "token" in answer.json["error"]
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_is_printed_once_and_stored_hashed(app, org):
    result = CliRunner().invoke(app.cli, ["token", "create", "crm"], catch_exceptions=False)
    token = result.output.strip()
    assert token.startswith("ast_") and len(token) > 40
    stored = session.scalar(select(ApiToken).where(ApiToken.name == "crm"))
    assert token not in stored.token_hash
    assert (
        app.test_client().get("/api/calls", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )


def test_creating_a_ticket_returns_it_with_its_clocks(api, clock, org):
    answer = api.post("/api/tickets", json=factories.payload(description="Plus de synchro depuis 22 h"))
    assert answer.status_code == 201
    ticket = answer.json
    assert answer.headers["Location"] == f"/api/tickets/{ticket['number']}"
    assert ticket["client"] == "C1001" and ticket["service"] == "SDSL-4471" and ticket["status"] == "open"
    assert ticket["opened_at"] == "2026-11-24T23:10:00+01:00"
    assert ticket["sla"]["takeover"]["due_at"] == "2026-11-24T23:40:00+01:00"
    assert ticket["sla"]["resolution"]["target_seconds"] == 4 * 3600
    assert ticket["timeline"][0]["kind"] == "opened"
    assert api.get(f"/api/tickets/{ticket['number']}").json["subject"] == "Lien coupé"
    assert ticket["major_incident"] is False


def test_a_ticket_may_be_opened_as_a_major_incident(api, clock, org):
    answer = api.post("/api/tickets", json=factories.payload(major_incident=True))
    assert answer.status_code == 201 and answer.json["major_incident"] is True
    assert api.post("/api/tickets", json=factories.payload(major_incident="yes")).status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"priority": "high", "subject": "x"}, "client"),
        (factories.payload(client="C9999"), "client"),
        (factories.payload(priority="critical"), "priority"),
        (factories.payload(subject="  "), "subject"),
        (factories.payload(subject="x" * 301), "subject"),
        (factories.payload(service="FIBRE-9012"), "service"),  # Cabinet Moreau's, not Dupont's
        (factories.payload(service=12), "service"),
        (factories.payload(description="x" * 10_001), "description"),
        ([1, 2], "body"),
    ],
)
def test_a_bad_ticket_is_refused_naming_the_field_and_nothing_is_written(api, clock, org, body, field):
    before = session.scalar(select(func.count()).select_from(Ticket))
    answer = api.post("/api/tickets", json=body)
    assert answer.status_code == 400
    assert answer.json["field"] == field
    assert answer.json["error"].startswith(field)
    assert session.scalar(select(func.count()).select_from(Ticket)) == before


def test_a_body_that_is_not_json_is_refused(api, org):
    answer = api.post("/api/tickets", data="client=C1001", content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 400 and answer.json["field"] == "body"


def test_an_unknown_ticket_is_a_404_naming_it(api, org):
    answer = api.get("/api/tickets/999999")
    assert answer.status_code == 404 and "999999" in answer.json["error"]


def test_calls_come_newest_first_in_keyset_pages(api, clock, org):
    night = factories.night()
    first = api.get("/api/calls?limit=4").json
    assert [c["id"] for c in first["calls"]] == [
        night.open_call.id,
        night.refused_unknown.id,
        night.refused_option.id,
        night.answered.id,
    ]
    rest = api.get(f"/api/calls?limit=4&after={first['next']}").json
    assert [c["id"] for c in rest["calls"]] == [night.refused_pin.id, night.forwarded.id]
    assert rest["next"] is None
    call = first["calls"][3]
    assert call["started_at"] == "2026-11-24T23:05:00+01:00"
    assert call["outcome"] == "voicemail" and call["ticket"] == "104233" and call["client"] == "C1001"
    assert call["voicemail"]["duration"] == 30
    assert datetime.fromisoformat(call["ended_at"]).utcoffset() is not None


def test_calls_can_be_filtered(api, clock, org):
    factories.night()
    refused = api.get("/api/calls?outcome=refused").json["calls"]
    assert [c["reason"] for c in refused] == ["unknown_ticket", "no_astreinte_option", "bad_pin"]
    assert len(api.get("/api/calls?caller=06 99 88 77 66").json["calls"]) == 1
    assert len(api.get("/api/calls?ticket=104233").json["calls"]) == 2
    assert len(api.get("/api/calls?ticket=999999").json["calls"]) == 1  # the number keyed, unknown
    assert len(api.get("/api/calls?client=C1002").json["calls"]) == 1
    assert len(api.get("/api/calls?from=2026-11-25&to=2026-11-25").json["calls"]) == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("outcome=lost", "outcome"),
        ("from=25/11/2026", "from"),
        ("from=2026-11-25&to=2026-11-24", "to"),
        ("client=C9999", "client"),
        ("caller=hello", "caller"),
        ("ticket=12a", "ticket"),
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("after=garbage", "after"),
    ],
)
def test_bad_filters_get_a_400_naming_the_field(api, org, query, field):
    answer = api.get(f"/api/calls?{query}")
    assert answer.status_code == 400
    assert answer.json["field"] == field


def test_callouts_of_a_ticket_have_exactly_the_contract_fields(api, clock, org):
    night = factories.night()
    answer = api.get("/api/callouts?ticket=104233")
    assert answer.status_code == 200
    [callout] = answer.json["callouts"]
    assert set(callout) == {
        "id",
        "ticket",
        "state",
        "opened_at",
        "due_at",
        "taken_over_at",
        "taken_over_by",
        "taken_over_via",
        "breached",
        "escalation_level",
        "pages",
    }
    assert callout == callout | {
        "id": night.answered_callout.id,
        "ticket": "104233",
        "state": "taken_over",
        "opened_at": "2026-11-24T23:05:30+01:00",
        "due_at": "2026-11-24T23:35:30+01:00",
        "taken_over_at": "2026-11-24T23:19:00+01:00",
        "taken_over_by": "alice",
        "taken_over_via": "voice",
        "breached": False,
        "escalation_level": 0,
    }
    assert [(p["person"], p["channel"], p["status"]) for p in callout["pages"]] == [
        ("alice", "sms", "delivered"),
        ("alice", "voice", "no-answer"),
        ("alice", "voice", "completed"),
    ]
    assert set(callout["pages"][0]) == {"person", "channel", "status", "twilio_sid", "at"}
    assert callout["pages"][0]["twilio_sid"].startswith("SM")
    assert callout["pages"][0]["at"] == "2026-11-24T23:06:00+01:00"


def test_an_open_callout_past_its_deadline_is_breached(api, clock, org):
    factories.night()
    clock.set("2026-11-25 04:05")
    [callout] = api.get("/api/callouts?ticket=104260").json["callouts"]
    assert callout["state"] == "paging" and callout["taken_over_at"] is None and callout["breached"] is True


def test_callouts_list_in_pages_and_by_state(api, clock, org):
    factories.night()
    first = api.get("/api/callouts?limit=1").json
    assert first["callouts"][0]["ticket"] == "104260" and first["next"]
    second = api.get(f"/api/callouts?limit=1&after={first['next']}").json
    assert second["callouts"][0]["ticket"] == "104233" and second["next"] is None
    assert [c["ticket"] for c in api.get("/api/callouts?state=paging").json["callouts"]] == ["104260"]
    assert api.get("/api/callouts?ticket=999999").status_code == 404
    assert api.get("/api/callouts?state=lost").json["field"] == "state"


def test_unknown_api_paths_and_methods_answer_in_json(api, org):
    assert api.get("/api/tickets").status_code == 405
    assert api.get("/api/tickets").json["error"]


def test_api_answers_are_never_cached_nor_sniffed(client, api, org):
    for answer in (api.get("/api/calls"), client.get("/api/calls"), api.get("/api/tickets/999999")):
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"]


def test_clock_seconds_add_up_to_the_target_a_moment_after_opening(api, clock, org):
    clock.advance(seconds=0.4)
    number = api.post("/api/tickets", json=factories.payload()).json["number"]
    clock.advance(seconds=0.5)
    takeover = api.get(f"/api/tickets/{number}").json["sla"]["takeover"]
    assert (takeover["elapsed_seconds"], takeover["remaining_seconds"]) == (0, 1800)


def test_the_timeline_is_told_in_the_language_the_client_asks_for(api, clock, org):
    callout = leave_voicemail("104233")
    clock.advance(minutes=4)
    take_over(callout, session.get(Person, "alice"), Channel.SMS)

    def timeline(path: str, **headers: str) -> list[str]:
        return [e["text"] for e in api.get(path, headers=headers).json["timeline"]]

    french = timeline("/api/tickets/104233")
    english = timeline("/api/tickets/104233", **{"Accept-Language": "en-GB,en;q=0.8"})
    assert "Pris en charge par Alice Martin par SMS en 4 min" in french
    assert "Taken over by Alice Martin by SMS in 4 min" in english
    assert any(t.startswith("on-call paged, takeover expected by") for t in english)
    assert english == timeline("/api/tickets/104233?lang=en")
    assert not any("Pris en charge" in t or "astreinte alertée" in t for t in english)

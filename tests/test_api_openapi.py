"""The API describes itself (`GET /api/openapi.json`): a valid OpenAPI 3 document naming every route the
application serves under /api/, and true: each described route is called, and what it answers (success
and refusals alike) matches the schema it declares for that status."""

from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from dashboard.api import create_token

from . import factories
from .oncall_helpers import leave_voicemail

# One call per (operation, status) the description promises; the callout and call rows are made first.
CALLS: list[tuple[str, str, str, dict[str, Any] | None, int]] = [
    ("createTicket", "post", "/api/tickets", factories.payload(number="770001"), 201),
    ("createTicket", "post", "/api/tickets", factories.payload(priority="critique"), 400),
    ("createTicket", "post", "/api/tickets", factories.payload(number="104233"), 409),
    ("getTicket", "get", "/api/tickets/104233", None, 200),
    ("getTicket", "get", "/api/tickets/999999", None, 404),
    ("changeTicket", "patch", "/api/tickets/104240", {"status": "standby", "note": "test du lien"}, 200),
    ("changeTicket", "patch", "/api/tickets/104240", {"status": "fixed"}, 400),
    ("changeTicket", "patch", "/api/tickets/999999", {"status": "resolved"}, 404),
    ("changeTicket", "patch", "/api/tickets/104251", {"status": "closed"}, 200),
    ("changeTicket", "patch", "/api/tickets/104251", {"status": "open"}, 409),
    ("listCalls", "get", "/api/calls?limit=1", None, 200),
    ("listCalls", "get", "/api/calls?outcome=lost", None, 400),
    ("listCallouts", "get", "/api/callouts?ticket=104233", None, 200),
    ("listCallouts", "get", "/api/callouts?state=lost", None, 400),
    ("listCallouts", "get", "/api/callouts?ticket=999999", None, 404),
    ("whoIsOnCall", "get", "/api/oncall", None, 200),
    ("whoIsOnCall", "get", "/api/oncall?at=2026-11-25T23:00:00%2B01:00", None, 200),
    ("whoIsOnCall", "get", "/api/oncall?at=demain", None, 400),
    ("describeApi", "get", "/api/openapi.json", None, 200),
]


@pytest.fixture
def spec(client, org):
    answer = client.get("/api/openapi.json")  # no token: a description is no secret
    assert answer.status_code == 200
    return answer.json


def test_the_description_is_valid_openapi_3(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.")


def test_every_api_route_of_the_application_is_described(app, spec):
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            served |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    described = {
        (path, method) for path, item in spec["paths"].items() for method in item if method != "parameters"
    }
    assert served == described


def test_every_described_operation_and_status_is_called_here(spec):
    promised = {
        (op["operationId"], int(status))
        for item in spec["paths"].values()
        for method, op in item.items()
        if method != "parameters"
        for status in op["responses"]
        if status not in ("401", "503")  # every route's: proved once below
    }
    assert promised == {(op, status) for op, _m, _p, _b, status in CALLS}


def _operation(spec: dict[str, Any], method: str, url: str) -> dict[str, Any]:
    path = url.split("?")[0]
    for template, item in spec["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path) and method in item:
            return item[method]
    raise AssertionError(f"{method.upper()} {path} is not described")


def _check(spec: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    OAS31Validator({**schema, "components": spec["components"]}).validate(instance)


def test_each_route_answers_as_described(client, clock, org, spec):
    leave_voicemail("104233")  # a call, a callout with its pages
    headers = {"Authorization": f"Bearer {create_token('openapi')}"}
    for operation_id, method, url, body, status in CALLS:
        op = _operation(spec, method, url)
        assert op["operationId"] == operation_id
        if body is not None and status < 400:  # what the description accepts, the API accepts
            _check(spec, op["requestBody"]["content"]["application/json"]["schema"], body)
        answer = client.open(url, method=method.upper(), json=body, headers=headers)
        assert answer.status_code == status, (method, url, answer.json)
        declared = op["responses"][str(status)]
        assert answer.mimetype == "application/json"
        _check(spec, declared["content"]["application/json"]["schema"], answer.json)


def test_a_request_without_a_token_answers_the_described_401(client, org, spec):
    for _op, method, url, body, _status in CALLS:
        op = _operation(spec, method, url)
        if op.get("security") == []:
            continue
        answer = client.open(url, method=method.upper(), json=body)
        assert answer.status_code == 401
        _check(spec, op["responses"]["401"]["content"]["application/json"]["schema"], answer.json)


def test_a_ticket_change_the_description_refuses_is_refused_by_the_api(client, org, spec):
    schema = spec["components"]["schemas"]["TicketChange"]
    headers = {"Authorization": f"Bearer {create_token('openapi')}"}
    for body in ({}, {"colour": "red"}, {"status": "fixed"}, {"major_incident": "yes"}):
        assert not OAS31Validator({**schema, "components": spec["components"]}).is_valid(body)
        assert client.patch("/api/tickets/104233", json=body, headers=headers).status_code == 400

"""The JSON API described in OpenAPI 3.1 (`GET /api/openapi.json`): every route, its parameters, its
bodies and its answers. tests/test_api_openapi.py validates it and calls each route it describes,
checking the answers against it, so the description stays true."""

from __future__ import annotations

from typing import Any

from models import CallOutcome, CalloutState, Channel, RefusalReason, VoicemailKind
from tickets.service import NOTE_MAX, STATUS_WORDS, SUBJECT_MAX

API_VERSION = "1.1.0"


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


STRING = {"type": "string"}
INSTANT = {"type": "string", "format": "date-time", "description": "ISO 8601 with the organisation's offset"}
N_INSTANT = _nullable(INSTANT)
N_STRING = _nullable(STRING)
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], required: list[str] | None = None, **more: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        **more,
    }


SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {"error": {**STRING, "description": "what was refused, naming the field"}, "field": STRING},
        required=["error"],
    ),
    "Clock": _object(
        {
            "target_seconds": INTEGER,
            "elapsed_seconds": INTEGER,
            "remaining_seconds": INTEGER,
            "clock": {"type": "string", "enum": ["24/7", "business_hours"]},
            "paused": {**BOOLEAN, "description": "client standby"},
            "stopped_at": N_INSTANT,
            "due_at": N_INSTANT,
            "breached": BOOLEAN,
        },
        description="An SLA clock, counted from the ticket's opening (paused while the client is on standby)",
    ),
    "TimelineEntry": _object(
        {"at": INSTANT, "kind": STRING, "actor": N_STRING, "text": STRING},
    ),
    "Ticket": _object(
        {
            "number": STRING,
            "client": {**STRING, "description": "the client's account"},
            "client_name": STRING,
            "service": N_STRING,
            "priority": {**STRING, "description": "a priority of the organisation file"},
            "subject": STRING,
            "description": N_STRING,
            "status": {"type": "string", "enum": list(STATUS_WORDS)},
            "major_incident": BOOLEAN,
            "opened_at": INSTANT,
            "taken_over_at": N_INSTANT,
            "resolved_at": N_INSTANT,
            "standby_since": N_INSTANT,
            "standby_seconds": INTEGER,
            "sla": _nullable(
                _object(
                    {
                        "takeover": {"anyOf": [_ref("Clock"), {"type": "null"}]},
                        "resolution": {"anyOf": [_ref("Clock"), {"type": "null"}]},
                    }
                )
            ),
            "timeline": {"type": "array", "items": _ref("TimelineEntry")},
        },
    ),
    "NewTicket": _object(
        {
            "client": {**STRING, "minLength": 1, "description": "the client's account (C1001)"},
            "priority": {**STRING, "minLength": 1},
            "subject": {**STRING, "minLength": 1, "maxLength": SUBJECT_MAX},
            "service": N_STRING,
            "description": N_STRING,
            "number": {
                "type": ["string", "null"],
                "pattern": "^[0-9]{4,12}$",
                "description": "the number an external ticketing tool gave it (409 when taken); "
                "the next free number otherwise",
            },
            "major_incident": {**BOOLEAN, "default": False},
        },
        required=["client", "priority", "subject"],
    ),
    "TicketChange": _object(
        {
            "status": {
                "type": "string",
                "enum": list(STATUS_WORDS),
                "description": "resolved or closed stops paging at once and tells the client",
            },
            "priority": STRING,
            "major_incident": {**BOOLEAN, "description": "set while the astreinte runs: pages now"},
            "note": {**STRING, "maxLength": NOTE_MAX},
        },
        required=[],
        minProperties=1,
        additionalProperties=False,
    ),
    "Voicemail": _object(
        {
            "id": INTEGER,
            "duration": _nullable(INTEGER),
            "recorded_at": INSTANT,
            "kind": {"type": "string", "enum": [k.value for k in VoicemailKind]},
        }
    ),
    "Call": _object(
        {
            "id": INTEGER,
            "sid": STRING,
            "from": STRING,
            "to": STRING,
            "started_at": INSTANT,
            "ended_at": N_INSTANT,
            "duration": _nullable(INTEGER),
            "after_hours": BOOLEAN,
            "outcome": {"type": "string", "enum": [o.value for o in CallOutcome]},
            "reason": N_STRING,
            "ticket": N_STRING,
            "entered_ticket": N_STRING,
            "client": N_STRING,
            "callback_number": N_STRING,
            "language": N_STRING,
            "voicemail": {"anyOf": [_ref("Voicemail"), {"type": "null"}]},
        }
    ),
    "Page": _object(
        {
            "person": STRING,
            "channel": {"type": "string", "enum": [c.value for c in Channel]},
            "status": STRING,
            "twilio_sid": N_STRING,
            "at": INSTANT,
        }
    ),
    "Callout": _object(
        {
            "id": INTEGER,
            "ticket": STRING,
            "state": {"type": "string", "enum": [s.value for s in CalloutState]},
            "opened_at": INSTANT,
            "due_at": INSTANT,
            "taken_over_at": N_INSTANT,
            "taken_over_by": {**N_STRING, "description": "a person id"},
            "taken_over_via": {"type": ["string", "null"], "enum": ["voice", "sms", "web", "live", None]},
            "breached": BOOLEAN,
            "escalation_level": {"type": "integer", "minimum": 0, "maximum": 3},
            "pages": {"type": "array", "items": _ref("Page")},
        }
    ),
    "Holder": _object(
        {"person": N_STRING, "name": N_STRING, "phone": N_STRING, "active": BOOLEAN},
    ),
    "OnCall": _object(
        {
            "at": INSTANT,
            "positions": {
                "type": "array",
                "items": {
                    "allOf": [
                        _ref("Holder"),
                        _object(
                            {
                                "position": {"type": "string", "enum": ["primary", "backup"]},
                                "source": {
                                    "type": "string",
                                    "enum": ["rota", "override", "desk_change"],
                                    "description": "the weekly rota, an override of the organisation "
                                    "file, or a change made at the desk",
                                },
                            }
                        ),
                    ]
                },
            },
            "roles": {
                "type": "array",
                "items": {
                    "allOf": [
                        _ref("Holder"),
                        _object(
                            {
                                "role": {"type": "string", "enum": ["supervisor", "manager", "director"]},
                                "level": {"type": "integer", "minimum": 1, "maximum": 3},
                                "source": {"type": "string", "enum": ["escalation"]},
                            }
                        ),
                    ]
                },
            },
        }
    ),
}


def _answer(description: str, schema: str | None = None) -> dict[str, Any]:
    if schema is None:
        return {"description": description}
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _list_of(key: str, item: str) -> dict[str, Any]:
    return {
        "description": f"a page of {key}, newest first; `next` is the cursor of the following page",
        "content": {
            "application/json": {
                "schema": _object({key: {"type": "array", "items": _ref(item)}, "next": N_STRING})
            }
        },
    }


ERRORS = {
    "401": _answer("no bearer token, or an unknown one", "Error"),
    "503": _answer("no organisation file loaded", "Error"),
}
REFUSED = _answer("refused input; `field` names what is wrong", "Error")
UNKNOWN_TICKET = _answer("no such ticket", "Error")


def _query(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or STRING,
    }


NUMBER = {
    "name": "number",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
}
LIMIT = _query("limit", "how many per page (1-200)", type="integer", minimum=1, maximum=200)
AFTER = _query("after", "the `next` cursor of the previous page")
LANG = _query(
    "lang", "the timeline's language (else Accept-Language, else French)", type="string", enum=["fr", "en"]
)


def describe(server: str) -> dict[str, Any]:
    """The whole description, served at `server`."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "astreinte",
            "version": API_VERSION,
            "description": "The after-hours front desk: tickets, calls, callouts, who is on call. "
            "Authorization: Bearer <token> (`astreinte token create NAME`). Times in ISO 8601 with the "
            "organisation's offset.",
        },
        "servers": [{"url": server}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "paths": {
            "/api/tickets": {
                "post": {
                    "operationId": "createTicket",
                    "summary": "Open a ticket; a given `number` is kept. At night, a priority with "
                    "`page_on_open` or a major incident pages the technician at once.",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("NewTicket")}},
                    },
                    "responses": {
                        "201": _answer("the ticket, with its clocks and timeline", "Ticket"),
                        "400": REFUSED,
                        "409": _answer("a ticket with this number exists already", "Error"),
                        **ERRORS,
                    },
                }
            },
            "/api/tickets/{number}": {
                "parameters": [NUMBER],
                "get": {
                    "operationId": "getTicket",
                    "summary": "A ticket, its SLA clocks and its timeline",
                    "parameters": [LANG],
                    "responses": {
                        "200": _answer("the ticket", "Ticket"),
                        "404": UNKNOWN_TICKET,
                        **ERRORS,
                    },
                },
                "patch": {
                    "operationId": "changeTicket",
                    "summary": "Change status, priority, the major-incident flag, or add a note; each "
                    "change reaches the timeline with the token's name",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("TicketChange")}},
                    },
                    "responses": {
                        "200": _answer("the ticket as it is now", "Ticket"),
                        "400": REFUSED,
                        "404": UNKNOWN_TICKET,
                        "409": _answer("the ticket is closed: it changes no more", "Error"),
                        **ERRORS,
                    },
                },
            },
            "/api/calls": {
                "get": {
                    "operationId": "listCalls",
                    "summary": "The call log",
                    "parameters": [
                        _query("from", "first local day (YYYY-MM-DD)", type="string", format="date"),
                        _query("to", "last local day, inclusive", type="string", format="date"),
                        _query(
                            "outcome",
                            "the call's outcome",
                            type="string",
                            enum=[o.value for o in CallOutcome],
                        ),
                        _query(
                            "reason", "a refusal reason", type="string", enum=[r.value for r in RefusalReason]
                        ),
                        _query("client", "a client account"),
                        _query("ticket", "a ticket number (also the calls that keyed it)"),
                        _query("caller", "the caller's number, as people write it"),
                        LIMIT,
                        AFTER,
                    ],
                    "responses": {"200": _list_of("calls", "Call"), "400": REFUSED, **ERRORS},
                }
            },
            "/api/callouts": {
                "get": {
                    "operationId": "listCallouts",
                    "summary": "Callouts (the promise that someone takes over), with their pages",
                    "parameters": [
                        _query("ticket", "a ticket number"),
                        _query(
                            "state",
                            "paging, taken_over or cancelled",
                            type="string",
                            enum=[s.value for s in CalloutState],
                        ),
                        LIMIT,
                        AFTER,
                    ],
                    "responses": {
                        "200": _list_of("callouts", "Callout"),
                        "400": REFUSED,
                        "404": UNKNOWN_TICKET,
                        **ERRORS,
                    },
                }
            },
            "/api/oncall": {
                "get": {
                    "operationId": "whoIsOnCall",
                    "summary": "Who holds each on-call position and escalation role, and why",
                    "parameters": [
                        _query(
                            "at",
                            "an ISO 8601 instant (a time without offset is local); now when absent",
                            type="string",
                        ),
                    ],
                    "responses": {
                        "200": _answer("the holders at that instant", "OnCall"),
                        "400": REFUSED,
                        **ERRORS,
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "describeApi",
                    "summary": "This description (no token needed)",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "an OpenAPI 3.1 document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
    }

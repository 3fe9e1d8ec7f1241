"""The JSON API (DESIGN: contract): bearer tokens, calls, callouts and on-call (tickets: api_tickets).
Times are ISO 8601 with the organisation's offset; refused input gets a 4xx whose message names the
field."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, g, jsonify, request
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

import clock
from dashboard.calllog import (
    FilterError,
    decode_cursor,
    make_cursor,
    page_of_calls,
    parse_filter,
    parse_limit,
)
from dashboard.openapi import describe
from dashboard.web import unknown_page
from models import ApiToken, Call, Callout, Page, Person, session
from oncall.rota import all_overrides, desk_overrides, who_is_on_call
from org.load import NoOrganisation, current_org
from org.orgfile import POSITIONS, ROLES
from tickets.service import find_ticket
from words.catalogue import LANGUAGES

bp = Blueprint("api", __name__, url_prefix="/api")

TOKEN_PREFIX = "ast_"


# --- tokens -------------------------------------------------------------------------------------


def token_digest(token: str) -> str:
    # A random 256-bit token needs no slow hash: SHA-256 makes the stored value useless to a thief.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(name: str) -> str:
    """A new API token named `name`; only its digest is kept, the token itself is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=token_digest(token), created_at=clock.now()))
    session.commit()
    return token


def error(status: int, message: str, field: str | None = None) -> tuple[Response, int]:
    body: dict[str, Any] = {"error": message}
    if field:
        body["field"] = field
    return jsonify(body), status


PUBLIC_ENDPOINTS = {"api.openapi"}  # the API's description is no secret


@bp.before_request
def _authenticate() -> Any:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        response, status = error(
            401, "Authorization: a bearer token is required (astreinte token create NAME)"
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="astreinte"'
        return response, status
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token.strip())))
    if row is None:
        response, status = error(401, "Authorization: unknown or revoked token")
        response.headers["WWW-Authenticate"] = 'Bearer realm="astreinte", error="invalid_token"'
        return response, status
    now = clock.now()
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):  # not a write per request
        row.last_used_at = now
        session.commit()
    g.api_token = row
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    """Tickets and callers' numbers: never cached on the way, never sniffed into something else."""
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
    return response


def _carries_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_carries_nul(k) or _carries_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_carries_nul(v) for v in value)
    return False


@bp.before_request
def _refuse_nul_bytes() -> Any:
    """No text with a NUL byte: PostgreSQL cannot keep one, nor compare against one. No JSON nested
    past Python's recursion limit (`[[[[…]]]]`): a 400, not a RecursionError's 500."""
    try:
        body_has_nul = request.is_json and _carries_nul(request.get_json(silent=True))
    except RecursionError:
        return error(400, "the JSON body is nested too deeply")
    if (
        "\x00" in request.path
        or any(_carries_nul(k) or _carries_nul(v) for k, v in request.args.items(multi=True))
        or body_has_nul
    ):
        return error(400, "a NUL byte is not accepted in a path, a parameter or a JSON value")
    return None


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[Response, int]:
    return error(exc.code or 500, exc.description or exc.name)


def _routing_error(exc: HTTPException) -> Any:
    """Unknown paths and methods under /api/ answer in JSON too (they never reach the blueprint)."""
    if request.path.startswith("/api/"):
        return error(exc.code or 404, exc.description or exc.name)
    if request.blueprint is None and exc.code == 404:
        return unknown_page(exc)
    return exc


bp.app_errorhandler(404)(_routing_error)
bp.app_errorhandler(405)(_routing_error)


@bp.errorhandler(FilterError)
def _filter_error(exc: FilterError) -> tuple[Response, int]:
    return error(400, str(exc), exc.field)


@bp.errorhandler(NoOrganisation)
def _no_org(exc: NoOrganisation) -> tuple[Response, int]:
    return error(503, str(exc))


# --- serialisation ------------------------------------------------------------------------------


def _timezone() -> ZoneInfo:
    cache = request.environ  # once per request: a page of calls has a hundred instants
    if "astreinte.tz" not in cache:
        cache["astreinte.tz"] = current_org().timezone
    return cache["astreinte.tz"]  # type: ignore[no-any-return]


def iso(at: datetime | None) -> str | None:
    """ISO 8601 with the organisation's offset: 2026-11-24T23:19:00+01:00."""
    if at is None:
        return None
    return at.astimezone(_timezone()).isoformat(timespec="seconds")


def asked_language() -> str:
    """The language a machine client asks for (the timeline, /healthz's warnings): `?lang=en`, else
    its Accept-Language, else French."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    return request.accept_languages.best_match(LANGUAGES, default=LANGUAGES[0]) or LANGUAGES[0]


def call_json(call: Call) -> dict[str, Any]:
    vm = call.voicemail
    return {
        "id": call.id,
        "sid": call.sid,
        "from": call.from_number,
        "to": call.to_number,
        "started_at": iso(call.started_at),
        "ended_at": iso(call.ended_at),
        "duration": call.duration,
        "after_hours": call.after_hours,
        "outcome": call.outcome.value,
        "reason": call.reason,
        "ticket": call.ticket.number if call.ticket else None,
        "entered_ticket": call.entered_ticket,
        "client": call.client.account if call.client else None,
        "callback_number": call.callback_number or (vm.callback_number if vm else None),
        "language": call.language,
        "voicemail": {
            "id": vm.id,
            "duration": vm.duration,
            "recorded_at": iso(vm.recorded_at),
            "kind": vm.kind.value,
        }
        if vm
        else None,
    }


def callout_json(callout: Callout) -> dict[str, Any]:
    """Exactly the contract's fields."""
    return {
        "id": callout.id,
        "ticket": callout.ticket.number,
        "state": callout.state.value,
        "opened_at": iso(callout.opened_at),
        "due_at": iso(callout.due_at),
        "taken_over_at": iso(callout.taken_over_at),
        "taken_over_by": callout.taken_over_by,
        "taken_over_via": callout.taken_over_via.value if callout.taken_over_via else None,
        "breached": callout.breached,
        "escalation_level": callout.escalation_level,
        "pages": [
            {
                "person": p.person_id,
                "channel": p.channel.value,
                "status": p.status,
                "twilio_sid": p.twilio_sid,
                "at": iso(p.sent_at or p.created_at),  # a throttled page counts from when it left
            }
            for p in callout.pages
        ],
    }


# --- routes -------------------------------------------------------------------------------------


@bp.get("/calls")
def get_calls() -> Any:
    org = current_org()
    f = parse_filter(request.args, org.timezone, org.region)
    limit = parse_limit(request.args.get("limit"))
    calls, cursor = page_of_calls(f, limit, request.args.get("after") or None)
    return jsonify(calls=[call_json(c) for c in calls], next=cursor)


@bp.get("/callouts")
def get_callouts() -> Any:
    current_org()
    limit = parse_limit(request.args.get("limit"))
    query = select(Callout).options(
        selectinload(Callout.pages).joinedload(Page.person), selectinload(Callout.ticket)
    )
    if number := (request.args.get("ticket") or "").strip():
        ticket = find_ticket(number)
        if ticket is None:
            return error(404, f"ticket: no ticket {number!r}", "ticket")
        query = query.where(Callout.ticket_id == ticket.id)
    if state := request.args.get("state"):
        if state not in ("paging", "taken_over", "cancelled"):
            return error(400, "state: one of paging, taken_over, cancelled", "state")
        query = query.where(Callout.state == state)
    if after := request.args.get("after"):
        at, ident = decode_cursor(after)
        query = query.where(
            Callout.opened_at <= at,
            or_(Callout.opened_at < at, and_(Callout.opened_at == at, Callout.id < ident)),
        )
    rows = list(session.scalars(query.order_by(Callout.opened_at.desc(), Callout.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = make_cursor(rows[-1].opened_at, rows[-1].id) if more else None
    return jsonify(callouts=[callout_json(c) for c in rows], next=cursor)


@bp.get("/oncall")
def get_oncall() -> Any:
    """Who holds each position and role at `?at=` (ISO 8601; now when absent), and where it comes
    from: the weekly rota, an override of the organisation file, or a change made at the desk."""
    org = current_org()
    raw = (request.args.get("at") or "").strip()
    at = clock.now()
    if raw:
        try:
            at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return error(400, "at: expected an ISO 8601 instant (2026-11-24T23:10:00+01:00)", "at")
        if at.tzinfo is None:
            at = at.replace(tzinfo=org.timezone)  # a local time, as people write it
        if not 2000 <= at.year <= 2999:  # 0001-01-01 or 9999-12-31 would overflow once moved to UTC
            return error(400, "at: out of range (years 2000 to 2999)", "at")
    file_only = who_is_on_call(org, at, org.rota.overrides)
    rota_only = who_is_on_call(org, at, ())
    held = who_is_on_call(org, at, all_overrides(org))
    positions = []
    for position in POSITIONS:
        person = held[position]
        if person != file_only[position] or _desk_holds(position, at, person):
            source = "desk_change"
        elif person != rota_only[position] or _file_holds(org, position, at, person):
            source = "override"
        else:
            source = "rota"
        positions.append({"position": position, "source": source, **_person_json(person)})
    roles = [
        {"role": role, "level": level, "source": "escalation", **_person_json(org.escalation.get(role))}
        for level, role in enumerate(ROLES, start=1)
    ]
    return jsonify(at=iso(at), positions=positions, roles=roles)


def _holds(overrides: Any, position: str, at: datetime, person: str | None) -> bool:
    instant = at.astimezone(UTC)
    return any(
        o.position == position
        and o.person == person
        and o.start.astimezone(UTC) <= instant < o.end.astimezone(UTC)
        for o in overrides
    )


def _desk_holds(position: str, at: datetime, person: str | None) -> bool:
    return _holds(desk_overrides(), position, at, person)


def _file_holds(org: Any, position: str, at: datetime, person: str | None) -> bool:
    return _holds(org.rota.overrides, position, at, person)


def _person_json(person_id: str | None) -> dict[str, Any]:
    person = session.get(Person, person_id) if person_id else None
    return {
        "person": person_id,
        "name": person.name if person else None,
        "phone": person.phone if person else None,
        "active": bool(person and person.active),
    }


@bp.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3 description of every route of this API."""
    return jsonify(describe(request.host_url.rstrip("/")))

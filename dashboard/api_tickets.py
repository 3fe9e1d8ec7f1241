"""The JSON API's tickets: open one, read it with its SLA clocks and timeline, change it."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from dashboard.api import asked_language, bp, error, iso
from models import Ticket, TicketEvent, session
from oncall.ticket_changes import (
    TicketChange,
    TicketConflict,
    change_ticket,
    open_ticket,
    read_status,
    status_word,
)
from org.load import current_org
from tickets.service import NOTE_MAX, DuplicateTicket, TicketError, find_ticket
from tickets.sla import SlaClock, ticket_clocks
from tickets.timeline import tell

DESCRIPTION_MAX = 10_000


def _clock_json(c: SlaClock | None) -> dict[str, Any] | None:
    if c is None:
        return None  # the priority has no such target
    target, elapsed = int(c.target.total_seconds()), int(c.elapsed.total_seconds())
    return {
        "target_seconds": target,
        "elapsed_seconds": elapsed,
        "remaining_seconds": target - elapsed,  # whole seconds that add up: 0 + 14400, not 0 + 14399
        "clock": c.counting,
        "paused": c.paused,
        "stopped_at": iso(c.stopped_at),
        "due_at": iso(c.due_at),
        "breached": c.breached,
    }


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    org = current_org()
    clocks = ticket_clocks(org, ticket)
    lang = asked_language()
    return {
        "number": ticket.number,
        "client": ticket.client.account,
        "client_name": ticket.client.name,
        "service": ticket.service.ref if ticket.service else None,
        "priority": ticket.priority,
        "subject": ticket.subject,
        "description": ticket.description,
        "status": status_word(ticket),
        "major_incident": ticket.major_incident,
        "opened_at": iso(ticket.opened_at),
        "taken_over_at": iso(
            clocks.takeover.stopped_at if clocks and clocks.takeover else ticket.taken_over_at
        ),
        "resolved_at": iso(ticket.resolved_at),
        "standby_since": iso(ticket.standby_since),
        "standby_seconds": ticket.standby_seconds or 0,
        "sla": {"takeover": _clock_json(clocks.takeover), "resolution": _clock_json(clocks.resolution)}
        if clocks
        else None,
        "timeline": [
            {"at": iso(e.at), "kind": e.kind, "actor": e.actor, "text": tell(e, lang, org.timezone)}
            for e in session.scalars(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket.id)
                .order_by(TicketEvent.at, TicketEvent.id)
            )
        ],
    }


@bp.post("/tickets")
def post_ticket() -> tuple[Response, int]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error(400, "body: expected a JSON object with client, priority, subject", "body")
    for name in ("client", "priority", "subject"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            return error(400, f"{name}: required (a non-empty string)", name)
    for name in ("service", "description", "number"):
        if body.get(name) is not None and not isinstance(body[name], str):
            return error(400, f"{name}: expected a string", name)
    if not isinstance(body.get("major_incident", False), bool):
        return error(400, "major_incident: expected true or false", "major_incident")
    if len(body.get("description") or "") > DESCRIPTION_MAX:
        return error(400, f"description: at most {DESCRIPTION_MAX} characters", "description")
    current_org()  # 503 before anything is written when no organisation is loaded
    try:
        ticket = open_ticket(
            client=body["client"].strip(),
            priority=body["priority"].strip(),
            subject=body["subject"],
            service=(body.get("service") or "").strip() or None,
            description=body.get("description"),
            actor=f"api:{g.api_token.name}",
            major_incident=bool(body.get("major_incident", False)),
            number=body.get("number"),
        )
    except DuplicateTicket as exc:
        return error(409, str(exc), exc.field)
    except TicketError as exc:
        return error(400, str(exc), exc.field)
    response = jsonify(ticket_json(ticket))
    response.headers["Location"] = f"/api/tickets/{ticket.number}"
    return response, 201


@bp.get("/tickets/<number>")
def get_ticket(number: str) -> Any:
    ticket = find_ticket(number)
    if ticket is None:
        return error(404, f"ticket: no ticket {number!r}", "ticket")
    return jsonify(ticket_json(ticket))


PATCH_FIELDS = ("status", "priority", "major_incident", "note")


@bp.patch("/tickets/<number>")
def patch_ticket(number: str) -> Any:
    """Change a ticket's status, priority, major-incident flag, or add a note; on the timeline as
    `api:<token name>`."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error(400, f"body: expected a JSON object with any of {', '.join(PATCH_FIELDS)}", "body")
    if unknown := sorted(set(body) - set(PATCH_FIELDS)):
        return error(400, f"{unknown[0]}: unknown field (known: {', '.join(PATCH_FIELDS)})", unknown[0])
    for name in ("status", "priority", "note"):
        if body.get(name) is not None and not isinstance(body[name], str):
            return error(400, f"{name}: expected a string", name)
    if body.get("major_incident") is not None and not isinstance(body["major_incident"], bool):
        return error(400, "major_incident: expected true or false", "major_incident")
    if len(body.get("note") or "") > NOTE_MAX:
        return error(400, f"note: at most {NOTE_MAX} characters", "note")
    current_org()
    ticket = find_ticket(number)
    if ticket is None:
        return error(404, f"ticket: no ticket {number!r}", "ticket")
    try:
        change = TicketChange(
            status=read_status(body["status"]) if body.get("status") is not None else None,
            priority=body.get("priority"),
            major_incident=body.get("major_incident"),
            note=body.get("note"),
        )
        change_ticket(ticket, change, actor=f"api:{g.api_token.name}")
    except TicketConflict as exc:
        return error(409, str(exc), exc.field)
    except TicketError as exc:
        return error(400, str(exc), exc.field)
    return jsonify(ticket_json(ticket))

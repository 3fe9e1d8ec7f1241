"""The desk's tickets: the list with its filters (status, priority, client, breached, tonight), a new
ticket, and the changes of priority and of the major-incident switch. The ticket page, its status and
its notes are in views.py; every change goes through `oncall.ticket_changes`, as the API's do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

import clock
from dashboard.auth import current_user, language
from dashboard.web import bp, org_or_none
from models import Callout, Client, Service, Ticket, TicketStatus, session
from oncall.ticket_changes import TicketChange, change_ticket, open_ticket
from tickets.service import TicketError
from tickets.sla import TicketClocks, ticket_clocks
from words.ui import t

LIST_MAX = 200  # newest first; the filters narrow it
TONIGHT = timedelta(hours=14)  # as /now: the morning review sees the whole night


@dataclass(frozen=True)
class Row:
    ticket: Ticket
    clocks: TicketClocks | None
    late_callout: bool  # a night alert of the ticket passed its own deadline with nobody

    @property
    def breached(self) -> bool:
        if self.late_callout:
            return True
        if self.clocks is None:
            return False
        return any(c is not None and c.breached for c in (self.clocks.takeover, self.clocks.resolution))


def _filters(args: MultiDict[str, str]) -> dict[str, str]:
    return {
        k: v.strip()
        for k in ("status", "priority", "client", "breached", "tonight")
        if (v := args.get(k, ""))
    }


def ticket_list() -> str:
    """GET /tickets without a number: the tickets, newest first, filtered."""
    org = org_or_none()
    f = _filters(request.args)
    now = clock.now()
    query = (
        select(Ticket)
        .options(joinedload(Ticket.client), joinedload(Ticket.service))
        .order_by(Ticket.opened_at.desc(), Ticket.id.desc())
    )
    if f.get("status") in {s.value for s in TicketStatus}:
        query = query.where(Ticket.status == f["status"])
    if "priority" in f:
        query = query.where(Ticket.priority == f["priority"])
    if "client" in f:
        query = query.where(Ticket.client.has(Client.account == f["client"]))
    night = select(Callout.id).where(Callout.ticket_id == Ticket.id, Callout.opened_at >= now - TONIGHT)
    if f.get("tonight"):
        query = query.where(or_(Ticket.opened_at >= now - TONIGHT, night.exists()))
    tickets = list(session.scalars(query.limit(LIST_MAX)).unique())
    late = set(
        session.scalars(
            select(Callout.ticket_id).where(
                Callout.ticket_id.in_([x.id for x in tickets]), Callout.breached_at.is_not(None)
            )
        )
    )
    rows = [Row(x, ticket_clocks(org, x, now) if org else None, x.id in late) for x in tickets]
    if f.get("breached"):
        rows = [r for r in rows if r.breached]
    return render_template(
        "desk/tickets.html",
        rows=rows,
        args=f,
        statuses=list(TicketStatus),
        priorities=list(org.priorities.values()) if org else [],
        clients=list(session.execute(select(Client.account, Client.name).order_by(Client.name))),
        limit=LIST_MAX,
    )


def _form_context(values: dict[str, Any], error: str | None = None) -> dict[str, Any]:
    org = org_or_none()
    return {
        "values": values,
        "error": error,
        "priorities": list(org.priorities.values()) if org else [],
        "clients": list(session.scalars(select(Client).order_by(Client.name))),
        "services": list(
            session.scalars(select(Service).options(joinedload(Service.client)).order_by(Service.ref))
        ),
    }


@bp.get("/tickets/new")
def new_ticket() -> str:
    return render_template("desk/ticket_new.html", **_form_context({}))


@bp.post("/tickets/new")
def create_ticket() -> Any:
    user = current_user()
    assert user is not None
    form = request.form
    values: dict[str, Any] = {
        k: form.get(k, "") for k in ("client", "service", "priority", "subject", "description", "number")
    }
    values["major_incident"] = form.get("major_incident") == "on"
    try:
        ticket = open_ticket(
            client=values["client"].strip(),
            priority=values["priority"].strip(),
            subject=values["subject"],
            service=values["service"].strip() or None,
            description=values["description"] or None,
            actor=user.name,
            major_incident=bool(values["major_incident"]),
            number=values["number"].strip() or None,
        )
    except TicketError as exc:
        session.rollback()
        reason = t("Requête refusée : {reason}", language(), reason=exc.message)
        return render_template("desk/ticket_new.html", **_form_context(values, reason)), 400
    flash(t("Requête {number} ouverte.", language(), number=ticket.number))
    return redirect(url_for("dashboard.ticket", number=ticket.number))


@bp.post("/tickets/<number>/edit")
def edit_ticket(number: str) -> Response:
    """The priority and the major-incident switch (a switch sent unchecked lifts the flag)."""
    row = session.scalar(select(Ticket).where(Ticket.number == number))
    if row is None:
        flash(t("Aucune requête n° {number}.", language(), number=number), "error")
        return redirect(url_for("dashboard.find"))
    user = current_user()
    assert user is not None
    change = TicketChange(
        priority=(request.form.get("priority") or "").strip() or None,
        major_incident=request.form.get("major_incident") == "on" if "major_switch" in request.form else None,
    )
    try:
        done = change_ticket(row, change, actor=user.name)
    except TicketError as exc:
        session.rollback()
        flash(t("Modification refusée : {reason}", language(), reason=exc.message), "error")
        return redirect(url_for("dashboard.ticket", number=number))
    flash(t("Requête modifiée.", language()) if done else t("Rien à changer.", language()))
    return redirect(url_for("dashboard.ticket", number=number))

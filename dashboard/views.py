"""Dashboard pages: now (open callouts), a ticket (details, SLA clocks, timeline, agent actions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

import clock
from dashboard.auth import current_user, language
from dashboard.tickets import ticket_list
from dashboard.web import bp, org_or_none
from models import (
    Call,
    Callout,
    CalloutState,
    Page,
    Person,
    Ticket,
    TicketEvent,
    TicketStatus,
    session,
)
from oncall import pagetests
from oncall.rota import who_is_on_call
from oncall.ticket_changes import TicketChange, change_ticket, read_status
from tickets.service import NOTE_MAX, TicketError, add_note, find_ticket
from tickets.sla import ticket_clocks
from words.ui import t

RECENT = timedelta(hours=14)  # the morning review sees the whole night
# The status form offers the step that usually comes next first, so a hurried agent moves forward.
NEXT_STATUS = {
    TicketStatus.OPEN: TicketStatus.IN_PROGRESS,
    TicketStatus.IN_PROGRESS: TicketStatus.RESOLVED,
    TicketStatus.CLIENT_STANDBY: TicketStatus.IN_PROGRESS,
    TicketStatus.RESOLVED: TicketStatus.CLOSED,
}


# The service explains a refusal in English (the API's language); agents read it in theirs.
_REFUSALS_FR = {
    "must not be empty": "le texte est vide",
    f"at most {NOTE_MAX} characters": f"{NOTE_MAX} caractères au plus",
    "a closed ticket cannot change any more": "une requête clôturée ne change plus",
    "the ticket is closed: it cannot change any more (a note may be added)": "une requête clôturée ne change "
    "plus (une note reste possible)",
    "nothing to change: give status, priority, major_incident or note": "rien à changer",
}


def refusal(exc: TicketError) -> str:
    """Why the service refused, in the agent's language."""
    if language() == "en":
        return exc.message
    if exc.message.startswith("the ticket is already "):
        return "la requête a déjà ce statut"
    return _REFUSALS_FR.get(exc.message, exc.message)


def status_choices(current: TicketStatus) -> list[TicketStatus]:
    """The statuses a ticket may move to, the usual next one first; none once it is closed."""
    if current is TicketStatus.CLOSED:
        return []
    others = [s for s in TicketStatus if s is not current]
    first = NEXT_STATUS[current]
    return [first] + [s for s in others if s is not first]


def people() -> dict[str, str]:
    """Person id → name, for every page that names people."""
    return {p.id: p.name for p in session.scalars(select(Person))}


def _callouts_query() -> Any:
    return select(Callout).options(
        joinedload(Callout.ticket).joinedload(Ticket.client),
        joinedload(Callout.voicemail),
        selectinload(Callout.pages),
    )


@dataclass
class Waiting:
    """A ticket waiting for a takeover, as /now shows it: one card, however many times the caller rang.

    Each message the caller left opened its own callout (its own promise); the earliest deadline is
    the one that runs out first. A page call that bundled several of them is one call: listed once.
    """

    ticket: Ticket
    callouts: list[Callout]

    @property
    def due_at(self) -> datetime:
        return min(c.due_at for c in self.callouts)

    @property
    def escalation_level(self) -> int:
        return max(c.escalation_level for c in self.callouts)

    @property
    def pages(self) -> list[Page]:
        seen: dict[object, Page] = {}
        for page in (p for c in self.callouts for p in c.pages):
            key = (page.twilio_sid, page.person_id, page.channel) if page.twilio_sid else page.id
            seen.setdefault(key, page)
        return sorted(seen.values(), key=lambda p: (clock.as_utc(p.sent_at or p.created_at), p.id))


def waiting_by_ticket(callouts: list[Callout]) -> list[Waiting]:
    """Open callouts grouped by ticket, messages in the order they were left, soonest deadline first."""
    grouped: dict[int, Waiting] = {}
    for callout in sorted(callouts, key=lambda c: (clock.as_utc(c.opened_at), c.id)):
        grouped.setdefault(callout.ticket_id, Waiting(callout.ticket, [])).callouts.append(callout)
    return sorted(grouped.values(), key=lambda w: (clock.as_utc(w.due_at), w.callouts[0].id))


@bp.route("/now")
def now() -> str:
    """Tickets waiting for a takeover, with the time left, who has been paged and how it went; then
    the callouts of the night that are over, one line per message."""
    instant = clock.now()
    open_ = list(session.scalars(_callouts_query().where(Callout.state == CalloutState.PAGING)).unique())
    recent = list(
        session.scalars(
            _callouts_query()
            .where(Callout.state != CalloutState.PAGING, Callout.opened_at >= instant - RECENT)
            .order_by(Callout.opened_at.desc(), Callout.id.desc())
        ).unique()
    )
    return render_template(
        "desk/now.html",
        waiting=waiting_by_ticket(open_),
        recent=recent,
        people=people(),
        instant=instant,
        on_call=_on_call_now(),
        pager_tests=pagetests.latest_by_person(instant),
    )


def _on_call_now() -> Any:
    org = org_or_none()
    if org is None:
        return None

    return who_is_on_call(org, clock.now())


@bp.get("/tickets")
def find() -> Response | str:
    """The header's "go to ticket" box; without a number, the list of tickets."""
    number = (request.args.get("number") or "").strip().lstrip("#")
    if not number:
        return ticket_list()
    if find_ticket(number) is None:
        flash(t("Aucune requête n° {number}.", language(), number=number))
        return redirect(_back())
    return redirect(url_for("dashboard.ticket", number=number))


def _back() -> str:
    """The page the agent came from, on this site only."""
    parts = urlsplit(request.referrer or "")
    if parts.netloc and parts.netloc != request.host:
        return url_for("dashboard.now")
    return (parts.path or url_for("dashboard.now")) + (f"?{parts.query}" if parts.query else "")


def _ticket_or_404(number: str) -> Ticket:
    ticket = session.scalar(
        select(Ticket)
        .where(Ticket.number == number)
        .options(joinedload(Ticket.client), joinedload(Ticket.service))
    )
    if ticket is None:
        abort(404, description=t("Aucune requête n° {number}.", language(), number=number))
    return ticket


@bp.get("/tickets/<number>")
def ticket(number: str) -> str:
    row = _ticket_or_404(number)
    org = org_or_none()
    callouts = list(
        session.scalars(
            select(Callout)
            .where(Callout.ticket_id == row.id)
            .options(selectinload(Callout.pages).joinedload(Page.person), joinedload(Callout.voicemail))
            .order_by(Callout.opened_at, Callout.id)
        ).unique()
    )
    calls = list(
        session.scalars(
            select(Call)
            .where(Call.ticket_id == row.id)
            .options(selectinload(Call.voicemail))
            .order_by(Call.started_at, Call.id)
        )
    )
    events = list(
        session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == row.id)
            .order_by(TicketEvent.at, TicketEvent.id)  # the night as it happened, as the API gives it
        )
    )
    return render_template(
        "desk/ticket.html",
        ticket=row,
        events=events,
        clocks=ticket_clocks(org, row) if org else None,
        priority=org.priorities.get(row.priority) if org else None,
        callouts=callouts,
        calls=calls,
        people=people(),
        statuses=status_choices(row.status),
        priorities=list(org.priorities.values()) if org else [],
        first_takeover=_first_takeover(callouts),
    )


def _first_takeover(callouts: list[Callout]) -> Callout | None:
    """The callout whose takeover stopped the ticket's takeover clock, if a night takeover did."""
    taken = [c for c in callouts if c.taken_over_at is not None]
    return min(taken, key=lambda c: clock.as_utc(c.taken_over_at or c.opened_at)) if taken else None


@bp.post("/tickets/<number>/status")
def set_status(number: str) -> Response:
    row = _ticket_or_404(number)
    user = current_user()
    assert user is not None
    try:
        change = TicketChange(
            status=read_status(request.form.get("status", "")), note=request.form.get("note") or None
        )
        if change.status is row.status:
            raise TicketError("status", f"the ticket is already {row.status.value}")
        change_ticket(row, change, actor=user.name)
    except TicketError as exc:
        session.rollback()
        flash(t("Statut refusé : {reason}", language(), reason=refusal(exc)), "error")
        return redirect(url_for("dashboard.ticket", number=number))
    flash(t("Statut changé.", language()))
    return redirect(url_for("dashboard.ticket", number=number))


@bp.post("/tickets/<number>/notes")
def post_note(number: str) -> Response:
    row = _ticket_or_404(number)
    user = current_user()
    assert user is not None
    try:
        add_note(row, request.form.get("note", ""), actor=user.name)
    except TicketError as exc:
        session.rollback()
        flash(t("Note refusée : {reason}", language(), reason=refusal(exc)), "error")
        return redirect(url_for("dashboard.ticket", number=number))
    flash(t("Note ajoutée.", language()))
    return redirect(url_for("dashboard.ticket", number=number) + "#timeline")

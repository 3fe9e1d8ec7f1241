"""The rota page: the next four weeks, gaps flagged; covers, swaps and their undo by the desk; the rota's
timeline; the calendar feeds' secret addresses. And the public feed route (blueprint `calendar`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from werkzeug.wrappers import Response

import clock
from dashboard.auth import current_user, language
from dashboard.web import bp, local, org_or_none
from models import Person, Role, RotaChange, RotaEvent, session
from oncall import feeds
from oncall.overrides import (
    Problem,
    RotaRefused,
    cover,
    desk_positions,
    file_positions,
    live_changes,
    swap,
    timeline,
    undo,
    weeks,
)
from oncall.rota import shifts, who_is_on_call
from oncall.rota_alerts import PAGE_WITHIN, gaps_ahead
from org.orgfile import POSITIONS, Org, local_time
from words.ui import label, t

ROTA_WEEKS = 4
SWAP_WEEKS = 8

calendar_bp = Blueprint("calendar", __name__)

# Why a change is refused, in French: the catalogue gives the English (words/ui.py).
REFUSALS = {
    "no_reason": "Donnez la raison du changement.",
    "long_reason": "La raison tient en {max} caractères au plus.",
    "unknown": "{person} n'est pas dans le fichier d'organisation.",
    "inactive": "{person} n'est plus actif : pas d'astreinte possible.",
    "position": "Rôle d'astreinte inconnu.",
    "backwards": "La fin vient avant le début.",
    "past": "Ces heures sont déjà passées.",
    "already": "{person} est déjà {position} à ces heures.",
    "overlap": "Chevauchement : le changement n° {change} couvre déjà le rôle {position} à partir du {at}. "
    "Annulez-le d'abord.",
    "gap": "Trou : personne ne serait {position} à partir du {at}.",
    "twice": "{person} serait principal et renfort à la fois à partir du {at}.",
    "same_person": "Un échange se fait entre deux personnes différentes.",
    "same_week": "Choisissez deux semaines différentes.",
    "not_on_call": "{person} n'est pas d'astreinte la semaine du {week}.",
    "no_change": "Aucun changement n° {change}.",
    "undone": "Le changement n° {change} est déjà annulé.",
    "time": "Heure locale invalide : {value} (AAAA-MM-JJ HH:MM).",
    "dst": "L'heure {value} n'existe pas en {tz} : les horloges la sautent cette nuit-là.",
}


def _name(org: Org, person: str | None) -> str:
    if not person:
        return t("personne", language())
    entry = org.people.get(person)
    if entry is not None:
        return entry.name
    row = session.get(Person, person)  # someone who left the file: kept for history
    return row.name if row is not None else person


def _when(value: Any) -> str:
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return local(at, "%a %d/%m %H:%M")


def refusal(org: Org, problem: Problem) -> str:
    """A refusal in the agent's language, people and times as they read them."""
    v = dict(problem.values)
    lang = language()
    if "person" in v:
        v["person"] = _name(org, v["person"])
    if "position" in v:
        v["position"] = label("position", v["position"], lang)
    if "at" in v:
        v["at"] = _when(v["at"])
    if "week" in v:
        v["week"] = local(datetime.fromisoformat(v["week"]), "%a %d/%m")
    return t(REFUSALS[problem.code], lang, **v)


def can_change(org: Org | None) -> bool:
    """Administrators change the rota; agents too when the organisation file says so."""
    user = current_user()
    if org is None or user is None:
        return False
    return user.role == Role.ADMIN or org.rota.agents_may_change


def event_line(org: Org, event: Any, undone: dict[int, Any] | None = None) -> str:
    """One entry of the rota's timeline, told in the reader's language from its data; an undo says
    what it undid (the change's own entry, from `undone`, by change number)."""
    d, lang = event.data, language()
    if event.kind == "cover":
        replaced = ", ".join(_name(org, p) for p in d.get("replaced", [])) or t("personne", lang)
        line = t(
            "{person} est {position} du {start} au {end}, à la place de {replaced}",
            lang,
            person=_name(org, d["person"]),
            position=label("position", d["position"], lang),
            start=_when(d["start"]),
            end=_when(d["end"]),
            replaced=replaced,
        )
    elif event.kind == "swap":
        line = t(
            "{first} et {second} échangent leurs semaines (du {first_week} et du {second_week})",
            lang,
            first=_name(org, d["first"]),
            second=_name(org, d["second"]),
            first_week=_when(d["first_week"]),
            second_week=_when(d["second_week"]),
        )
    elif (original := (undone or {}).get(d["change"])) is not None:
        what = event_line(org, original).split(" — ")[0]
        line = t("Changement n° {change} annulé : {what}", lang, change=d["change"], what=what)
    else:
        line = t("Changement n° {change} annulé", lang, change=d["change"])
    return f"{line} — {d['reason']}" if d.get("reason") else line


def changes_told(events: list[RotaEvent]) -> dict[int, RotaEvent]:
    """The entries that made the changes these undo entries take back, by change number."""
    ids = {e.change_id for e in events if e.kind == "undo"}
    if not ids:
        return {}
    made = select(RotaEvent).where(RotaEvent.change_id.in_(ids), RotaEvent.kind != "undo")
    return {e.change_id: e for e in session.scalars(made)}


@bp.get("/rota")
def rota() -> str:
    """Who is primary and backup now and for the next four weeks, overrides marked, gaps flagged; a
    calendar address just renewed, shown this once."""
    new_feed = cookie.pop(NEW_FEED, None)
    return _page(new_feed=tuple(new_feed) if new_feed else None)


def _page(new_feed: tuple[str, str] | None = None) -> str:
    org = org_or_none()
    if org is None:
        return render_template("desk/rota.html", org=None)
    instant = clock.now()
    flagged = gaps_ahead(org, PAGE_WITHIN, instant)
    rows = []
    for s in shifts(org, instant, instant + timedelta(weeks=ROTA_WEEKS)):
        flags = {
            g.position
            for g in flagged
            if g.start.astimezone(UTC) < s.end.astimezone(UTC)
            and s.start.astimezone(UTC) < g.end.astimezone(UTC)
        }
        rows.append(
            {
                "shift": s,
                "desk": desk_positions(org, s.start, s.end),
                "file": file_positions(org, s.start, s.end),
                "flags": flags,
            }
        )
    active = [p for p in session.scalars(select(Person).where(Person.active.is_(True))) if p.id in org.people]
    week_options = [(w, who_is_on_call(org, w + timedelta(hours=1))) for w in weeks(org, SWAP_WEEKS, instant)]
    history = timeline()
    undone = changes_told(history)
    return render_template(
        "desk/rota.html",
        org=org,
        on_call=who_is_on_call(org, instant),
        rows=rows,
        gaps=flagged,
        people={p: e.name for p, e in org.people.items()},
        active=active,
        overrides=[o for o in org.rota.overrides if o.end > instant],
        changes=live_changes(instant),
        events=[(e, event_line(org, e, undone)) for e in history],
        escalation=org.escalation,
        can_change=can_change(org),
        week_options=week_options,
        positions=POSITIONS,
        feeds=feeds.live_feeds(),
        new_feed=new_feed,
    )


NEW_FEED = "rota.new_feed"  # the address renewed, handed to the next page of the rota, then forgotten


def _saved(change: Callable[[], Response]) -> Response:
    """Run a change of the rota; two desks saving at the same instant on SQLite (one writer) get a
    refusal saying so, never an error page."""
    try:
        return change()
    except RotaRefused as exc:
        session.rollback()
        return _back(exc.problems)
    except OperationalError:
        session.rollback()
        flash(
            t("Le planning était enregistré au même instant par quelqu'un d'autre : réessayez.", language()),
            "error",
        )
        return _back()


def _back(problems: list[Problem] | None = None, message: str | None = None) -> Response:
    org = org_or_none()
    if problems and org is not None:
        for p in problems:
            flash(refusal(org, p), "error")
    if message:
        flash(message)
    return redirect(url_for("dashboard.rota") + "#changes")


def _allowed() -> Org:
    org = org_or_none()
    if org is None:
        abort(404)
    if not can_change(org):
        abort(403, description=t("Réservé aux administrateurs.", language()))
    return org


def _local_field(org: Org, name: str) -> datetime:
    value = request.form.get(name, "")
    try:
        return local_time(value, org.timezone)
    except ValueError as exc:
        code = "dst" if "does not exist" in str(exc) else "time"
        raise RotaRefused(
            [Problem(code, {"value": value.replace("T", " "), "tz": org.timezone.key})]
        ) from None


def _actor() -> str:
    user = current_user()
    return user.name if user else "?"


@bp.post("/rota/cover")
def rota_cover() -> Response:
    """ "X covers the primary (or backup) from … to …"."""
    org = _allowed()

    def save() -> Response:
        change = cover(
            org,
            request.form.get("person", ""),
            request.form.get("position", ""),
            _local_field(org, "start"),
            _local_field(org, "end"),
            request.form.get("reason", ""),
            _actor(),
        )
        return _back(message=t("Changement n° {change} enregistré.", language(), change=change.id))

    return _saved(save)


@bp.post("/rota/swap")
def rota_swap() -> Response:
    """ "X and Y swap weeks"."""
    org = _allowed()
    try:
        first_week = datetime.fromisoformat(request.form.get("first_week", "")).date()
        second_week = datetime.fromisoformat(request.form.get("second_week", "")).date()
    except ValueError:
        return _back([Problem("same_week")])

    def save() -> Response:
        change = swap(
            org,
            request.form.get("first", ""),
            first_week,
            request.form.get("second", ""),
            second_week,
            request.form.get("reason", ""),
            _actor(),
        )
        return _back(message=t("Changement n° {change} enregistré.", language(), change=change.id))

    return _saved(save)


@bp.get("/rota/changes/<int:change_id>/undo")
def rota_undo_confirm(change_id: int) -> str:
    """The question before an undo: the change told in full, a reason, and a button that confirms."""
    org = _allowed()
    made = session.scalars(
        select(RotaEvent).where(RotaEvent.change_id == change_id, RotaEvent.kind != "undo")
    ).first()
    change = session.get(RotaChange, change_id)
    if made is None or change is None:
        abort(404)
    return render_template(
        "desk/rota_undo.html", change=change, what=event_line(org, made), done=change.undone_at is not None
    )


@bp.post("/rota/changes/<int:change_id>/undo")
def rota_undo(change_id: int) -> Response:
    """Undo a change, once confirmed on its question page (a bare click on a list never undoes)."""
    org = _allowed()
    if request.form.get("confirm") != "1":
        return redirect(url_for("dashboard.rota_undo_confirm", change_id=change_id), code=303)

    def save() -> Response:
        undo(org, change_id, _actor(), request.form.get("reason", ""))
        return _back(message=t("Changement n° {change} annulé.", language(), change=change_id))

    return _saved(save)


def _feed_owner(org: Org) -> str | None:
    owner = request.form.get("person", "")
    if owner == "team":
        return None
    if owner not in org.people:
        abort(400)
    return owner


@bp.post("/rota/feeds/renew")
def feed_renew() -> Response:
    """A new secret address (the previous one stops working), shown once on the rota page it redirects
    to: reloading that page renews nothing."""
    org = _allowed()
    owner = _feed_owner(org)
    token = feeds.renew(owner, _actor())
    whose = _name(org, owner) if owner else t("l'équipe", language())
    cookie[NEW_FEED] = [whose, feed_url(token)]
    return redirect(url_for("dashboard.rota") + "#feeds")


@bp.post("/rota/feeds/revoke")
def feed_revoke() -> Response:
    org = _allowed()
    feeds.revoke(_feed_owner(org))
    flash(t("Adresse du calendrier révoquée.", language()))
    return redirect(url_for("dashboard.rota") + "#feeds")


def feed_url(token: str) -> str:
    base = str(current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
    return base + url_for("calendar.feed", token=token)


@calendar_bp.get("/calendar/<token>.ics")
def feed(token: str) -> Response:
    """The calendar at a secret address: no login (a phone's calendar cannot log in), 404 once revoked."""
    org = org_or_none()
    row = feeds.find(token)
    if org is None or row is None:
        abort(404)
    if row.person_id is None:
        body = feeds.team_feed(org, org.languages[0] if org.languages else "fr")
    else:
        person = session.get(Person, row.person_id)
        if person is None:
            abort(404)
        body = feeds.person_feed(org, person)
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Content-Disposition"] = 'inline; filename="astreinte.ics"'
    return response

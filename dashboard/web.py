"""The agents' dashboard blueprint: the login gate, the language, local times and durations for the
templates, and the headers every page carries. The pages themselves are in views, calllog, reports."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, has_request_context, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

import clock
from dashboard.auth import bp as auth_bp
from dashboard.auth import csrf_token, current_user, language, require_login
from org.load import NoOrganisation, current_org
from org.orgfile import Org
from org.phones import readable_phone
from tickets.timeline import tell
from words.carriers import carrier_error
from words.ui import DAYS, label, month_name, t

bp = Blueprint("dashboard", __name__, template_folder="templates")
bp.before_request(require_login)

DEFAULT_TZ = ZoneInfo("Europe/Paris")
_ORG = "astreinte.org"


def org_or_none() -> Org | None:
    cache = request.environ if has_request_context() else {}
    if _ORG not in cache:
        try:
            cache[_ORG] = current_org()
        except NoOrganisation:
            cache[_ORG] = None
    return cache[_ORG]  # type: ignore[no-any-return]


def timezone() -> ZoneInfo:
    org = org_or_none()
    return org.timezone if org is not None else DEFAULT_TZ


def local(at: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """An instant in the organisation's time zone, as people read it."""
    if at is None:
        return "—"
    moment = at.astimezone(timezone())
    if "%a" in fmt:  # the C locale's day names are English: French ones come from the catalogue
        fmt = fmt.replace("%a", DAYS[language()][moment.weekday()])
    return moment.strftime(fmt)


def phone(number: str | None) -> Markup | str:
    """A number as agents dial it ("06 11 22 33 44" at home, international abroad), as a tel: link."""
    if not number:
        return "—"
    org = org_or_none()
    shown = readable_phone(number, org.region if org is not None else "FR")
    if shown is None:
        return number
    return Markup('<a class="tel" href="tel:{}">{}</a>').format(number, shown)


GOOD = {"delivered", "completed", "answered", "sent", "outbox"}
BAD = {"failed", "undelivered", "busy", "no-answer", "canceled", "machine", "stale", "declined"}


def tone(status: str) -> str:
    """How a page went, for its colour: ok, bad, or pending."""
    return "ok" if status in GOOD else "bad" if status in BAD else "pending"


def span(value: timedelta | int | float | None) -> str:
    """A duration: 95 → "1 min 35 s", 2 h 05 min for long ones. Negative values read as positive."""
    if value is None:
        return "—"
    seconds = int(abs(value.total_seconds() if isinstance(value, timedelta) else value))
    if seconds >= 2 * 86400:
        days, rest = divmod(seconds, 86400)
        return f"{days} j {rest // 3600} h" if language() == "fr" else f"{days} d {rest // 3600} h"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s" if secs else f"{minutes} min"
    return f"{secs} s"


def _template_globals() -> dict[str, Any]:
    lang = language()
    return {
        "t": lambda text, **kw: t(text, lang, **kw),
        "label": lambda kind, value: label(kind, value, lang),
        "carrier_error": lambda code: carrier_error(code, lang),
        "event_text": lambda event, people: tell(event, lang, timezone()),
        "lang": lang,
        "colon": " :" if lang == "fr" else ":",  # French puts a space before the colon, English does not
        "csrf_token": csrf_token,
        "user": current_user(),
        "local": local,
        "phone": phone,
        "span": span,
        "now": clock.now(),
        "tz_name": timezone().key,
        "tone": tone,
        "month_name": lambda month: month_name(month, lang),
        "decimal": lambda value, places=1: f"{value:.{places}f}".replace(".", "," if lang == "fr" else "."),
    }


def _headers(response: Response) -> Response:
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "media-src 'self'; frame-ancestors 'none'; form-action 'self'",
    )
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "private, no-store")
    return response


def _error(exc: HTTPException) -> tuple[str, int]:
    return render_template("desk/error.html", error=exc), exc.code or 500


def unknown_page(exc: HTTPException) -> Response:
    """A URL no room answers: the dashboard's page (in the agent's language), not Werkzeug's."""
    exc.description = t("Cette page n'existe pas.", language())
    response = Response(
        render_template("desk/error.html", error=exc, **_template_globals()),
        exc.code or 404,
        mimetype="text/html",
    )
    return _headers(response)


for _bp in (bp, auth_bp):
    _bp.context_processor(_template_globals)
    _bp.after_request(_headers)
    _bp.register_error_handler(HTTPException, _error)


@bp.route("/")
def home() -> Response:
    return redirect(url_for("dashboard.now"))

"""Monthly reports: callouts taken over within the commitment (003: 30 minutes), median and 90th
percentile takeover time, per technician; refused calls by reason. A page with SVG charts, and CSV."""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Response, abort, render_template, request
from sqlalchemy import func, select

import clock
from dashboard import charts, sheet
from dashboard.auth import language
from dashboard.unavailability import unavailability
from dashboard.views import people
from dashboard.web import bp, org_or_none, timezone
from models import Call, Callout, CallOutcome, CalloutState, session
from words.ui import label, t

HISTORY_MONTHS = 12


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(rank), math.ceil(rank)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)


@dataclass
class Takeovers:
    """Callouts of a month (or of one technician in it): how fast someone took over."""

    callouts: int = 0  # opened, not cancelled
    taken_over: int = 0
    within: int = 0  # taken over at or before due_at
    minutes: list[float] = field(default_factory=list)  # message → takeover, per taken-over callout

    @property
    def within_pct(self) -> float | None:
        return 100 * self.within / self.callouts if self.callouts else None

    @property
    def median(self) -> float | None:
        return percentile(self.minutes, 50)

    @property
    def p90(self) -> float | None:
        return percentile(self.minutes, 90)


@dataclass
class MonthReport:
    month: date  # first day, local
    total: Takeovers
    by_technician: dict[str, Takeovers]
    cancelled: int
    refused: list[tuple[str, int]]  # reason, calls — most frequent first
    calls_by_outcome: dict[str, int]


def month_bounds(month: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(month.replace(day=1), time(0), tzinfo=tz)
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start, datetime.combine(following, time(0), tzinfo=tz)


def _count(stats: Takeovers, callout: Callout) -> None:
    stats.callouts += 1
    if callout.taken_over_at is not None:
        stats.taken_over += 1
        stats.within += callout.taken_over_at <= callout.due_at
        stats.minutes.append((callout.taken_over_at - callout.opened_at).total_seconds() / 60)


def month_report(month: date, tz: ZoneInfo) -> MonthReport:
    start, end = month_bounds(month, tz)
    total = Takeovers()
    per: defaultdict[str, Takeovers] = defaultdict(Takeovers)
    cancelled = 0
    for callout in session.scalars(
        select(Callout).where(Callout.opened_at >= start, Callout.opened_at < end)
    ):
        if callout.state is CalloutState.CANCELLED and callout.taken_over_at is None:
            cancelled += 1  # nobody needed to take over: outside the commitment's count
            continue
        _count(total, callout)
        if callout.taken_over_by:
            _count(per[callout.taken_over_by], callout)
    in_month = (Call.started_at >= start, Call.started_at < end)
    refused = session.execute(
        select(Call.reason, func.count())
        .where(Call.outcome == CallOutcome.REFUSED, *in_month)
        .group_by(Call.reason)
        .order_by(func.count().desc(), Call.reason)
    )
    outcomes = session.execute(select(Call.outcome, func.count()).where(*in_month).group_by(Call.outcome))
    return MonthReport(
        month=start.date(),
        total=total,
        by_technician=dict(sorted(per.items())),
        cancelled=cancelled,
        refused=[(reason or "?", n) for reason, n in refused],
        calls_by_outcome={outcome.value: n for outcome, n in outcomes},
    )


def history(last: date, tz: ZoneInfo, months: int = HISTORY_MONTHS) -> list[tuple[date, Takeovers]]:
    """The within-commitment figures of the `months` months ending with `last`, oldest first."""
    firsts = [last.replace(day=1)]
    for _ in range(months - 1):
        firsts.insert(0, (firsts[0] - timedelta(days=1)).replace(day=1))
    start, _ = month_bounds(firsts[0], tz)
    _, end = month_bounds(firsts[-1], tz)
    buckets: dict[date, Takeovers] = {m: Takeovers() for m in firsts}
    query = select(Callout).where(Callout.opened_at >= start, Callout.opened_at < end)
    for callout in session.scalars(query):
        if callout.state is CalloutState.CANCELLED and callout.taken_over_at is None:
            continue
        _count(buckets[callout.opened_at.astimezone(tz).date().replace(day=1)], callout)
    return list(buckets.items())


FIRST_YEAR, LAST_YEAR = 2000, 2999


def _month_arg(tz: ZoneInfo) -> date:
    value = request.args.get("month")
    if not value:
        return clock.now().astimezone(tz).date().replace(day=1)
    try:
        month = datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        abort(400, description=f"month: {value!r} is not a month (YYYY-MM)")
    if not FIRST_YEAR <= month.year <= LAST_YEAR:  # the history chart counts back a year, the links go on one
        abort(400, description=f"month: {value!r} is out of range ({FIRST_YEAR}-01 to {LAST_YEAR}-12)")
    return month


# --- pages --------------------------------------------------------------------------------------


@bp.get("/reports")
def reports() -> str:
    tz = timezone()
    month = _month_arg(tz)
    lang = language()
    report = month_report(month, tz)
    past = history(month, tz)
    names = people()
    pct_chart = charts.columns(
        [(m.strftime("%m/%y"), s.within_pct) for m, s in past],
        unit="%",
        top=100,
        target=100,
        title=t("Prises en charge dans le délai, par mois", lang),
        comma=lang == "fr",
    )
    refused_chart = charts.rows(
        [(label("reason", r, lang), n) for r, n in report.refused], title=t("Appels refusés par motif", lang)
    )
    tech_chart = charts.rows(
        [(names.get(p, p), s.median or 0) for p, s in report.by_technician.items()],
        unit=" min",
        title=t("Délai médian de prise en charge par technicien", lang),
        comma=lang == "fr",
    )
    previous = (month - timedelta(days=1)).replace(day=1)
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return render_template(
        "desk/reports.html",
        report=report,
        names=names,
        pct_chart=pct_chart,
        refused_chart=refused_chart,
        tech_chart=tech_chart,
        month=month,
        previous=previous,
        following=following,
        history=past,
        clients=unavailability(org_or_none(), *month_bounds(month, tz)),
    )


def _minutes(value: float | None) -> str:
    return sheet.decimal(value)


def _csv(filename: str, rows: Iterable[Sequence[object]]) -> Response:
    """The rows as a spreadsheet download (semicolons, UTF-8 with a BOM)."""
    out = io.StringIO()
    out.write(sheet.BOM)
    csv.writer(out, delimiter=sheet.DELIMITER).writerows(rows)
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/reports.csv")
def reports_csv() -> Response:
    """The month's report: one line for the whole team, one per technician, then the refusals."""
    tz = timezone()
    month = _month_arg(tz)
    report = month_report(month, tz)
    names = people()
    lines: list[Sequence[object]] = [
        [
            "mois",
            "technicien",
            "astreintes",
            "prises en charge",
            "dans le délai",
            "% dans le délai",
            "médiane (min)",
            "90e centile (min)",
        ]
    ]
    rows: list[tuple[str, Takeovers]] = [("(tous)", report.total)]
    rows += [(names.get(p, p), s) for p, s in report.by_technician.items()]
    for who, s in rows:
        lines.append(
            [
                f"{month:%Y-%m}",
                sheet.cell(who),
                s.callouts,
                s.taken_over,
                s.within,
                sheet.decimal(s.within_pct),
                _minutes(s.median),
                _minutes(s.p90),
            ]
        )
    lines.append([])
    lines.append(["mois", "motif de refus", "appels"])
    for reason, n in report.refused:
        lines.append([f"{month:%Y-%m}", label("reason", reason), n])
    return _csv(f"rapport-{month:%Y-%m}.csv", lines)


@bp.get("/reports/unavailability.csv")
def unavailability_csv() -> Response:
    tz = timezone()
    month = _month_arg(tz)
    lines: list[Sequence[object]] = [
        [
            "mois",
            "client",
            "compte",
            "requêtes",
            "indisponibilité (h)",
            "% indisponible",
            "prises en charge hors délai",
            "résolutions hors délai",
            "astreintes hors délai",
        ]
    ]
    for row in unavailability(org_or_none(), *month_bounds(month, tz)):
        lines.append(
            [
                f"{month:%Y-%m}",
                sheet.cell(row.name),
                sheet.cell(row.account),
                row.tickets,
                sheet.decimal(row.hours),
                sheet.decimal(row.unavailable_pct),
                row.late_takeovers,
                row.late_resolutions,
                row.breached_callouts,
            ]
        )
    return _csv(f"indisponibilite-{month:%Y-%m}.csv", lines)

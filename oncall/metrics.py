"""`GET /metrics`: Prometheus text format (callouts by state, takeovers, breaches, pages by channel and
status, the takeover time). Read-only counts from the database, so every process reports the same."""

from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy import func, select

import clock
from models import Callout, CalloutState, Page, session
from oncall.health import rota_gaps

bp = Blueprint("metrics", __name__)

# Takeover time buckets, in seconds: the 30-minute commitment sits in the middle.
BUCKETS = (60, 300, 600, 900, 1200, 1800, 2700, 3600, 5400)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def sample_value(value: float) -> str:
    """A sample value, exact: 1234567, never the 1.23457e+06 of "%g"."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _labels(**labels: str) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}"


def render() -> str:
    now = clock.now()
    lines: list[str] = []

    def metric(name: str, kind: str, help_: str, samples: list[tuple[dict[str, str], float]]) -> None:
        lines.append(f"# HELP {name} {help_}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            lines.append(f"{name}{_labels(**labels)} {sample_value(value)}")

    by_state = dict(session.execute(select(Callout.state, func.count()).group_by(Callout.state)).all())
    metric(
        "astreinte_callouts",
        "gauge",
        "Callouts by state.",
        [({"state": s.value}, by_state.get(s, 0)) for s in CalloutState],
    )
    open_now = by_state.get(CalloutState.PAGING, 0)
    metric("astreinte_callouts_open", "gauge", "Callouts still paging.", [({}, open_now)])
    metric(
        "astreinte_callouts_taken_over_total",
        "counter",
        "Callouts taken over.",
        [({}, by_state.get(CalloutState.TAKEN_OVER, 0))],
    )
    late = (
        session.scalar(
            select(func.count())
            .select_from(Callout)
            .where(Callout.taken_over_at.is_not(None), Callout.taken_over_at > Callout.due_at)
        )
        or 0
    )
    missed = (
        session.scalar(
            select(func.count())
            .select_from(Callout)
            .where(
                ((Callout.state == CalloutState.PAGING) & (Callout.due_at < now))
                | ((Callout.state == CalloutState.CANCELLED) & (Callout.cancelled_at > Callout.due_at))
            )
        )
        or 0
    )
    metric(
        "astreinte_callouts_breached_total",
        "counter",
        "Callouts taken over after their deadline, or whose deadline passed with nobody.",
        [({}, late + missed)],
    )
    levels = dict(
        session.execute(
            select(Callout.escalation_level, func.count()).group_by(Callout.escalation_level)
        ).all()
    )
    metric(
        "astreinte_callouts_escalation_level",
        "gauge",
        "Callouts by the escalation level they reached.",
        [({"level": str(level)}, levels.get(level, 0)) for level in range(4)],
    )
    pages = session.execute(
        select(Page.channel, Page.status, func.count()).group_by(Page.channel, Page.status)
    ).all()
    metric(
        "astreinte_pages_total",
        "counter",
        "Pages by channel and status.",
        [
            ({"channel": ch.value, "status": st}, n)
            for ch, st, n in sorted(pages, key=lambda r: (r[0].value, r[1]))
        ],
    )
    errors = session.execute(
        select(Page.channel, Page.error_code, func.count())
        .where(Page.error_code.is_not(None))
        .group_by(Page.channel, Page.error_code)
    ).all()
    metric(
        "astreinte_page_errors_total",
        "counter",
        "Pages that met a Twilio error, by code.",
        [({"channel": ch.value, "code": str(code)}, n) for ch, code, n in errors],
    )
    waits = [
        clock.as_utc(t) - clock.as_utc(o)
        for o, t in session.execute(
            select(Callout.opened_at, Callout.taken_over_at).where(Callout.taken_over_at.is_not(None))
        ).all()
        if t
    ]
    seconds = [w.total_seconds() for w in waits]
    lines.append("# HELP astreinte_takeover_seconds Time from the message to the takeover.")
    lines.append("# TYPE astreinte_takeover_seconds histogram")
    for bound in BUCKETS:
        lines.append(
            f'astreinte_takeover_seconds_bucket{{le="{bound}"}} {sum(1 for s in seconds if s <= bound)}'
        )
    lines.append(f'astreinte_takeover_seconds_bucket{{le="+Inf"}} {len(seconds)}')
    lines.append(f"astreinte_takeover_seconds_sum {sample_value(sum(seconds))}")
    lines.append(f"astreinte_takeover_seconds_count {len(seconds)}")
    metric("astreinte_rota_gaps", "gauge", "On-call positions nobody holds now.", [({}, len(rota_gaps()))])
    return "\n".join(lines) + "\n"


@bp.get("/metrics")
def metrics() -> Response:
    return Response(render(), mimetype="text/plain; version=0.0.4; charset=utf-8")

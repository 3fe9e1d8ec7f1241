"""`GET /metrics`: the Prometheus exposition format, written by prometheus_client (callouts by state,
takeovers, breaches, escalation levels, pages by channel and status, outgoing messages by carrier and
state, carriers set aside, the takeover time, rota gaps).

Every figure is a count in the database, computed by SQL at each scrape (the takeover histogram too:
one row of sums, never the callouts themselves), so every web process reports the same. A bearer
token (METRICS_TOKEN) keeps it private; in production (https) /metrics stays closed without one.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from sqlalchemy import ColumnElement, case, func, select

import clock
from models import Callout, CalloutState, CarrierHealth, OutgoingMessage, Page, session
from oncall import pagetests
from oncall.health import rota_gaps
from org.load import NoOrganisation

bp = Blueprint("metrics", __name__)

# Takeover time buckets, in seconds: the 30-minute commitment sits in the middle.
BUCKETS = (60, 300, 600, 900, 1200, 1800, 2700, 3600, 5400)


def _takeover_seconds() -> ColumnElement[Any]:
    """Seconds from the message to the takeover, in the database's own arithmetic."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", Callout.taken_over_at - Callout.opened_at)
    return (func.julianday(Callout.taken_over_at) - func.julianday(Callout.opened_at)) * 86400.0


def _count(where: Any) -> int:
    return session.scalar(select(func.count()).select_from(Callout).where(where)) or 0


class _Figures(Collector):
    def collect(self) -> Iterator[Metric]:
        now = clock.now()
        by_state = dict(session.execute(select(Callout.state, func.count()).group_by(Callout.state)).all())
        states = GaugeMetricFamily("astreinte_callouts", "Callouts by state.", labels=["state"])
        for state in CalloutState:
            states.add_metric([state.value], by_state.get(state, 0))
        yield states
        yield GaugeMetricFamily(
            "astreinte_callouts_open", "Callouts still paging.", value=by_state.get(CalloutState.PAGING, 0)
        )
        yield CounterMetricFamily(
            "astreinte_callouts_taken_over",
            "Callouts taken over.",
            value=by_state.get(CalloutState.TAKEN_OVER, 0),
        )
        late = _count(Callout.taken_over_at.is_not(None) & (Callout.taken_over_at > Callout.due_at))
        missed = _count(
            ((Callout.state == CalloutState.PAGING) & (Callout.due_at < now))
            | ((Callout.state == CalloutState.CANCELLED) & (Callout.cancelled_at > Callout.due_at))
        )
        yield CounterMetricFamily(
            "astreinte_callouts_breached",
            "Callouts taken over after their deadline, or whose deadline passed with nobody.",
            value=late + missed,
        )
        levels = dict(
            session.execute(
                select(Callout.escalation_level, func.count()).group_by(Callout.escalation_level)
            ).all()
        )
        escalation = GaugeMetricFamily(
            "astreinte_callouts_escalation_level",
            "Callouts by the escalation level they reached.",
            labels=["level"],
        )
        for level in range(4):
            escalation.add_metric([str(level)], levels.get(level, 0))
        yield escalation

        pages = CounterMetricFamily(
            "astreinte_pages", "Pages by channel and status.", labels=["channel", "status"]
        )
        rows = session.execute(
            select(Page.channel, Page.status, func.count()).group_by(Page.channel, Page.status)
        ).all()
        for channel, status, n in sorted(rows, key=lambda r: (r[0].value, r[1])):
            pages.add_metric([channel.value, status], n)
        yield pages
        errors = CounterMetricFamily(
            "astreinte_page_errors", "Pages that met a Twilio error, by code.", labels=["channel", "code"]
        )
        for channel, code, n in session.execute(
            select(Page.channel, Page.error_code, func.count())
            .where(Page.error_code.is_not(None))
            .group_by(Page.channel, Page.error_code)
        ).all():
            errors.add_metric([channel.value, str(code)], n)
        yield errors

        seconds = _takeover_seconds()
        row = session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(seconds), 0),
                *(func.coalesce(func.sum(case((seconds <= bound, 1), else_=0)), 0) for bound in BUCKETS),
            ).where(Callout.taken_over_at.is_not(None))
        ).one()
        total, seconds_sum, *cumulative = row
        yield HistogramMetricFamily(
            "astreinte_takeover_seconds",
            "Time from the message to the takeover.",
            buckets=[
                *((floatToGoString(b), int(c)) for b, c in zip(BUCKETS, cumulative, strict=True)),
                ("+Inf", total),
            ],
            sum_value=float(seconds_sum),
        )
        try:
            gaps = len(rota_gaps())
        except NoOrganisation:
            gaps = 0
        yield GaugeMetricFamily("astreinte_rota_gaps", "On-call positions nobody holds now.", value=gaps)
        messages = CounterMetricFamily(
            "astreinte_messages",
            "Outgoing messages (every attempt: pages, SMS, alerts, e-mails) by channel, carrier and state.",
            labels=["channel", "carrier", "state"],
        )
        by = (OutgoingMessage.channel, OutgoingMessage.carrier, OutgoingMessage.state)
        for sent_by, carrier, message_state, n in session.execute(
            select(*by, func.count()).group_by(*by)
        ).all():
            messages.add_metric([sent_by.value, carrier or "none", message_state.value], n)
        yield messages
        aside = GaugeMetricFamily(
            "astreinte_carrier_set_aside",
            "1 for a carrier set aside after repeated failures (probed until it answers), else 0.",
            labels=["carrier"],
        )
        for health in session.scalars(select(CarrierHealth).order_by(CarrierHealth.carrier)):
            aside.add_metric([health.carrier], 1 if health.set_aside_at is not None else 0)
        yield aside
        yield GaugeMetricFamily(
            "astreinte_pagers_failing",
            "People whose latest page test (last 7 days) failed: their pager may be silent.",
            value=len(pagetests.failing(clock.now())),
        )


_REGISTRY = CollectorRegistry(auto_describe=False)
_REGISTRY.register(_Figures())


def render() -> bytes:
    return generate_latest(_REGISTRY)


@bp.get("/metrics")
def metrics() -> Response:
    token = current_app.config.get("METRICS_TOKEN")
    if not token and current_app.config.get("PRODUCTION"):
        return Response("set METRICS_TOKEN to open /metrics\n", 403, content_type="text/plain")
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return Response(
                "bearer token required\n", 401, {"WWW-Authenticate": "Bearer"}, content_type="text/plain"
            )
    # content_type, not mimetype: Flask would add a second charset to the library's own.
    return Response(render(), content_type=CONTENT_TYPE_LATEST)

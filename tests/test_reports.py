"""Report arithmetic and charts, on their own."""

from __future__ import annotations

from datetime import UTC, date

import pytest

from dashboard import charts
from dashboard.reports import month_bounds, percentile

from .conftest import PARIS, paris


def test_median_and_90th_percentile_interpolate_between_ranks():
    minutes = [2, 4, 6, 8, 10, 12, 14, 16, 18, 60]
    assert percentile(minutes, 50) == 11
    assert percentile(minutes, 90) == pytest.approx(22.2)
    assert percentile([7], 90) == 7
    assert percentile([], 50) is None


def test_a_month_runs_from_local_midnight_to_local_midnight():
    start, end = month_bounds(date(2026, 10, 1), PARIS)  # the clocks go back on 25 October
    assert start == paris("2026-10-01 00:00") and end == paris("2026-11-01 00:00")
    assert (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() == 31 * 86400 + 3600


def test_charts_escape_their_labels_and_draw_no_bar_without_data():
    svg = charts.columns([("<b>", 50.0), ("vide", None)], title="t & co", unit="%", top=100, target=100)
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "t &amp; co" in svg
    assert svg.count("<rect") == 1
    assert 'class="bar bad"' in svg  # under the target
    assert "13,5 min" in charts.rows([("Alice", 13.5)], title="x", unit=" min", comma=True)

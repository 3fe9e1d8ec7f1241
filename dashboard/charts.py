"""Server-rendered SVG charts for the reports: no script, no third-party file, styled by desk.css.

A chart is drawn at its own size in CSS pixels (one unit, one pixel) inside a box that scrolls sideways
when the screen is narrower: scaled down to a phone's width, its 11 px labels read at 4 px."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape


def _open(width: int, height: int, title: str) -> str:
    return (
        f'<div class="chart-box"><svg class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    )


def _fmt(value: float, unit: str, comma: bool = False) -> str:
    text = f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"
    return (text.replace(".", ",") if comma else text) + unit


def columns(
    items: Sequence[tuple[str, float | None]],
    *,
    title: str,
    unit: str = "",
    top: float | None = None,
    target: float | None = None,
    width: int = 600,
    height: int = 240,
    comma: bool = False,
) -> Markup:
    """Vertical bars, one per label (months); None draws no bar ("no data"); `target` draws a line."""
    pad_left, pad_bottom, pad_top = 36, 28, 14
    plot_w, plot_h = width - pad_left - 8, height - pad_bottom - pad_top
    values = [v for _, v in items if v is not None]
    top = top or max(values + [target or 0, 1.0])
    step = plot_w / max(len(items), 1)
    bar_w = step * 0.62
    parts = [_open(width, height, title)]
    for frac in (0, 0.5, 1):
        y = pad_top + plot_h * (1 - frac)
        parts.append(
            f'<line class="grid" x1="{pad_left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{pad_left - 4}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_fmt(top * frac, unit, comma)}</text>"
        )
    for i, (name, value) in enumerate(items):
        x = pad_left + i * step + (step - bar_w) / 2
        parts.append(
            f'<text class="axis" x="{x + bar_w / 2:.1f}" y="{height - 10}" text-anchor="middle">'
            f"{escape(name)}</text>"
        )
        if value is None:
            continue
        h = plot_h * min(value, top) / top
        y = pad_top + plot_h - h
        cls = "bar bad" if target is not None and value < target else "bar"
        parts.append(
            f'<rect class="{cls}" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}">'
            f"<title>{escape(name)} : {_fmt(value, unit, comma)}</title></rect>"
            f'<text class="value" x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">'
            f"{_fmt(value, unit, comma)}</text>"
        )
    if target is not None:
        y = pad_top + plot_h * (1 - min(target, top) / top)
        parts.append(f'<line class="target" x1="{pad_left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}"/>')
    parts.append("</svg></div>")
    return Markup("".join(parts))


def rows(
    items: Sequence[tuple[str, float]], *, title: str, unit: str = "", width: int = 640, comma: bool = False
) -> Markup:
    """Horizontal bars, one per label (refusal reasons, technicians), longest first as given."""
    bar_h, gap, label_w = 22, 8, 230
    height = max(len(items), 1) * (bar_h + gap) + gap
    top = max([v for _, v in items] + [1.0])
    plot_w = width - label_w - 60
    parts = [_open(width, height, title)]
    for i, (name, value) in enumerate(items):
        y = gap + i * (bar_h + gap)
        w = plot_w * value / top
        parts.append(
            f'<text class="axis" x="{label_w - 8}" y="{y + bar_h * 0.7:.1f}" text-anchor="end">'
            f"{escape(name)}</text>"
            f'<rect class="bar" x="{label_w}" y="{y}" width="{max(w, 1):.1f}" height="{bar_h}"/>'
            f'<text class="value" x="{label_w + w + 6:.1f}" y="{y + bar_h * 0.7:.1f}">'
            f"{_fmt(value, unit, comma)}</text>"
        )
    parts.append("</svg></div>")
    return Markup("".join(parts))

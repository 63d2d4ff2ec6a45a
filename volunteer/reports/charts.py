"""Small server-side SVG charts: no JavaScript, no CDN, readable by screen readers.

Each chart is an inline ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` naming every
value, and visible axis and value labels. Colours come from CSS classes (``static/css/
reports.css``), so the page needs no inline style (the CSP forbids it) and prints in black and
white. The page always shows the same figures as a table under the chart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 260
LEFT = 48  # room for the value axis labels
BOTTOM = 40  # room for the category labels
TOP = 20


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    labels: Sequence[str]
    values: Sequence[float]
    fmt: Callable[[float], str] = lambda v: f"{v:g}"


TICKS = 5


def _nice_max(value: float) -> float:
    """A round top for the axis: 1, 2 or 5 times a power of ten, at least ``value`` and at
    least ``TICKS``, so that with ``TICKS`` intervals every tick is a whole number."""
    if value <= TICKS:
        return float(TICKS)
    magnitude = 10 ** len(str(int(value))) / 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _frame(chart: Chart, body: list[str]) -> Markup:
    desc = "; ".join(
        f"{label}: {chart.fmt(value)}"
        for label, value in zip(chart.labels, chart.values, strict=True)
    )
    top = _nice_max(max(chart.values, default=0))
    plot_h = HEIGHT - TOP - BOTTOM
    axis = []
    for i in range(TICKS + 1):
        value = top * i / TICKS
        y = TOP + plot_h - plot_h * i / TICKS
        axis.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="chart-axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(chart.fmt(value))}</text>"
        )
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart.id}-title {chart.id}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart.id}-title">{escape(chart.title)}</title>'
        f'<desc id="{chart.id}-desc">{escape(desc)}</desc>' + "".join(axis + body) + "</svg>"
    )


def _geometry(chart: Chart) -> tuple[float, float, float]:
    """(width of one category, plot height, value of the axis top)."""
    count = max(len(chart.values), 1)
    return (WIDTH - LEFT) / count, HEIGHT - TOP - BOTTOM, _nice_max(max(chart.values, default=0))


def _category_label(x: float, label: str) -> str:
    return (
        f'<text class="chart-label" x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" '
        f'text-anchor="middle">{escape(label)}</text>'
    )


def bar_chart(chart: Chart) -> Markup:
    step, plot_h, top = _geometry(chart)
    body = []
    for i, (label, value) in enumerate(zip(chart.labels, chart.values, strict=True)):
        h = plot_h * value / top
        x = LEFT + i * step
        y = TOP + plot_h - h
        body.append(
            f'<rect class="chart-bar" x="{x + step * 0.15:.1f}" y="{y:.1f}" '
            f'width="{step * 0.7:.1f}" height="{h:.1f}"/>'
            f'<text class="chart-value" x="{x + step / 2:.1f}" y="{y - 4:.1f}" '
            f'text-anchor="middle">{escape(chart.fmt(value))}</text>'
            + _category_label(x + step / 2, label)
        )
    return _frame(chart, body)


def line_chart(chart: Chart) -> Markup:
    step, plot_h, top = _geometry(chart)
    points = [
        (LEFT + (i + 0.5) * step, TOP + plot_h - plot_h * value / top)
        for i, value in enumerate(chart.values)
    ]
    body = [
        '<polyline class="chart-line" fill="none" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        + '"/>'
    ]
    for (x, y), label, value in zip(points, chart.labels, chart.values, strict=True):
        body.append(
            f'<circle class="chart-point" cx="{x:.1f}" cy="{y:.1f}" r="4"/>'
            f'<text class="chart-value" x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle">'
            f"{escape(chart.fmt(value))}</text>" + _category_label(x, label)
        )
    return _frame(chart, body)

"""Small server-side SVG charts: no JavaScript, no CDN, readable by screen readers.

Each chart is an inline ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` naming every
value, and visible axis and value labels. Colours come from CSS classes (``static/css/
reports.css``), so the page needs no inline style (the CSP forbids it) and prints in black and
white. The page always shows the same figures as a table under the chart.

Category labels never overlap (``_label_layout``): a label wider than its category's slot is
split at its spaces into two lines ("mar." over "2026"); when even a line is too wide (many
long activity names), every label is turned 40 degrees and, past ``ROTATED_CHARS``, shortened
with "…" (the full name is in the ``<desc>`` and the table). Widths are estimated from the
12 px label font (``CHAR_WIDTH`` per character), which is generous for the system fonts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
PLOT_HEIGHT = 200
LEFT = 48  # room for the value axis labels
BOTTOM = 40  # room for one line of category labels
LINE_HEIGHT = 14
TOP = 20
CHAR_WIDTH = 7.0  # a generous estimate of one character at the 12 px label font
ROTATED_CHARS = 18
ROTATION = 40


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


@dataclass(frozen=True)
class LabelLayout:
    """How the category labels are drawn: ``lines`` per label, or ``rotated``."""

    lines: list[list[str]]
    rotated: bool
    bottom: float


def text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


def _two_lines(label: str) -> list[str]:
    """``label`` split at the space nearest its middle: 'mar. 2026' -> ['mar.', '2026']."""
    words = label.split()
    if len(words) < 2:
        return [label]
    best = min(
        range(1, len(words)),
        key=lambda i: max(len(" ".join(words[:i])), len(" ".join(words[i:]))),
    )
    return [" ".join(words[:best]), " ".join(words[best:])]


def _label_layout(labels: Sequence[str], step: float) -> LabelLayout:
    room = step * 0.9
    if all(text_width(label) <= room for label in labels):
        return LabelLayout([[label] for label in labels], False, BOTTOM)
    split = [_two_lines(label) for label in labels]
    if all(text_width(line) <= room for lines in split for line in lines):
        return LabelLayout(split, False, BOTTOM + LINE_HEIGHT)
    short = [
        label if len(label) <= ROTATED_CHARS else label[: ROTATED_CHARS - 1].rstrip() + "…"
        for label in labels
    ]
    longest = max((text_width(label) for label in short), default=0)
    drop = longest * math.sin(math.radians(ROTATION))
    return LabelLayout([[label] for label in short], True, 24 + drop)


def _frame(chart: Chart, body: list[str], layout: LabelLayout) -> Markup:
    desc = "; ".join(
        f"{label}: {chart.fmt(value)}"
        for label, value in zip(chart.labels, chart.values, strict=True)
    )
    top = _nice_max(max(chart.values, default=0))
    plot_h = PLOT_HEIGHT
    height = round(TOP + PLOT_HEIGHT + layout.bottom)
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
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart.id}-title {chart.id}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart.id}-title">{escape(chart.title)}</title>'
        f'<desc id="{chart.id}-desc">{escape(desc)}</desc>' + "".join(axis + body) + "</svg>"
    )


def _geometry(chart: Chart) -> tuple[float, float, float, LabelLayout]:
    """(width of one category, plot height, value of the axis top, label layout)."""
    count = max(len(chart.values), 1)
    step = (WIDTH - LEFT) / count
    return (
        step,
        PLOT_HEIGHT,
        _nice_max(max(chart.values, default=0)),
        _label_layout(chart.labels, step),
    )


def _category_label(x: float, lines: list[str], layout: LabelLayout) -> str:
    y = TOP + PLOT_HEIGHT + 18
    if layout.rotated:
        return (
            f'<text class="chart-label" x="{x:.1f}" y="{y - 6}" text-anchor="end" '
            f'transform="rotate(-{ROTATION} {x:.1f} {y - 6})">{escape(lines[0])}</text>'
        )
    if len(lines) == 1:
        return (
            f'<text class="chart-label" x="{x:.1f}" y="{y}" '
            f'text-anchor="middle">{escape(lines[0])}</text>'
        )
    spans = "".join(
        f'<tspan x="{x:.1f}" dy="{0 if i == 0 else LINE_HEIGHT}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text class="chart-label" x="{x:.1f}" y="{y}" text-anchor="middle">{spans}</text>'


def bar_chart(chart: Chart) -> Markup:
    step, plot_h, top, layout = _geometry(chart)
    body = []
    for i, (lines, value) in enumerate(zip(layout.lines, chart.values, strict=True)):
        h = plot_h * value / top
        x = LEFT + i * step
        y = TOP + plot_h - h
        body.append(
            f'<rect class="chart-bar" x="{x + step * 0.15:.1f}" y="{y:.1f}" '
            f'width="{step * 0.7:.1f}" height="{h:.1f}"/>'
            f'<text class="chart-value" x="{x + step / 2:.1f}" y="{y - 4:.1f}" '
            f'text-anchor="middle">{escape(chart.fmt(value))}</text>'
            + _category_label(x + step / 2, lines, layout)
        )
    return _frame(chart, body, layout)


def line_chart(chart: Chart) -> Markup:
    step, plot_h, top, layout = _geometry(chart)
    points = [
        (LEFT + (i + 0.5) * step, TOP + plot_h - plot_h * value / top)
        for i, value in enumerate(chart.values)
    ]
    body = [
        '<polyline class="chart-line" fill="none" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        + '"/>'
    ]
    for (x, y), lines, value in zip(points, layout.lines, chart.values, strict=True):
        body.append(
            f'<circle class="chart-point" cx="{x:.1f}" cy="{y:.1f}" r="4"/>'
            f'<text class="chart-value" x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle">'
            f"{escape(chart.fmt(value))}</text>" + _category_label(x, lines, layout)
        )
    return _frame(chart, body, layout)

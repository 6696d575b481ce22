"""Geometry for the server-side SVG charts; the template `analytics/_chart.html` draws it.

Only numbers and already-known text leave this module: the template escapes every label,
and colours come from CSS classes (analytics.css) so they follow light and dark mode and
need no `style=` attribute (the CSP forbids inline styles).
"""

import math
from dataclasses import dataclass, field

from portal.analytics.charts import Chart

WIDTH = 640
LABEL_WIDTH = 190
VALUE_ROOM = 56
BAR = 14
ROW_GAP = 10
TOP = 8
AXIS_ROOM = 44
LINE_HEIGHT = 260
LINE_LEFT = 52
LINE_RIGHT = 16
MAX_LABEL = 26


def c(value: float) -> str:
    """A coordinate as SVG text (one decimal; no locale formatting in the template)."""
    return f"{value:.1f}"


@dataclass
class Tick:
    x: str
    y: str
    text: str
    grid_y: str = ""


@dataclass
class Bar:
    x: str
    y: str
    width: str
    height: str
    series: int
    title: str
    value_x: str
    value_y: str
    value: str


@dataclass
class Label:
    x: str
    y: str
    text: str
    title: str


@dataclass
class Line:
    series: int
    name: str
    points: str
    dots: list = field(default_factory=list)  # (x, y, title)


@dataclass
class Drawing:
    kind: str
    width: int
    height: int
    plot_left: str
    plot_right: str
    plot_top: str
    plot_bottom: str
    axis_label: str
    x_label: str
    ticks: list[Tick] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    legend: list[tuple[int, str, str, str]] = field(default_factory=list)  # series, name, x, text x
    caption_y: str = ""  # the axis titles' baselines
    unit_y: str = ""


def nice_ticks(maximum: float, count: int = 4) -> list[float]:
    """0 and round steps (1, 2 or 5 × 10ⁿ) up to at least `maximum`."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(step, 1)
    top = math.ceil(maximum / step) * step
    return [i * step for i in range(int(top / step) + 1)]


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _number(value) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def draw(chart: Chart) -> Drawing:
    return _lines(chart) if chart.kind == "lines" else _bars(chart)


def _legend(chart: Chart, left: float) -> list[tuple[int, str, str, str]]:
    if len(chart.series) < 2:
        return []
    return [
        (i, name, c(left + i * 150), c(left + i * 150 + 16)) for i, name in enumerate(chart.series)
    ]


def _bars(chart: Chart) -> Drawing:
    n_series = len(chart.series)
    band = n_series * BAR + ROW_GAP
    legend_room = 22 if n_series > 1 else 0
    top = TOP + legend_room
    height = top + max(len(chart.rows), 1) * band + AXIS_ROOM
    left, right = LABEL_WIDTH, WIDTH - VALUE_ROOM
    ticks = nice_ticks(max((max(v) for _, v in chart.rows), default=0))
    scale = (right - left) / ticks[-1]
    bottom = height - AXIS_ROOM
    drawing = Drawing(
        "bars", WIDTH, height, c(left), c(right), c(top), c(bottom), chart.axis, chart.label,
        legend=_legend(chart, left), caption_y=c(height - 6),
    )  # fmt: skip
    drawing.ticks = [Tick(c(left + t * scale), c(bottom + 16), _number(t)) for t in ticks]
    for row, (label, values) in enumerate(chart.rows):
        y0 = top + row * band + ROW_GAP / 2
        # str() of the numbers here is exactly what the template printed for them (no
        # thousands separator), without its localisation machinery per number.
        drawing.labels.append(
            Label(str(left - 8), str(y0 + n_series * BAR / 2 + 4), _short(label), label)
        )
        for i, value in enumerate(values):
            width = value * scale
            y = y0 + i * BAR
            drawing.bars.append(
                Bar(
                    str(left),
                    str(y),
                    str(width),
                    str(BAR - 2),
                    i,
                    f"{label} — {chart.series[i]}: {_number(value)}",
                    str(left + width + 4),
                    str(y + BAR - 4),
                    _number(value),
                )  # fmt: skip
            )
    return drawing


def _lines(chart: Chart) -> Drawing:
    height = LINE_HEIGHT
    left, right = LINE_LEFT, WIDTH - LINE_RIGHT
    top, bottom = TOP + 22, height - AXIS_ROOM
    maximum = max((max(v) for _, v in chart.rows), default=0)
    ticks = nice_ticks(maximum)
    y_scale = (bottom - top) / ticks[-1]
    count = len(chart.rows)
    step = (right - left) / max(count - 1, 1)
    drawing = Drawing(
        "lines", WIDTH, height, c(left), c(right), c(top), c(bottom), chart.axis, chart.label,
        legend=_legend(chart, left), caption_y=c(height - 6), unit_y=c(top - 10),
    )  # fmt: skip
    drawing.ticks = [
        Tick(c(left - 6), c(bottom - t * y_scale + 4), _number(t), c(bottom - t * y_scale))
        for t in ticks
    ]
    every = max(1, math.ceil(count / 8))
    for index, (label, _) in enumerate(chart.rows):
        # Every `every`-th day, and the last one unless it would overlap its neighbour.
        if (index % every == 0 and count - 1 - index >= every / 2) or index == count - 1:
            drawing.labels.append(Label(c(left + index * step), c(bottom + 16), label[5:], label))
    for i, name in enumerate(chart.series):
        line = Line(i, name, "")
        points = []
        for index, (label, values) in enumerate(chart.rows):
            x, y = left + index * step, bottom - values[i] * y_scale
            points.append(f"{x:.1f},{y:.1f}")
            line.dots.append((c(x), c(y), f"{label} — {name}: {values[i]:,}"))
        line.points = " ".join(points)
        drawing.lines.append(line)
    return drawing

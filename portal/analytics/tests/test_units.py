"""Small pure helpers: chart axes, durations, sections."""

import pytest

from portal.analytics.charts import Chart
from portal.analytics.svg import draw, nice_ticks
from portal.analytics.views import human_duration


@pytest.mark.parametrize(
    ("maximum", "ticks"),
    [(0, [0, 1]), (1, [0, 1]), (7, [0, 2, 4, 6, 8]), (100, [0, 50, 100]),
     (1234, [0, 500, 1000, 1500])],
)  # fmt: skip
def test_axis_ticks_are_round_and_cover_the_maximum(maximum, ticks):
    assert nice_ticks(maximum) == ticks


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "–"), (59, "1 min"), (3600, "1 h"), (3725, "1 h 2 min"), (49 * 3600, "2 d 1 h"),
     (72 * 3600, "3 d")],
)  # fmt: skip
def test_durations_read_naturally(seconds, text):
    assert human_duration(seconds) == text


def test_bars_are_proportional_and_carry_their_value():
    chart = Chart("x", "X", "", "Name", ["Tickets"], [("a", [10]), ("b", [5]), ("c", [0])])
    drawing = draw(chart)
    widths = [float(bar.width) for bar in drawing.bars]
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[2] == 0
    assert [bar.title for bar in drawing.bars] == ["a — Tickets: 10", "b — Tickets: 5",
                                                   "c — Tickets: 0"]  # fmt: skip


def test_long_labels_are_shortened_in_the_picture_but_whole_in_the_hover_text():
    label = "A very long subcategory name indeed, longer than fits"
    drawing = draw(Chart("x", "X", "", "Name", ["Tickets"], [(label, [3])]))
    assert drawing.labels[0].text.endswith("…") and len(drawing.labels[0].text) <= 26
    assert drawing.labels[0].title == label

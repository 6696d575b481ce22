"""The charts render in a real browser under the strict CSP (Chromium via Playwright)."""

import os
import tempfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Pictures go to docs/ only when asked (UPDATE_SCREENSHOTS=1): a plain test run must not
# change the working tree.
SCREENSHOTS = (
    Path(__file__).resolve().parents[3] / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "portal-screenshots"
)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_charts_render_in_chromium(scheme, dataset, page_for, personas):
    page = page_for(personas.admin, viewport={"width": 1280, "height": 1000})
    page.emulate_media(color_scheme=scheme)
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text else 0)
    page.goto("/analytics?period=30")
    charts = page.locator("svg.chart-svg")
    assert charts.count() >= 10
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50
    # Bars and lines are painted with the stylesheet's colours (not the black SVG default).
    bar = page.locator("#chart-group rect.chart-bar").first
    assert bar.is_visible()
    fill = bar.evaluate("el => getComputedStyle(el).fill")
    assert fill not in ("", "none", "rgb(0, 0, 0)")
    assert page.locator("#chart-trend polyline.chart-line").count() == 2
    # Hover values come from <title> elements.
    assert (
        "Group X — Tickets: 7"
        in page.locator("#chart-group rect.chart-bar title").first.text_content()
    )
    assert violations == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = "analytics.png" if scheme == "light" else "analytics-dark.png"
    page.screenshot(path=str(SCREENSHOTS / name), full_page=False)
    page.locator("#chart-trend").screenshot(
        path=str(SCREENSHOTS / name.replace(".png", "-trend.png"))
    )


def test_the_dashboard_figures_lead_to_the_ticket_list(dataset, page_for, personas):
    page = page_for(personas.agent, viewport={"width": 1280, "height": 900})
    page.goto("/dashboard")
    figure = page.locator('[data-figure="team_open"] a')
    assert figure.locator(".figure-count").inner_text() == "4"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "analytics-dashboard.png"))
    figure.click()
    page.wait_for_url("**/tickets?view=team")
    assert page.locator("#ticket-results tbody tr").count() == 4

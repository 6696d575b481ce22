"""The analytics page, its CSV downloads and its answers to bad input."""

import csv
import io
import re
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from portal.lib.spreadsheet_cells import neutralise

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_admin_sees_the_figures_and_every_chart_with_its_table(dataset, personas, client_for):
    client = client_for(personas.admin)
    client.get("/dashboard")  # counted: the usage chart has a row
    response = client.get("/analytics", {"period": "30"})
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'data-figure="created".*?figure-count">8<', html, re.S)
    assert re.search(r'data-figure="open".*?figure-count">6<', html, re.S)
    assert "25%" in html
    assert "4 h" in html and "7 h 36 min" in html  # median and p90 time to first response
    for key in ("trend", "status", "priority", "group", "category", "subcategory", "team",
                "age", "teams", "agents", "usage"):  # fmt: skip
        assert f'id="chart-{key}"' in html
        assert f'href="/analytics/{key}.csv?period=30"' in html
    # Hover values, accessible tables, and no inline style anywhere (strict CSP).
    assert "<title>Group X — Tickets: 7</title>" in html
    assert '<th scope="row">Group X</th>' in html
    assert "style=" not in html
    assert "<title>dashboard — Page views: 1</title>" in html


def test_non_admins_do_not_see_usage_counts(dataset, personas, client_for):
    html = client_for(personas.agent).get("/analytics").content.decode()
    assert 'id="chart-trend"' in html
    assert 'id="chart-usage"' not in html


@pytest.mark.parametrize("chart", ["trend", "status", "priority", "group", "category",
                                   "subcategory", "team", "age", "teams", "agents"])  # fmt: skip
def test_csv_has_the_same_numbers_as_the_chart(chart, dataset, personas, client_for):
    client = client_for(personas.admin)
    page = client.get("/analytics", {"period": "30"})
    shown = next(item["chart"] for item in page.context["charts"] if item["chart"].key == chart)
    rows = rows_of(client.get(f"/analytics/{chart}.csv", {"period": "30"}))
    assert rows[0] == [shown.label, *shown.series]
    assert rows[1:] == [[label, *map(str, values)] for label, values in shown.rows]
    assert len(rows) > 1


def test_csv_follows_the_filters(dataset, personas, client_for, org):
    rows = rows_of(
        client_for(personas.admin).get("/analytics/group.csv", {"group": org.group_y.pk})
    )
    assert rows[1:] == [["Group Y", "1"]]


def test_csv_cells_cannot_run_as_spreadsheet_formulas(dataset, personas, client_for, org):
    org.team_a.name = '=HYPERLINK("http://evil.example")'
    org.team_a.save()
    rows = rows_of(client_for(personas.admin).get("/analytics/team.csv"))
    assert ['\'=HYPERLINK("http://evil.example")', "7"] in rows
    assert neutralise("+1") == "'+1" and neutralise("@x") == "'@x" and neutralise("ok") == "ok"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"period": "custom", "from": "2026-13-01", "to": "2026-12-31"}, "Enter a valid date"),
        ({"period": "custom", "from": "2025-03-10", "to": "2025-03-01"}, "before the start"),
        ({"period": "custom", "from": "2020-01-01", "to": "2022-01-01"}, "at most 366 days"),
        ({"period": "custom", "from": "2025-01-01"}, "needs both a from and a to date"),
        ({"period": "custom", "from": "2025-01-01", "to": "2999-01-01"}, "in the future"),
        ({"period": "365"}, "Select a valid choice"),
        ({"priority": "blocker"}, "Select a valid choice"),
        ({"group": "not-a-number"}, "Select a valid choice"),
        ({"team": "999999"}, "Select a valid choice"),
    ],
)
def test_bad_parameters_get_a_clear_400(query, message, personas, org, client_for):
    client = client_for(personas.admin)
    response = client.get("/analytics", query)
    assert response.status_code == 400
    assert message in response.content.decode()
    csv_response = client.get("/analytics/trend.csv", query)
    assert csv_response.status_code == 400
    assert message in csv_response.content.decode()


def test_category_outside_the_chosen_group_is_refused(personas, org, client_for):
    response = client_for(personas.admin).get(
        "/analytics", {"group": org.group_y.pk, "category": org.hardware.pk}
    )
    assert response.status_code == 400
    assert "Hardware is not a category of Group Y" in response.content.decode()


def test_a_custom_period_of_exactly_366_days_is_accepted(personas, org, client_for):
    today = timezone.localdate()
    start = today.replace(year=today.year - 1)
    days = (today - start).days + 1
    query = {"period": "custom", "from": start.isoformat(), "to": today.isoformat()}
    response = client_for(personas.admin).get("/analytics", query)
    assert response.status_code == (200 if days <= 366 else 400)
    if days <= 366:
        assert response.context["period"].days == days


def test_long_periods_are_charted_per_week(dataset, personas, client_for):
    today = timezone.localdate()
    start = today.replace(day=1, month=1) if today.month > 4 else today.replace(
        year=today.year - 1, month=6, day=1)  # fmt: skip
    response = client_for(personas.admin).get(
        "/analytics", {"period": "custom", "from": start.isoformat(), "to": today.isoformat()}
    )
    trend = next(i["chart"] for i in response.context["charts"] if i["chart"].key == "trend")
    assert trend.label == "Week starting"
    assert trend.total == [9, 3]  # t6 (40 days ago) is inside this longer period too


@pytest.mark.parametrize("query", [{"group": "9" * 25}, {"team": "-1"}, {"category": "1e3"},
                                   {"from": "0001-01-01", "to": "0001-01-02"}])  # fmt: skip
def test_out_of_range_values_are_a_400_not_a_500(query, personas, org, client_for):
    assert client_for(personas.admin).get("/analytics", query).status_code == 400


@pytest.mark.parametrize("persona", ["agent", "spoc", "admin"])
def test_headline_figures_link_to_the_list_they_count(persona, dataset, personas, client_for):
    from portal.analytics.tests.test_dashboard import list_count

    client = client_for(getattr(personas, persona))
    response = client.get("/analytics", {"period": "30", "priority": "medium"})
    result = response.context["figures"]
    assert list_count(client, response.context["created_url"]) == result.created
    assert list_count(client, response.context["open_url"]) == result.open


class _Links(HTMLParser):
    """Every link's destination and accessible name (aria-label, else its text, including
    visually hidden text, as a screen reader's list of links shows it)."""

    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._open: list[list] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            attrs = dict(attrs)
            self._open.append([attrs.get("href", ""), attrs.get("aria-label"), []])

    def handle_data(self, data):
        for link in self._open:
            link[2].append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            href, label, text = self._open.pop()
            self.links.append((href, label or " ".join("".join(text).split())))


def links_of(html: str) -> list[tuple[str, str]]:
    parser = _Links()
    parser.feed(html)
    return parser.links


@pytest.mark.parametrize("persona", ["spoc", "admin"])
def test_every_csv_link_says_which_chart_it_downloads(persona, dataset, personas, client_for):
    response = client_for(getattr(personas, persona)).get("/analytics", {"period": "30"})
    charts = {item["chart"].key: item["chart"].title for item in response.context["charts"]}
    links = links_of(response.content.decode())
    csv_links = {href: name for href, name in links if re.match(r"/analytics/\w+\.csv", href)}
    assert len(csv_links) >= 10
    for href, name in csv_links.items():
        key = re.match(r"/analytics/(\w+)\.csv", href).group(1)
        assert name == f"CSV of {charts[key]}"  # the visible "CSV" starts the name
    # No two links going to different places share a name anywhere on the page.
    destinations: dict[str, set[str]] = {}
    for href, name in links:
        destinations.setdefault(name, set()).add(href)
    assert {name: hrefs for name, hrefs in destinations.items() if len(hrefs) > 1} == {}


def _selected_period(html: str) -> str:
    select = re.search(r'<select name="period"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"[^>]*selected', select) or ["(none)"]


@pytest.mark.parametrize(
    ("query", "expected_option", "expected_days"),
    [({}, "30", 30), ({"period": "7"}, "7", 7), ({"period": "90"}, "90", 90),
     ({"from": "2026-01-01", "to": "2026-01-10"}, "custom", 10)],
)  # fmt: skip
def test_the_period_selector_shows_the_period_the_figures_use(
    query, expected_option, expected_days, dataset, personas, client_for
):
    response = client_for(personas.admin).get("/analytics", query)
    assert response.status_code == 200
    assert response.context["period"].days == expected_days
    assert _selected_period(response.content.decode()) == [expected_option]

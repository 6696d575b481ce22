"""The ticket list: saved views, filters, sort, keyset pages, htmx partial, CSV."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from portal.lib.spreadsheet_cells import neutralise
from portal.tickets import services
from portal.tickets.models import Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def _numbers(response) -> list[str]:
    return [t.number for t in response.context["tickets"]]


def test_saved_views_offered_depend_on_the_role(personas, org, client_for):
    def offered(user):
        return [key for key, _, _ in client_for(user).get("/tickets").context["views"]]

    # "watching": everyone may watch tickets (docs/tickets.md, Watchers).
    assert offered(personas.requester) == ["all", "mine", "watching"]
    assert offered(personas.agent) == ["all", "mine", "watching", "assigned", "team"]
    everything = ["all", "mine", "watching", "assigned", "unassigned", "waiting"]
    assert offered(personas.spoc) == everything
    assert offered(personas.admin) == everything


def test_a_view_not_offered_to_the_role_is_a_400(personas, org, client_for):
    response = client_for(personas.requester).get("/tickets", {"view": "team"})
    assert response.status_code == 400
    assert response.context["tickets"] == []


def test_each_saved_view_lists_its_tickets(raise_ticket, personas, org, client_for):
    own = raise_ticket(requester=personas.agent, title="Agent's own")
    assigned = raise_ticket()
    services.ticket_assign(actor=personas.lead, ticket=assigned, assignee=personas.agent)
    unmapped = raise_ticket(title="No team")
    services.ticket_assign(actor=personas.spoc, ticket=unmapped, assignee=None)
    agent = client_for(personas.agent)
    assert own.number in _numbers(agent.get("/tickets", {"view": "mine"}))
    assert _numbers(agent.get("/tickets", {"view": "assigned"})) == [
        t.number for t in Ticket.objects.filter(assignee=personas.agent).order_by("-updated_at")
    ]
    spoc_unassigned = _numbers(client_for(personas.spoc).get("/tickets", {"view": "unassigned"}))
    assert spoc_unassigned == [unmapped.number]


def test_filters_narrow_the_list(raise_ticket, personas, client_for):
    urgent = raise_ticket(priority="urgent")
    raise_ticket(priority="low")
    services.ticket_change_status(actor=personas.agent, ticket=urgent, status="on_hold")
    client = client_for(personas.lead)
    assert _numbers(client.get("/tickets", {"priority": "urgent"})) == [urgent.number]
    assert _numbers(client.get("/tickets", {"status": ["on_hold", "closed"]})) == [urgent.number]
    assert _numbers(client.get("/tickets", {"requester": "nobody@example.com"})) == []
    assert len(_numbers(client.get("/tickets", {"requester": "requester@example.com"}))) == 2


def test_date_range_filters_are_inclusive_days(raise_ticket, personas, client_for):
    old = raise_ticket()
    Ticket.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=10),
        updated_at=timezone.now() - dt.timedelta(days=10),
    )
    new = raise_ticket()
    today = timezone.localdate().isoformat()
    client = client_for(personas.admin)
    assert _numbers(client.get("/tickets", {"created_from": today})) == [new.number]
    assert _numbers(client.get("/tickets", {"updated_to": today})) == [new.number, old.number]


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "title; DROP TABLE"},
        {"status": "bogus"},
        {"created_from": "yesterday"},
        {"created_from": "2026-02-01", "created_to": "2026-01-01"},
        {"group": "abc"},
        {"assignee": "not-an-email"},
        {"per_page": "1000000"},
        {"after": "!!!"},
        {"after": "WzEsMiwzXQ"},
    ],
)
def test_bad_list_parameters_are_a_400_with_a_message_never_a_500(params, personas, client_for):
    response = client_for(personas.admin).get("/tickets", params)
    assert response.status_code == 400
    assert b'role="alert"' in response.content


def test_bad_export_parameters_are_a_400(personas, client_for):
    assert client_for(personas.admin).get("/tickets/export.csv", {"sort": "x"}).status_code == 400


@pytest.mark.parametrize("sort", ["-updated", "updated", "-created", "created", "-priority"])
def test_keyset_pages_cover_every_ticket_once_in_order(sort, raise_ticket, personas, client_for):
    priorities = ["low", "medium", "high", "urgent"]
    for index in range(27):
        raise_ticket(title=f"T{index}", priority=priorities[index % 4])
    client = client_for(personas.admin)
    seen, params = [], {"sort": sort, "per_page": 25}
    while True:
        response = client.get("/tickets", params)
        assert response.status_code == 200
        seen += _numbers(response)
        if not response.context["next_query"]:
            break
        params = dict(pair.split("=", 1) for pair in response.context["next_query"].split("&"))
        from urllib.parse import unquote

        params = {k: unquote(v) for k, v in params.items()}
    assert sorted(seen) == sorted(t.number for t in Ticket.objects.all())
    assert len(seen) == len(set(seen)) == 27


def test_htmx_requests_get_only_the_results(ticket, personas, client_for):
    response = client_for(personas.agent).get("/tickets", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert ticket.number in html
    assert "<html" not in html
    assert 'class="ticket-filters' not in html


def _status_region(html: str) -> str:
    """The text an htmx answer puts in the page's status region, out of band."""
    match = re.search(r'<p id="ticket-results-status" hx-swap-oob="innerHTML">(.*?)</p>', html)
    assert match, html[:500]
    return match.group(1)


def test_the_results_are_not_live_and_the_status_region_starts_empty(ticket, personas, client_for):
    html = client_for(personas.agent).get("/tickets").content.decode()
    assert '<div id="ticket-results" data-swap-errors>' in html  # no aria-live
    assert "aria-live" not in html.split('id="ticket-results"', 1)[1]
    # Outside the swapped results, present and empty before anything is announced.
    assert '<p id="ticket-results-status" class="visually-hidden" role="status"></p>' in html
    assert html.index('id="ticket-results-status"') < html.index('id="ticket-results"')
    assert "hx-swap-oob" not in html  # a whole page announces nothing


def test_an_htmx_answer_announces_a_short_summary_of_the_results(
    raise_ticket, personas, client_for
):
    for index in range(26):
        raise_ticket(title=f"T{index}")
    client = client_for(personas.agent)
    htmx = {"HX-Request": "true"}
    first = client.get("/tickets", headers=htmx).content.decode()
    assert _status_region(first) == "25 tickets shown, more on the next page."
    assert first.count("hx-swap-oob") == 1
    last = client.get("/tickets", {"q": "T25"}, headers=htmx).content.decode()
    assert _status_region(last) == "1 ticket shown."
    none = client.get("/tickets", {"q": "nothing like it"}, headers=htmx).content.decode()
    assert _status_region(none) == "No tickets match these filters."


def test_an_htmx_answer_with_bad_filters_announces_what_is_wrong(personas, client_for):
    response = client_for(personas.admin).get(
        "/tickets", {"assignee": "not-an-email"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    # The form with its messages is not swapped, so the message names the field itself.
    assert _status_region(html).startswith("Some filters are not valid. Assignee: ")
    # Said once, through the status region: the error in the results is not also an alert.
    assert 'role="alert"' not in html and 'class="form-errors"' in html


def test_search_by_number_title_and_description(raise_ticket, personas, client_for):
    ticket = raise_ticket(title="Keyboard sticky", description="Coffee was involved")
    raise_ticket(title="Other")
    client = client_for(personas.requester)
    assert _numbers(client.get("/tickets", {"q": ticket.number})) == [ticket.number]
    assert _numbers(client.get("/tickets", {"q": "keyboard"})) == [ticket.number]
    assert _numbers(client.get("/tickets", {"q": "coffee"})) == [ticket.number]


def test_search_never_widens_access(raise_ticket, personas, client_for, group_y_ticket):
    client = client_for(personas.agent)
    assert _numbers(client.get("/tickets", {"q": group_y_ticket.number})) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("Plain", "Plain"),
        (None, ""),
    ],
)
def test_csv_cells_that_spreadsheets_would_run_are_neutralised(value, expected):
    assert neutralise(value) == expected


def test_csv_export_has_the_filtered_tickets_with_formulas_neutralised(
    raise_ticket, personas, client_for
):
    risky = raise_ticket(title="=cmd|' /C calc'!A0", priority="urgent")
    raise_ticket(priority="low")
    response = client_for(personas.agent).get("/tickets/export.csv", {"priority": "urgent"})
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("Number,Title,Status")
    assert len(lines) == 2
    assert lines[1].startswith(f"{risky.number},'=cmd")


def test_a_category_left_over_from_another_group_is_dropped_not_an_error(
    raise_ticket, personas, org, client_for
):
    ticket = raise_ticket()
    response = client_for(personas.admin).get(
        "/tickets", {"group": org.group_x.pk, "category": org.payroll.pk}
    )
    assert response.status_code == 200
    assert _numbers(response) == [ticket.number]


def test_category_and_subcategory_filters(raise_ticket, personas, org, client_for):
    laptop = raise_ticket()
    raise_ticket(subcategory=org.printer)
    params = {"group": org.group_x.pk, "category": org.hardware.pk, "subcategory": org.laptop.pk}
    assert _numbers(client_for(personas.admin).get("/tickets", params)) == [laptop.number]


def test_highest_priority_first_follows_priority_changes(raise_ticket, personas, client_for):
    low, urgent, medium = (raise_ticket(priority=p) for p in ("low", "urgent", "medium"))
    # The rank is a column the database derives from `priority`: a change made by a
    # service and one made by a plain UPDATE both move the ticket in the sort.
    services.ticket_update(
        actor=personas.lead, ticket=low, expected_version=low.version, priority="high"
    )
    Ticket.objects.filter(pk=urgent.pk).update(priority="low")
    numbers = _numbers(client_for(personas.admin).get("/tickets", {"sort": "-priority"}))
    assert numbers == [low.number, medium.number, urgent.number]


def test_search_pages_take_ticket_text_comments_and_numbers_together(
    raise_ticket, personas, client_for
):
    """Each way to match is its own branch of the page query; a ticket matching twice
    shows once, and the pages together hold every match once, newest first."""
    by_text = [raise_ticket(title=f"Docking station {i}") for i in range(14)]
    by_comment = [raise_ticket(title=f"Screen {i}") for i in range(13)]
    for ticket in by_comment:
        services.comment_add(actor=personas.agent, ticket=ticket, body="The docking station.")
    both = raise_ticket(title="Docking station again")
    services.comment_add(actor=personas.agent, ticket=both, body="Docking station swapped.")
    raise_ticket(title="Unrelated printer")
    matches = Ticket.objects.filter(pk__in=[t.pk for t in [*by_text, *by_comment, both]])
    expected = [t.number for t in matches.order_by("-updated_at", "-id")]
    client = client_for(personas.agent)
    first = client.get("/tickets", {"q": "docking station"})
    assert _numbers(first) == expected[:25]
    second = client.get(f"/tickets?{first.context['next_query']}")
    assert _numbers(second) == expected[25:]
    assert not second.context["next_query"]
    number = by_comment[0].number
    assert _numbers(client.get("/tickets", {"q": number})) == [number]


def test_team_none_lists_the_unmapped_tickets(raise_ticket, personas, org, client_for):
    routed = raise_ticket()
    unmapped = raise_ticket(title="Nobody's")
    Ticket.objects.filter(pk=unmapped.pk).update(team=None, assignee=None)
    client = client_for(personas.spoc)
    assert _numbers(client.get("/tickets", {"team": "none"})) == [unmapped.number]
    assert routed.number in _numbers(client.get("/tickets", {"team": str(routed.team_id)}))
    html = client.get("/tickets").content.decode()
    assert '<option value="none">No team (unmapped)</option>' in html
    assert client.get("/tickets", {"team": "nobody"}).status_code == 400


def test_a_row_shows_the_ticket_its_people_times_and_sla_badge(ticket, personas, client_for):
    """Each cell of a row as the list renders it (values prepared once per row in Python)."""
    assert ticket.assignee == personas.agent  # routed to the least-loaded member
    page = client_for(personas.admin).get("/tickets").content.decode()
    row = re.search(rf"<tr>\s*<td class=\"cell-select\">.*?{ticket.number}.*?</tr>", page, re.S)
    assert row
    cells = row.group(0)
    url = ticket.get_absolute_url()
    assert f'<a href="{url}">{ticket.number}</a>' in cells
    assert f'<a href="{url}" tabindex="-1">{ticket.title}</a>' in cells
    assert f'<span class="status status-{ticket.status}">{ticket.get_status_display()}' in cells
    assert f'<td data-label="Priority">{ticket.get_priority_display()}</td>' in cells
    sub = f" / {ticket.subcategory}" if ticket.subcategory else ""
    assert f'<td data-label="Classification">{ticket.group} / {ticket.category}{sub}</td>' in cells
    assert f'<td data-label="Team">{ticket.team}</td>' in cells
    assert f'<td data-label="Assignee">{personas.agent}</td>' in cells
    updated = timezone.localtime(ticket.updated_at)
    assert f'<time datetime="{updated.isoformat()}">{updated:%-d %b %Y %H:%M}</time>' in cells
    # No SLA policy in these fixtures: a dash (the badge with its due time: test_sla.py).
    assert not ticket.sla_policy_name
    assert '<td data-label="SLA due"><span class="muted">—</span>' in cells


def test_a_row_without_team_assignee_or_sla_shows_dashes(group_y_ticket, personas, client_for):
    page = client_for(personas.admin).get("/tickets").content.decode()
    row = re.search(
        rf"<tr>\s*<td class=\"cell-select\">.*?{group_y_ticket.number}.*?</tr>", page, re.S
    )
    assert row
    assert '<td data-label="Team">—</td>' in row.group(0)
    assert '<td data-label="Assignee">—</td>' in row.group(0)


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2026, 1, 5, 9, 7, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.UTC),
        dt.datetime(987, 5, 1, 0, 0, tzinfo=dt.UTC),
    ],
)
def test_row_dates_read_as_the_date_filter_writes_them(moment):
    from django.utils import dateformat

    from portal.lib.dates import ShortDates

    dates = ShortDates()
    assert dates.label(moment) == dateformat.format(moment, "j M Y H:i")
    assert dates.label(moment, year=False) == dateformat.format(moment, "j M H:i")


@pytest.mark.parametrize(
    "query",
    [
        "",
        "after=abc",
        "status=new&view=mine&q=a+b%2B%C3%A9~*&status=on_hold&after=xyz",
        "view=all&view=mine&per_page=50",
        "x=1&%C3%A9=%F0%9F%98%80&view=",
    ],
)
def test_saved_view_links_keep_the_other_filters_and_start_from_the_first_page(query):
    from django.http import QueryDict

    from portal.tickets.list_views import _encoded, _with_view

    for key in ("all", "team"):
        expected = QueryDict(query, mutable=True)
        expected.pop("after", None)
        expected["view"] = key
        assert _with_view(_encoded(QueryDict(query)), key) == expected.urlencode()

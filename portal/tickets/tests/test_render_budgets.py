"""Render budgets: which templates a warm request of each everyday page renders.

Template rendering was the largest part of a read page's time (docs/benchmarks.md, "What
costs what"); the rows of the lists, the comments of the ticket page and the notification
rows are now written in Python, and the filters' HTML kept per master-data version. These
tests pin the templates each page renders, by name and count, with a few rows and with
more: a row rendered through a template again (an `{% include %}` in a loop, a widget per
filter) changes the list or makes it grow with the rows, and fails here. Counts, never
timings, as the query budgets in test_request_costs.py.
"""

import pytest

from portal.notifications.models import Notification
from portal.tickets import services

pytestmark = pytest.mark.django_db

LAYOUT = ["base.html", "notifications/bell.html"]

LIST = ["tickets/list.html", "tickets/_assets.html", "tickets/_results.html"]

# (path, templates on a warm request of the admin besides the layout), by page
PAGES = [
    pytest.param("/tickets", LIST, id="list"),
    pytest.param("/tickets?q=laptop", LIST, id="search"),
    pytest.param("TICKET", ["tickets/detail.html"], id="ticket page"),
    pytest.param(
        "/dashboard", ["analytics/dashboard.html", "analytics/_assets.html"], id="dashboard"
    ),
    pytest.param("/notifications", ["notifications/list.html"], id="notifications"),
]


def _rendered(client, path: str) -> list[str]:
    client.get(path)  # warm: roles, bell, filter options and master rows cached
    response = client.get(path)
    assert response.status_code == 200
    return sorted(template.name for template in response.templates)


def _more_rows(raise_ticket, ticket, personas, count: int) -> None:
    for n in range(count):
        raise_ticket(title=f"Laptop dock {n}")
        services.comment_add(actor=personas.admin, ticket=ticket, body=f"Laptop checked {n}.")
    Notification.objects.bulk_create(
        Notification(recipient=personas.admin, kind="comment", text=f"Comment {n}", link="/")
        for n in range(count)
    )


@pytest.mark.parametrize(("path", "own"), PAGES)
def test_a_warm_page_renders_its_templates_once_whatever_its_rows(
    path, own, raise_ticket, personas, client_for
):
    ticket = raise_ticket(title="Laptop hinge")
    path = f"/tickets/{ticket.number}" if path == "TICKET" else path
    client = client_for(personas.admin)
    _more_rows(raise_ticket, ticket, personas, 2)
    few = _rendered(client, path)
    assert few == sorted([*LAYOUT, *own])
    _more_rows(raise_ticket, ticket, personas, 6)
    assert _rendered(client, path) == few

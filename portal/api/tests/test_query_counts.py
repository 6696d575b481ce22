"""Query counts of the API are pinned, and do not grow with the page size.

Every token call costs (named once here): 1. the token joined with its user, 2. the
rate-limit upsert, then 3.-4. the user's SPOC groups and team memberships (roles, once per
request) where access is checked. API calls are not page views (the analytics middleware
skips /api/), so no upsert of its own. The token's once-a-minute last-use write happens on
the warm-up call, not inside the counts.
"""

import pytest

pytestmark = pytest.mark.django_db

PER_CALL = 2
ROLES = 2


@pytest.fixture
def warm(api_for):
    def make(user):
        client = api_for(user)
        client.get("/notifications/unread-count")  # records the token's first use
        return client

    return make


@pytest.mark.parametrize("persona", ["requester", "agent", "spoc", "admin"])
@pytest.mark.parametrize(("tickets", "per_page"), [(3, "25"), (60, "50"), (60, "100")])
def test_ticket_list_costs_the_same_whatever_the_page_size(
    persona, tickets, per_page, personas, raise_ticket, warm, django_assert_num_queries
):
    for index in range(tickets):
        raise_ticket(title=f"Ticket {index}")
    client = warm(getattr(personas, persona))
    # + 5: one page of tickets with requester and assignee joined, then the page's groups,
    # categories, subcategories and teams by id into the empty cache
    # (portal.catalog.selectors.attach_master_rows; a warm cache serves them).
    with django_assert_num_queries(PER_CALL + ROLES + 5):
        response = client.get(f"/tickets?per_page={per_page}&sort=-created")
    assert response.status_code == 200
    assert len(response.json()["items"]) == min(tickets, int(per_page))


def test_ticket_list_next_page_follows_the_cursor(personas, raise_ticket, warm):
    for index in range(30):
        raise_ticket(title=f"Ticket {index}")
    client = warm(personas.requester)
    first = client.get("/tickets?sort=-created").json()
    second = client.get(f"/tickets?sort=-created&after={first['next_cursor']}").json()
    numbers = [t["number"] for t in first["items"] + second["items"]]
    assert len(numbers) == 30 == len(set(numbers))
    assert second["next_cursor"] is None


def test_comment_list_costs_the_same_whatever_the_number_of_comments(
    personas, ticket, warm, django_assert_num_queries
):
    from portal.tickets import services

    for index in range(20):
        services.comment_add(actor=personas.agent, ticket=ticket, body=f"Note {index}")
    client = warm(personas.requester)
    # + 1 the ticket through the access helper (its people joined; its master data is
    # not read), + 1 a page of comments with their authors.
    with django_assert_num_queries(PER_CALL + ROLES + 2):
        response = client.get(f"/tickets/{ticket.number}/comments")
    assert len(response.json()["items"]) == 20


@pytest.mark.parametrize("persona", ["requester", "agent", "admin"])
def test_ticket_read_is_one_access_checked_load(
    persona, personas, ticket, warm, django_assert_num_queries
):
    client = warm(getattr(personas, persona))
    # + 5: the ticket through get_ticket_for_user (people joined), then its group,
    # category, subcategory and team by id as the answer reads them. What the caller may
    # do comes from the roles already loaded: no query per permission.
    with django_assert_num_queries(PER_CALL + ROLES + 5):
        response = client.get(f"/tickets/{ticket.number}")
    assert response.status_code == 200
    assert response.json()["can"]["edit"] is (persona != "requester")

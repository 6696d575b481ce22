"""Whatever arrives in the query string, the list and export answer 200 or 400, never 500."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = [
    "view", "q", "status", "priority", "group", "category", "subcategory", "team",
    "assignee", "requester", "created_from", "created_to", "updated_from", "updated_to",
    "sort", "per_page", "after", "unknown",
]  # fmt: skip
# Text without NUL (the middleware answers those with 400 before any view runs).
VALUES = st.one_of(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        max_size=40,
    ),
    st.sampled_from(["1", "-1", "0", "99999999999999999999", "me", "none", "2026-02-30",
                     "new", "urgent", "-priority", "WzEsMl0", "eyJ4IjoxfQ"]),
)  # fmt: skip
PARAMS = st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=6)


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(params=PARAMS)
def test_list_and_export_never_fail_on_any_query_string(params, ticket, personas, client_for):
    client = client_for(personas.agent)
    for url in ("/tickets", "/tickets/export.csv"):
        response = client.get(url, params)
        assert response.status_code in {200, 400}, (url, params)
        if response.streaming:  # the CSV runs its query while streaming: read it all
            assert b"".join(response.streaming_content).startswith(b"Number,")


FORM_KEYS = ["version", "status", "reason", "assignee", "team", "body", "internal", "title",
             "description", "priority", "group", "category", "subcategory", "numbers", "action",
             "idempotency_key", "query"]  # fmt: skip
FORMS = st.lists(st.tuples(st.sampled_from(FORM_KEYS), VALUES), max_size=8)
ACTIONS = ["take", "status", "assign", "team", "comments", "edit"]


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=FORMS, action=st.sampled_from(ACTIONS))
def test_actions_answer_any_form_data_with_a_4xx_or_a_redirect(
    data, action, ticket, personas, client_for
):
    from django.http import QueryDict

    body = QueryDict(mutable=True)
    for key, value in data:
        body.appendlist(key, value)
    client = client_for(personas.lead)
    for url in (f"/tickets/{ticket.number}/{action}", "/tickets/new", "/tickets/bulk"):
        response = client.post(
            url, body.urlencode(), content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code in {200, 302, 400, 403, 404, 409}, (url, data)

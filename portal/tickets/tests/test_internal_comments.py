"""Internal comments never reach a requester: not on the page, in lists, search or CSV."""

import pytest

from portal.tickets import services

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

SECRET = "zanzibarquux"


@pytest.fixture
def noted_ticket(ticket, personas):
    services.comment_add(
        actor=personas.agent, ticket=ticket, body=f"Vendor says {SECRET}", internal=True
    )
    services.comment_add(actor=personas.agent, ticket=ticket, body="We are on it")
    return ticket


def test_requester_page_shows_public_comments_but_not_internal_ones(
    noted_ticket, personas, client_for
):
    html = client_for(personas.requester).get(f"/tickets/{noted_ticket.number}").content.decode()
    assert "We are on it" in html
    assert SECRET not in html
    assert "Internal comment" not in html


@pytest.mark.parametrize("persona", ["agent", "lead", "spoc", "admin"])
def test_people_working_the_ticket_see_internal_comments(
    persona, noted_ticket, personas, client_for
):
    html = client_for(getattr(personas, persona)).get(f"/tickets/{noted_ticket.number}")
    assert SECRET in html.content.decode()


def test_requester_cannot_find_a_ticket_by_words_only_in_an_internal_comment(
    noted_ticket, personas, client_for
):
    html = client_for(personas.requester).get("/tickets", {"q": SECRET}).content.decode()
    assert noted_ticket.number not in html
    assert "No tickets match" in html


def test_requester_finds_the_ticket_by_words_in_a_public_comment(
    noted_ticket, personas, client_for
):
    html = client_for(personas.requester).get("/tickets", {"q": "on it"}).content.decode()
    assert noted_ticket.number in html


@pytest.mark.parametrize("persona", ["agent", "spoc", "admin"])
def test_workers_find_the_ticket_by_its_internal_comment(
    persona, noted_ticket, personas, client_for
):
    html = client_for(getattr(personas, persona)).get("/tickets", {"q": SECRET}).content.decode()
    assert noted_ticket.number in html


def test_csv_of_a_search_on_internal_words_is_empty_for_the_requester(
    noted_ticket, personas, client_for
):
    response = client_for(personas.requester).get("/tickets/export.csv", {"q": SECRET})
    body = b"".join(response.streaming_content).decode()
    assert noted_ticket.number not in body
    assert SECRET not in body


def test_csv_never_contains_comment_text(noted_ticket, personas, client_for):
    response = client_for(personas.admin).get("/tickets/export.csv")
    body = b"".join(response.streaming_content).decode()
    assert noted_ticket.number in body
    assert SECRET not in body


def test_conflict_message_does_not_list_internal_events(noted_ticket, personas, client_for):
    # The requester's stale cancel gets a 409 listing changes: none may be internal.
    seen = noted_ticket.version
    services.ticket_update(
        actor=personas.lead, ticket=noted_ticket, expected_version=seen, priority="high"
    )
    response = client_for(personas.requester).post(
        f"/tickets/{noted_ticket.number}/status", {"status": "cancelled", "version": seen}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert SECRET not in html
    assert "Internal comment" not in html


@pytest.mark.parametrize("probe_limit", [5000, 1])
@pytest.mark.parametrize(("persona", "finds"), [("requester", False), ("agent", True)])
def test_both_search_plans_respect_internal_comment_visibility(
    probe_limit, persona, finds, noted_ticket, personas, client_for, monkeypatch
):
    # probe_limit=1 forces the plan for common words (walk the list, test each ticket).
    from portal.tickets import search

    monkeypatch.setattr(search, "PROBE_LIMIT", probe_limit)
    client = client_for(getattr(personas, persona))
    html = client.get("/tickets", {"q": SECRET}).content.decode()
    assert (noted_ticket.number in html) is finds
    assert noted_ticket.number in client.get("/tickets", {"q": "on it"}).content.decode()
    assert (
        noted_ticket.number in client.get("/tickets", {"q": noted_ticket.number}).content.decode()
    )


@pytest.mark.parametrize("persona", ["requester", "agent"])
def test_the_list_and_its_htmx_partial_never_show_comment_text(
    persona, noted_ticket, personas, client_for
):
    client = client_for(getattr(personas, persona))
    for headers in ({}, {"HX-Request": "true"}):
        html = client.get("/tickets", headers=headers).content.decode()
        assert noted_ticket.number in html
        assert SECRET not in html

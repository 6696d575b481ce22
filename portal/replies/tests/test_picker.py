"""The picker on the ticket page: search the replies usable on the ticket, insert one
into the comment box (filled in, after what was typed), and the management page."""

import re

import pytest
from django.utils.html import escape

from portal.replies import services
from portal.replies.models import CannedReply

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _titles(html: str) -> list[str]:
    return re.findall(r'hx-swap="outerHTML">([^<]*)</button>', html)


def test_workers_see_the_picker_above_the_comment_box_and_requesters_do_not(
    personas, client_for, ticket
):
    page = client_for(personas.agent).get(ticket.get_absolute_url()).content.decode()
    assert 'id="canned-replies"' in page
    assert page.index('id="canned-replies"') < page.index('name="body"')
    requester_page = client_for(personas.requester).get(ticket.get_absolute_url())
    assert b"canned-replies" not in requester_page.content


def test_the_picker_lists_own_team_and_ticket_team_replies_by_title(
    personas, client_for, replies, ticket
):
    url = f"/tickets/{ticket.number}/canned-replies"
    assert _titles(client_for(personas.agent).get(url, headers=HTMX).content.decode()) == [
        "Laptop swap",
        "Restart first",
    ]
    # The SPOC works the ticket without being in team A: the ticket's team's replies.
    assert _titles(client_for(personas.spoc).get(url).content.decode()) == ["Laptop swap"]


def test_the_picker_searches_titles_and_text(personas, client_for, replies, ticket):
    client = client_for(personas.agent)
    url = f"/tickets/{ticket.number}/canned-replies"
    assert _titles(client.get(url, {"q": "SWAP"}).content.decode()) == ["Laptop swap"]
    assert _titles(client.get(url, {"q": "restart."}).content.decode()) == ["Restart first"]
    empty = client.get(url, {"q": "<b>nothing</b>"}).content.decode()
    assert _titles(empty) == []
    assert escape("“<b>nothing</b>”") in empty


def test_the_picker_answers_in_a_fixed_number_of_queries(
    personas, client_for, replies, ticket, django_assert_num_queries
):
    for n in range(25):
        services.canned_reply_create(actor=personas.agent, title=f"Reply {n:02}", body="x")
    client = client_for(personas.agent)
    url = f"/tickets/{ticket.number}/canned-replies"
    client.get(url)
    # the session with its user (1), the ticket (1), the replies with their teams (1);
    # their roles from the cache.
    with django_assert_num_queries(3):
        response = client.get(url, headers=HTMX)
    assert len(_titles(response.content.decode())) == 20
    assert b"More replies match" in response.content


def test_inserting_adds_the_filled_in_reply_after_what_was_typed(
    personas, client_for, replies, ticket
):
    response = client_for(personas.agent).post(
        f"/tickets/{ticket.number}/canned-replies/{replies.team_a.pk}/insert",
        {"body": "Thanks for waiting.\n"},
        headers=HTMX,
    )
    html = response.content.decode()
    textarea = re.search(
        r'<textarea name="body"[^>]*id="id_body"[^>]*>(.*?)</textarea>', html, re.S
    )  # noqa: E501
    assert textarea, html
    assert "autofocus" in textarea.group(0)
    assert textarea.group(1).strip() == (
        f"Thanks for waiting.\n\n{ticket.number}: we swap the laptop. — Agent Persona"
    )
    assert "Inserted “Laptop swap” into the comment" in html
    assert not ticket.comments.exists()


def test_an_inserted_reply_is_escaped_in_the_comment_box(personas, client_for, org, ticket):
    reply = services.canned_reply_create(
        actor=personas.agent, title="<i>t</i>", body="</textarea><script>alert(1)</script>"
    )
    html = (
        client_for(personas.agent)
        .post(f"/tickets/{ticket.number}/canned-replies/{reply.pk}/insert")
        .content.decode()
    )
    assert "<script>" not in html and "<i>" not in html
    assert "&lt;/textarea&gt;&lt;script&gt;" in html


def test_a_lead_shares_a_reply_with_the_team_and_members_use_it(personas, org, client_for, ticket):
    response = client_for(personas.lead).post(
        "/replies/new",
        {"title": "Welcome", "body": "Hi {requester.first_name}", "scope": str(org.team_a.pk)},
    )
    assert response.status_code == 302
    reply = CannedReply.objects.get(title="Welcome")
    assert (reply.team, reply.owner, reply.created_by) == (org.team_a, None, personas.lead)
    page = client_for(personas.agent).get("/replies").content.decode()
    assert "Welcome" in page and f"/replies/{reply.pk}/edit" not in page
    inserted = client_for(personas.agent).post(
        f"/tickets/{ticket.number}/canned-replies/{reply.pk}/insert"
    )
    assert "Hi Requester" in inserted.content.decode()


def test_the_list_page_answers_in_a_fixed_number_of_queries(
    personas, org, client_for, replies, django_assert_num_queries
):
    for n in range(10):
        services.canned_reply_create(actor=personas.lead, title=f"T{n}", body="x", team=org.team_a)
    client = client_for(personas.lead)
    client.get("/replies")
    with django_assert_num_queries(2):
        # the session with its user (1), replies with their teams (1); roles and the bell
        # from the cache, page views written once a minute.
        response = client.get("/replies")
    assert response.content.decode().count("/edit") == 12  # own reply + 11 of team A


def test_editing_keeps_the_owner_and_refuses_bad_input_with_nothing_changed(
    personas, client_for, replies
):
    client = client_for(personas.agent)
    url = f"/replies/{replies.agent_own.pk}/edit"
    assert client.post(url, {"title": "", "body": "x"}).status_code == 400
    assert client.post(url, {"title": "T", "body": "{agent.secret}"}).status_code == 400
    replies.agent_own.refresh_from_db()
    assert replies.agent_own.title == "Restart first"
    assert client.post(url, {"title": "Restart", "body": "Restart it"}).status_code == 302
    replies.agent_own.refresh_from_db()
    assert (replies.agent_own.title, replies.agent_own.owner) == ("Restart", personas.agent)

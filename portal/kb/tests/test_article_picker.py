"""The help-article picker in the ticket's comment box.

People working a ticket search published articles and insert a Markdown link into their
reply. Only articles the ticket's requester may read are offered or inserted: an internal
how-to never goes into a reply a requester reads, whatever slug is posted.
"""

import re

import pytest
from django.conf import settings
from django.utils.html import escape

from portal.kb import services
from portal.tickets.models import Comment

pytestmark = pytest.mark.django_db

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]
HTMX = {"HX-Request": "true"}


def _row(requester, agent, lead, spoc, admin, outsider):
    return dict(zip(PERSONAS, [requester, agent, lead, spoc, admin, outsider], strict=True))


def _titles(html: str) -> list[str]:
    return re.findall(r'hx-swap="outerHTML">([^<]*)</button>', html)


def _picker(ticket) -> str:
    return f"/tickets/{ticket.number}/help-articles"


def _insert(ticket, article) -> str:
    return f"/tickets/{ticket.number}/help-articles/{article.slug}/insert"


def test_workers_see_the_article_picker_above_the_comment_box_and_requesters_do_not(
    personas, client_for, ticket
):
    page = client_for(personas.agent).get(ticket.get_absolute_url()).content.decode()
    assert 'id="article-picker"' in page
    assert page.index('id="article-picker"') < page.index('name="body"')
    assert (
        b"article-picker"
        not in client_for(personas.requester).get(ticket.get_absolute_url()).content
    )


@pytest.mark.parametrize("persona", ["agent", "lead", "spoc", "admin"])
def test_a_requesters_ticket_offers_only_articles_the_requester_may_read(
    persona, personas, client_for, articles, ticket
):
    html = client_for(getattr(personas, persona)).get(_picker(ticket), headers=HTMX)
    # Published for everyone, whichever group; never the internal how-to nor the draft,
    # although every one of these people may read the internal one.
    assert _titles(html.content.decode()) == [articles.public.title, articles.other_team.title]


def test_a_ticket_raised_by_someone_who_works_tickets_may_link_internal_articles(
    personas, client_for, articles, raise_ticket
):
    ticket = raise_ticket(requester=personas.spoc, title="Print server queue stuck")
    titles = _titles(client_for(personas.agent).get(_picker(ticket)).content.decode())
    assert articles.internal.title in titles
    assert articles.draft.title not in titles


def test_the_picker_searches_titles_and_text_and_escapes_the_query(
    personas, client_for, articles, ticket
):
    client = client_for(personas.agent)
    assert _titles(client.get(_picker(ticket), {"q": "PRINTER"}).content.decode()) == [
        articles.public.title
    ]
    assert _titles(client.get(_picker(ticket), {"q": "25th"}).content.decode()) == [
        articles.other_team.title
    ]
    # The internal article's own words find nothing for a requester's ticket.
    assert _titles(client.get(_picker(ticket), {"q": "spooler"}).content.decode()) == []
    empty = client.get(_picker(ticket), {"q": "<b>x</b>"}).content.decode()
    assert escape("“<b>x</b>”") in empty


def test_inserting_appends_an_absolute_link_after_what_was_typed(
    personas, client_for, articles, ticket
):
    response = client_for(personas.agent).post(
        _insert(ticket, articles.public), {"body": "Hello,\n\nthis should help:  "}, headers=HTMX
    )
    assert response.status_code == 200
    link = f"[{articles.public.title}]({settings.APP_URL}/help/articles/{articles.public.slug})"
    assert escape(f"Hello,\n\nthis should help:\n\n{link}") in response.content.decode()
    assert "autofocus" in response.content.decode()
    assert not Comment.objects.filter(ticket=ticket).exists()  # nothing is sent yet


@pytest.mark.parametrize("kind", ["internal", "draft"])
def test_an_article_the_requester_may_not_read_is_never_inserted(
    kind, personas, client_for, articles, ticket
):
    response = client_for(personas.admin).post(
        _insert(ticket, getattr(articles, kind)), {"body": "typed"}
    )
    assert response.status_code == 404
    assert getattr(articles, kind).slug not in response.content.decode()


def test_brackets_in_a_title_cannot_end_the_link_text(personas, client_for, org, ticket):
    article = services.article_create(
        actor=personas.agent, title="[VPN] token ] reset", body="Steps.", group=org.group_x,
        owner_team=org.team_a,
    )  # fmt: skip
    services.article_publish(actor=personas.agent, article=article)
    html = client_for(personas.agent).post(_insert(ticket, article), {"body": ""}).content.decode()
    assert escape(r"[\[VPN\] token \] reset](") in html


# The picker (GET) and the insert (POST) on the requester's team-A ticket: for people
# working it (403 for the requester, 404 for the outsider, who cannot see the ticket).
ACTIONS = {
    "search": ("get", _row(403, 200, 200, 200, 200, 404)),
    "insert": ("post", _row(403, 200, 200, 200, 200, 404)),
}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_permission_matrix(action, persona, personas, client_for, articles, ticket):
    method, expected = ACTIONS[action]
    url = _picker(ticket) if action == "search" else _insert(ticket, articles.public)
    comments = Comment.objects.count()
    response = getattr(client_for(getattr(personas, persona)), method)(url, {"q": ""})
    assert response.status_code == expected[persona]
    assert Comment.objects.count() == comments
    if response.status_code != 200:
        assert articles.public.title.encode() not in response.content


def test_the_picker_refuses_post_and_the_insert_refuses_get(personas, client_for, articles, ticket):
    client = client_for(personas.agent)
    assert client.post(_picker(ticket)).status_code == 405
    assert client.get(_insert(ticket, articles.public)).status_code == 405


def test_the_picker_answers_in_a_fixed_number_of_queries(
    personas, client_for, org, articles, ticket, django_assert_num_queries
):
    for n in range(25):
        article = services.article_create(
            actor=personas.agent, title=f"Printer tip {n:02}", body="x", group=org.group_x,
            owner_team=org.team_a,
        )  # fmt: skip
        services.article_publish(actor=personas.agent, article=article)
    client = client_for(personas.agent)
    client.get(_picker(ticket), headers=HTMX)
    # 1 the session with its user, 2 the ticket (requester joined), 3 the articles (the
    # requester's and the agent's audience as EXISTS subqueries, group and category
    # joined), whatever the number of articles; the agent's roles come from the cache
    # once warm.
    with django_assert_num_queries(3):
        response = client.get(_picker(ticket), headers=HTMX)
    assert len(_titles(response.content.decode())) == 20
    assert b"More articles match" in response.content

"""/help pages: markup safety, search snippets, feedback, review lists, query counts."""

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from portal.kb import search, services
from portal.kb.models import Article, ArticleEvent

pytestmark = pytest.mark.django_db

HOSTILE = (
    "<script>alert(1)</script> **bold** [x](javascript:alert(2)) "
    '<img src=x onerror=alert(3)> <a href="#" hx-get="/logout">htmx</a> printer'
)


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _article(personas, org, **extra):
    fields = {
        "title": "Printer help", "body": "Use the printer.", "group": org.group_x,
        "category": org.hardware, "owner_team": org.team_a, **extra,
    }  # fmt: skip
    article = services.article_create(actor=personas.agent, **fields)
    services.article_publish(actor=personas.agent, article=article)
    return article


def test_article_bodies_are_sanitised_everywhere_they_are_shown(personas, org):
    article = _article(personas, org, title='<b>Bold</b> "title"', body=HOSTILE)
    client = _signed_in(personas.requester)
    for path in (article.get_absolute_url(), "/help?q=printer", f"/help?category={org.hardware.pk}",
                 f"/help/suggestions?title=printer&kb_visit={'a' * 32}"):  # fmt: skip
        page = client.get(path).content.decode()
        assert "<script>alert" not in page, path
        assert "onerror=alert" not in page.replace("onerror=alert(3)&gt;", ""), path
        assert 'href="javascript:' not in page, path
        assert "<b>Bold</b>" not in page, path
    page = client.get(article.get_absolute_url()).content.decode()
    assert "<strong>bold</strong>" in page  # Markdown still works
    assert '<div class="markdown" hx-disable>' in page  # htmx never acts inside bodies


HOSTILE_TITLE = '<script>alert("t")</script><img src=x onerror=alert(4)> Printer'


def test_hostile_titles_and_bodies_stay_text_on_the_writers_pages_and_in_the_api(
    personas, org, ticket, files_storage
):
    """Beyond the reader's pages: the owner's lists on /help (drafts, reviews due), the
    edit and image pages, the analytics of deflections, the ticket page's article picker,
    and the API's `body_html`."""
    import uuid

    from portal.api import tokens
    from portal.attachments.tests.files import png
    from portal.kb import image_services
    from portal.tickets.tests.attachment_fixtures import upload

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    published = _article(personas, org, title=HOSTILE_TITLE, body=HOSTILE, review_by=yesterday)
    draft = services.article_create(
        actor=personas.agent, title=HOSTILE_TITLE + " draft", body=HOSTILE, group=org.group_x,
        category=org.hardware, owner_team=org.team_a,
    )  # fmt: skip
    image = image_services.article_image_add(
        actor=personas.agent, article=published, upload=upload("<b>x</b>.png", png())
    )
    services.article_update(
        actor=personas.agent, article=published, body=f"{HOSTILE} ![a](/help/images/{image.pk})"
    )
    services.deflection_record(
        visit=uuid.uuid4(), article=published, category_id=None, now=timezone.now()
    )
    agent = _signed_in(personas.agent)
    paths = [
        "/help", published.get_absolute_url(), draft.get_absolute_url(),
        f"/help/articles/{published.slug}/edit", f"/help/images/{image.pk}/remove",
        "/analytics/knowledge-base", f"/tickets/{ticket.number}/help-articles?q=printer",
    ]  # fmt: skip
    for path in paths:
        response = agent.get(path)
        page = response.content.decode()
        assert response.status_code == 200, path
        assert escape(HOSTILE_TITLE) in page, path  # shown, as text
        assert "<script>alert" not in page, path
        assert "<img src=x" not in page and "onerror=alert(4)>" not in page, path
        assert "onerror=alert(3)>" not in page, path
        assert 'href="javascript:' not in page, path
        assert "<b>x</b>" not in page, path
    secret = tokens.token_create(user=personas.requester, name="t").secret
    item = (
        Client()
        .get(f"/api/v1/kb/articles/{published.slug}", HTTP_AUTHORIZATION=f"Bearer {secret}")
        .json()
    )
    tags: list[tuple[str, dict]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append((tag, dict(attrs)))

    Collect().feed(item["body_html"])  # as a client's browser would read it
    assert "script" not in {tag for tag, _attrs in tags}
    assert {name for _tag, attrs in tags for name in attrs} <= {"src", "alt", "title", "rel"}
    assert "javascript:" not in item["body_html"]
    assert ("img", {"alt": "a", "src": f"/help/images/{image.pk}"}) in tags
    assert item["title"] == HOSTILE_TITLE  # JSON carries the text; clients escape it


def test_search_snippets_escape_the_text_and_mark_only_matches(personas, org):
    _article(personas, org, body="Before <em>x</em> the printer & after")
    page = _signed_in(personas.requester).get("/help?q=printer").content.decode()
    snippet = page.split('class="kb-snippet" hx-disable>')[1].split("</p>")[0]
    # SQLite shows the tag as text; PostgreSQL's ts_headline drops tags: never markup.
    assert "<em>" not in snippet and "&amp;" in snippet
    assert "<mark>printer</mark>" in snippet
    assert snippet.count("<mark>") == snippet.count("</mark>") == 1


def test_highlight_turns_only_the_databases_markers_into_tags():
    text = f"<i>a</i> {search.HIGHLIGHT_START}vpn{search.HIGHLIGHT_STOP} & b"
    assert search.highlight(text) == "&lt;i&gt;a&lt;/i&gt; <mark>vpn</mark> &amp; b"


def test_control_characters_never_reach_an_article(personas, org):
    article = _article(personas, org, body="a\x02b\x03c\x00d\ne")
    article.refresh_from_db()
    assert article.body == "abcd\ne"


def test_search_with_odd_input_answers_normally(personas, org):
    _article(personas, org)
    client = _signed_in(personas.requester)
    for q in ["'", "!", "a & | b", "(", '"', "-printer", "\\", ":*", "printer:*", "ü" * 200]:
        assert client.get("/help", {"q": q}).status_code == 200, q
    assert client.get("/help", {"category": "abc"}).status_code == 400
    assert client.get("/help", {"category": "1", "after": "%%%"}).status_code == 400
    assert (
        client.get("/help/suggestions", {"title": "'&|!():*", "category": "x"}).status_code == 200
    )


def test_helpful_answers_are_counted_once_per_session_without_identity(personas, org):
    article = _article(personas, org)
    client = _signed_in(personas.requester)
    url = f"{article.get_absolute_url()}/feedback"
    assert client.post(url, {"helpful": "yes"}).status_code == 302
    assert client.post(url, {"helpful": "no"}).status_code == 302  # already answered
    assert _signed_in(personas.outsider).post(url, {"helpful": "no"}).status_code == 302
    assert client.post(url, {"helpful": "maybe"}).status_code == 400
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 1)
    htmx = _signed_in(personas.lead).post(url, {"helpful": "yes"}, headers={"HX-Request": "true"})
    assert "Thank you" in htmx.content.decode()


def test_feedback_needs_the_csrf_token(personas, org):
    article = _article(personas, org)
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.requester)
    response = client.post(f"{article.get_absolute_url()}/feedback", {"helpful": "yes"})
    assert response.status_code == 403
    article.refresh_from_db()
    assert article.helpful_yes == 0


def test_owners_see_the_articles_due_for_review_and_others_do_not(personas, org):
    today = timezone.localdate()
    due = _article(personas, org, title="Old VPN guide", review_by=today - dt.timedelta(days=3))
    _article(personas, org, title="Fresh guide", review_by=today + dt.timedelta(days=30))
    for persona, sees in (("agent", True), ("lead", True), ("admin", True), ("spoc", False),
                          ("requester", False)):  # fmt: skip
        page = _signed_in(getattr(personas, persona)).get("/help").content.decode()
        assert ("Due for review" in page and due.title in page) == sees, persona
        assert 'Fresh guide</a> <span class="muted">Team A, review by' not in page


def test_editing_writes_history_and_keeps_the_address(personas, org):
    article = _article(personas, org)
    client = _signed_in(personas.lead)
    response = client.post(
        f"{article.get_absolute_url()}/edit",
        {"title": "Printer help, revised", "body": "New text.", "group": org.group_x.pk,
         "category": "", "owner_team": org.team_a.pk, "audience": "workers"},
    )  # fmt: skip
    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.title, article.category, article.audience) == (
        "Printer help, revised", None, "workers",
    )  # fmt: skip
    assert article.get_absolute_url() == response["Location"]
    event = ArticleEvent.objects.filter(article=article).first()
    assert (event.kind, event.fields, event.actor) == (
        "updated", "title,body,category,audience", personas.lead,
    )  # fmt: skip


def test_a_category_of_another_group_is_refused(personas, org):
    client = _signed_in(personas.agent)
    response = client.post(
        "/help/new",
        {"title": "X", "body": "Y", "group": org.group_x.pk, "category": org.payroll.pk,
         "owner_team": org.team_a.pk, "audience": "everyone"},
    )  # fmt: skip
    assert response.status_code == 400
    assert not Article.objects.exists()


def test_comment_becomes_a_prefilled_draft(personas, org, ticket):
    from portal.tickets import services as ticket_services

    comment = ticket_services.comment_add(
        actor=personas.agent, ticket=ticket, body="Hold the power button for 30 s.", internal=True
    )
    client = _signed_in(personas.agent)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "Make a help article" in page
    assert (
        "Make a help article"
        not in _signed_in(personas.requester).get(ticket.get_absolute_url()).content.decode()
    )
    response = client.post(f"/tickets/{ticket.number}/comments/{comment.pk}/article")
    article = Article.objects.get()
    assert response["Location"] == f"/help/articles/{article.slug}/edit"
    assert (article.title, article.body, article.status, article.audience) == (
        ticket.title, comment.body, "draft", "workers",
    )  # fmt: skip
    assert (article.group, article.category, article.owner_team) == (
        org.group_x, org.hardware, org.team_a,
    )  # fmt: skip


def test_help_home_query_counts(personas, org, django_assert_num_queries):
    for index in range(3):
        _article(personas, org, title=f"Printer {index}")
    client = _signed_in(personas.requester)
    client.get("/help")
    # 1 the session with its user (roles and the bell from the cache, page views written
    # once a minute); then 2 the browse tree (one grouped count).
    with django_assert_num_queries(2):
        client.get("/help")
    # A search: the same, plus 1 ranked search (its snippets computed in the same query).
    with django_assert_num_queries(3):
        client.get("/help?q=printer")
    # A shelf: plus 1 keyset page (group and category joined).
    with django_assert_num_queries(3):
        client.get(f"/help?category={org.hardware.pk}")
    agent = _signed_in(personas.agent)
    agent.get("/help")
    # Owners add 2: their teams' articles due for review, and their drafts.
    with django_assert_num_queries(4):
        agent.get("/help")


def test_article_page_query_count(personas, org, django_assert_num_queries):
    article = _article(personas, org)
    client = _signed_in(personas.requester)
    client.get(article.get_absolute_url())
    # 1 the session with its user, 2 the article (group, category, owner team joined);
    # roles (for may-edit) and the bell from the cache, page views written once a minute.
    with django_assert_num_queries(2):
        client.get(article.get_absolute_url())

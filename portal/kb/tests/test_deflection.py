"""Suggestions on the new-ticket form, and deflections counted without identity."""

import re
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.kb import deflection, selectors
from portal.kb.models import Deflection

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'\?from=([^"]+)"')
SHOWN = '<input type="hidden" id="kb-shown" name="kb_shown" value="1" hx-swap-oob="true">'


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _suggest(client, org, visit: str, title="printer not connecting"):
    return client.get(
        "/help/suggestions",
        {"title": title, "group": org.group_x.pk, "category": org.hardware.pk, "kb_visit": visit},
        headers={"HX-Request": "true"},
    )


def _open_first(client, response):
    from urllib.parse import unquote

    token = unquote(TOKEN.search(response.content.decode()).group(1))
    link = re.search(r'href="(/help/articles/[^"?]+)\?from=', response.content.decode()).group(1)
    return client.get(link, {"from": token})


def test_the_new_ticket_form_carries_a_visit_and_the_suggestion_box(personas, org):
    page = _signed_in(personas.requester).get("/tickets/new").content.decode()
    assert re.search(r'name="kb_visit" value="[0-9a-f]{32}"', page)
    assert 'id="kb-suggestions"' in page and "delay:400ms" in page


def test_suggestions_cost_one_query(personas, org, articles, django_assert_num_queries):
    client = _signed_in(personas.requester)
    client.get("/dashboard")  # warm the session (its once-a-minute refresh is not counted)
    # 1. the session row with its user, 2. the suggestions: published articles matching
    # any word (the last as a prefix), the audience decided in the same statement, ranked
    # with the classification boost, cut to five. htmx requests are not page views.
    with django_assert_num_queries(2):
        response = _suggest(client, org, uuid.uuid4().hex)
    assert articles.public.title in response.content.decode()


def test_opening_a_suggestion_and_leaving_counts_one_deflection(personas, org, articles):
    client = _signed_in(personas.requester)
    visit = uuid.uuid4().hex
    response = _suggest(client, org, visit)
    assert _open_first(client, response).status_code == 200
    # Reloading the article, or opening it again from a fresh suggestion, counts once.
    _open_first(client, response)
    _open_first(client, _suggest(client, org, visit, title="office printer"))
    rows = list(Deflection.objects.values("visit", "article_id", "category_id", "raised_ticket"))
    assert rows == [
        {
            "visit": uuid.UUID(visit),
            "article_id": articles.public.pk,
            "category_id": org.hardware.pk,
            "raised_ticket": False,
        }
    ]
    # Nobody's identity is kept: the row has no user column at all.
    assert not {f.name for f in Deflection._meta.get_fields()} & {"user", "requester", "session"}


def test_raising_the_ticket_after_all_is_not_a_deflection(personas, org, articles):
    client = _signed_in(personas.requester)
    form = client.get("/tickets/new").content.decode()
    visit = re.search(r'name="kb_visit" value="([0-9a-f]{32})"', form).group(1)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    suggested = _suggest(client, org, visit)
    # The listed suggestions mark the form (an out-of-band swap of its kb_shown field).
    assert SHOWN in suggested.content.decode()
    _open_first(client, suggested)
    assert Deflection.objects.filter(raised_ticket=False).count() == 1
    response = client.post(
        "/tickets/new",
        {
            "title": "Printer still not connecting", "description": "Tried the article.",
            "group": org.group_x.pk, "category": org.hardware.pk, "idempotency_key": key,
            "kb_visit": visit, "kb_shown": "1",
        },
    )  # fmt: skip
    assert response.status_code == 302
    assert Deflection.objects.filter(raised_ticket=False).count() == 0
    report = selectors.deflection_report(
        since=timezone.now() - timezone.timedelta(days=1), until=timezone.now()
    )
    assert report.total == 0


def test_a_form_that_listed_no_suggestion_raises_its_ticket_without_the_deflection_check(
    personas, org, articles
):
    client = _signed_in(personas.requester)
    form = client.get("/tickets/new").content.decode()
    assert '<input type="hidden" id="kb-shown" name="kb_shown" value="">' in form
    visit = re.search(r'name="kb_visit" value="([0-9a-f]{32})"', form).group(1)
    # Suggestions that list nothing leave the mark alone.
    assert SHOWN not in _suggest(client, org, visit, title="zebra quantum").content.decode()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/tickets/new",
            {
                "title": "Zebra quantum", "description": "Nothing suggested.",
                "group": org.group_x.pk, "category": org.hardware.pk,
                "idempotency_key": uuid.uuid4(), "kb_visit": visit, "kb_shown": "",
            },
        )  # fmt: skip
    assert response.status_code == 302
    assert not [q for q in queries.captured_queries if "kb_deflection" in q["sql"]]


def test_a_form_shown_again_after_an_error_keeps_its_visit_and_its_mark(personas, org):
    client = _signed_in(personas.requester)
    visit = uuid.uuid4().hex
    response = client.post("/tickets/new", {"title": "", "kb_visit": visit, "kb_shown": "1"})
    page = response.content.decode()
    assert response.status_code == 400
    assert f'name="kb_visit" value="{visit}"' in page
    assert '<input type="hidden" id="kb-shown" name="kb_shown" value="1">' in page


def test_a_forged_or_foreign_token_counts_nothing(personas, org, articles):
    client = _signed_in(personas.requester)
    visit = uuid.UUID(hex=uuid.uuid4().hex)
    other_article = deflection.link_token(visit, articles.other_team.pk, None)
    assert (
        client.get(articles.public.get_absolute_url(), {"from": other_article}).status_code == 200
    )
    assert client.get(articles.public.get_absolute_url(), {"from": "junk:abc"}).status_code == 200
    assert client.get(articles.public.get_absolute_url(), {"from": "x" * 5000}).status_code == 200
    assert not Deflection.objects.exists()


def test_an_expired_suggestion_counts_nothing(articles):
    token = deflection.link_token(uuid.uuid4(), articles.public.pk, None)
    assert deflection.read_token(token, max_age=-1) is None
    assert deflection.read_token(token) is not None


def test_the_report_counts_per_category_and_names_the_top_articles(personas, org, articles):
    now = timezone.now()
    for article, times in ((articles.public, 3), (articles.other_team, 1)):
        for _ in range(times):
            token = deflection.link_token(uuid.uuid4(), article.pk, None)
            assert deflection.opened(token, article, now=now)
    report = selectors.deflection_report(
        since=now - timezone.timedelta(hours=1), until=now + timezone.timedelta(seconds=1)
    )
    assert report.total == 4
    assert report.by_category == [("Group X", "Hardware", 3), ("Group Y", "Payroll", 1)]
    assert [(a.title, n) for a, n in report.top_articles] == [
        (articles.public.title, 3), (articles.other_team.title, 1),
    ]  # fmt: skip

"""/analytics/knowledge-base: deflections per category and the articles that answered most."""

import uuid

import pytest
from django.test import Client

from portal.kb import deflection
from portal.kb.tests import conftest as kb_fixtures

pytestmark = pytest.mark.django_db

PAGE = "/analytics/knowledge-base"
articles = kb_fixtures.articles  # the knowledge base's fixture


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("persona", "status"),
    [("requester", 403), ("outsider", 403), ("agent", 200), ("lead", 200), ("spoc", 200),
     ("admin", 200)],
)  # fmt: skip
def test_only_people_who_work_tickets_open_it(persona, status, personas, org):
    assert _signed_in(getattr(personas, persona)).get(PAGE).status_code == status


def test_it_counts_deflections_per_category_and_names_the_top_articles(personas, org, articles):
    for article, times in ((articles.public, 2), (articles.internal, 1)):
        for _ in range(times):
            deflection.opened(deflection.link_token(uuid.uuid4(), article.pk, None), article)
    page = _signed_in(personas.spoc).get(PAGE).content.decode()
    assert '<span class="figure-count">3</span>' in page
    assert "<td>Group X</td><td>Hardware</td><td>3</td>" in page
    top = page.split('data-testid="top-articles"')[1]
    assert top.index(articles.public.title) < top.index(articles.internal.title)
    filtered = _signed_in(personas.admin).get(PAGE, {"group": org.group_y.pk}).content.decode()
    assert '<span class="figure-count">0</span>' in filtered


def test_bad_filters_are_a_400(personas, org):
    client = _signed_in(personas.admin)
    assert client.get(PAGE, {"period": "365"}).status_code == 400
    assert client.get(PAGE, {"group": "x"}).status_code == 400


def test_query_count_is_constant(personas, org, articles, django_assert_num_queries):
    for _ in range(5):
        deflection.opened(
            deflection.link_token(uuid.uuid4(), articles.public.pk, None), articles.public
        )
    client = _signed_in(personas.admin)
    client.get(PAGE)
    # 1 the session with its user (roles and the bell from the cache, page views written
    # once a minute); 2 the group filter's options; 3 deflections per category, 4 the top
    # article ids, 5 those articles.
    with django_assert_num_queries(5):
        client.get(PAGE)

"""Every persona × every article action on the web pages and the API, exact statuses.

Team A (agent, lead) owns the articles of group X; admins may do everything; the SPOC
reads internal articles but owns none (not in a team). A refusal changes nothing: the
articles and their history are compared before and after.
"""

import pytest
from django.test import Client

from portal.api import tokens
from portal.kb.models import Article, ArticleEvent

pytestmark = pytest.mark.django_db

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]


def _row(requester, agent, lead, spoc, admin, outsider):
    return dict(zip(PERSONAS, [requester, agent, lead, spoc, admin, outsider], strict=True))


def _snapshot():
    return (
        list(Article.objects.order_by("pk").values()),
        ArticleEvent.objects.count(),
    )


def _web_actions(articles, org, ticket, comment_id):
    create = {
        "title": "Unjam the printer", "body": "Open tray 2.", "group": org.group_x.pk,
        "category": org.hardware.pk, "owner_team": org.team_a.pk, "audience": "everyone",
    }  # fmt: skip
    edit = {**create, "title": "Connect to the office printer (updated)"}
    public, internal, draft = articles.public, articles.internal, articles.draft
    return {
        "create": ("/help/new", create, _row(403, 302, 302, 403, 302, 403)),
        "edit public": (
            f"/help/articles/{public.slug}/edit", edit, _row(403, 302, 302, 403, 302, 403)
        ),
        "edit internal": (
            f"/help/articles/{internal.slug}/edit", {**edit, "audience": "workers"},
            _row(404, 302, 302, 403, 302, 404),
        ),
        "publish draft": (
            f"/help/articles/{draft.slug}/publish", {}, _row(404, 302, 302, 404, 302, 404)
        ),
        "unpublish public": (
            f"/help/articles/{public.slug}/unpublish", {}, _row(403, 302, 302, 403, 302, 403)
        ),
        "helpful public": (
            f"/help/articles/{public.slug}/feedback", {"helpful": "yes"},
            _row(302, 302, 302, 302, 302, 302),
        ),
        "helpful internal": (
            f"/help/articles/{internal.slug}/feedback", {"helpful": "no"},
            _row(404, 302, 302, 302, 302, 404),
        ),
        "comment to article": (
            f"/tickets/{ticket.number}/comments/{comment_id}/article", {},
            _row(403, 302, 302, 403, 302, 404),
        ),
    }  # fmt: skip


WEB_ACTIONS = [
    "create", "edit public", "edit internal", "publish draft", "unpublish public",
    "helpful public", "helpful internal", "comment to article",
]  # fmt: skip


@pytest.fixture
def public_comment(ticket, personas):
    from portal.tickets import services

    return services.comment_add(
        actor=personas.agent, ticket=ticket, body="Turn it off and on; then **tray 2**."
    )


@pytest.mark.parametrize("action", WEB_ACTIONS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_web_permission_matrix(action, persona, articles, personas, org, ticket, public_comment):
    path, data, expected = _web_actions(articles, org, ticket, public_comment.pk)[action]
    client = Client()
    client.force_login(getattr(personas, persona))
    before = _snapshot()
    response = client.post(path, data)
    assert response.status_code == expected[persona], response.content[:500]
    if expected[persona] != 302:
        assert _snapshot() == before


@pytest.mark.parametrize("action", WEB_ACTIONS)
def test_signed_out_posts_go_to_sign_in_and_change_nothing(
    action, articles, org, ticket, public_comment
):
    path, data, _ = _web_actions(articles, org, ticket, public_comment.pk)[action]
    before = _snapshot()
    response = Client().post(path, data)
    assert response.status_code == 302 and response["Location"].startswith("/login")
    assert _snapshot() == before


def test_actions_refuse_get(personas, articles):
    client = Client()
    client.force_login(personas.agent)
    assert client.get(f"/help/articles/{articles.public.slug}/publish").status_code == 405
    assert client.get(f"/help/articles/{articles.public.slug}/feedback").status_code == 405


def _api_actions(articles, org):
    body = {
        "title": "Unjam the printer", "body": "Open tray 2.", "group": org.group_x.pk,
        "category": org.hardware.pk, "owner_team": org.team_a.pk,
    }  # fmt: skip
    public, internal, draft = articles.public, articles.internal, articles.draft
    return {
        "create": ("POST", "/kb/articles", body, _row(403, 201, 201, 403, 201, 403)),
        "create for another team": (
            "POST", "/kb/articles", {**body, "owner_team": org.team_b.pk},
            _row(403, 422, 422, 403, 201, 403),
        ),
        "edit public": (
            "PATCH", f"/kb/articles/{public.slug}", {"title": "New title"},
            _row(403, 200, 200, 403, 200, 403),
        ),
        "edit internal": (
            "PATCH", f"/kb/articles/{internal.slug}", {"title": "New title"},
            _row(404, 200, 200, 403, 200, 404),
        ),
        "publish draft": (
            "POST", f"/kb/articles/{draft.slug}/publish", None, _row(404, 200, 200, 404, 200, 404)
        ),
        "unpublish public": (
            "POST", f"/kb/articles/{public.slug}/unpublish", None,
            _row(403, 200, 200, 403, 200, 403),
        ),
        "edit other team's": (
            "PATCH", f"/kb/articles/{articles.other_team.slug}", {"title": "Mine now"},
            _row(403, 403, 403, 403, 200, 403),
        ),
    }  # fmt: skip


API_ACTIONS = [
    "create", "create for another team", "edit public", "edit internal", "publish draft",
    "unpublish public", "edit other team's",
]  # fmt: skip


@pytest.mark.parametrize("action", API_ACTIONS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_api_permission_matrix(action, persona, articles, personas, org):
    import json

    method, path, body, expected = _api_actions(articles, org)[action]
    secret = tokens.token_create(user=getattr(personas, persona), name="matrix").secret
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    before = _snapshot()
    response = getattr(Client(), method.lower())(f"/api/v1{path}", **kwargs)
    assert response.status_code == expected[persona], response.content[:500]
    if expected[persona] >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert _snapshot() == before

"""Who reads which article, on every route that shows articles.

The internal how-to ("Reset a printer queue…", audience: people who work tickets) must
never reach a requester or an outsider: not as a page, not in search, not in the browse
lists, not in the new-ticket suggestions, not through the API, not as one of its images,
not in the CSV export. Drafts reach only the owner team and admins. The same rule decides
everywhere (portal/kb/access.py).
"""

import pytest
from django.test import Client

from portal.accounts.roles import user_roles
from portal.api import tokens
from portal.attachments.tests.files import png
from portal.catalog.models import TeamMember
from portal.kb import image_services
from portal.kb.models import Article
from portal.tickets.tests.attachment_fixtures import upload

pytestmark = pytest.mark.django_db

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]
WORKERS = {"agent", "lead", "spoc", "admin"}
# The CSV export is for people who write articles (owner-team members, admins): a SPOC
# reads internal articles but exports nothing (403).
WRITERS = {"agent", "lead", "admin"}
DRAFT_READERS = {"agent", "lead", "admin"}  # team A (the owner) and admins
INTERNAL_WORD = "spooler"  # only in the internal article's body


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _api(user):
    secret = tokens.token_create(user=user, name="audience").secret
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def _csv_titles(response) -> str:
    return b"".join(response.streaming_content).decode() if response.status_code == 200 else ""


def _shown(persona, articles, personas, org, image) -> dict[str, bool]:
    """Where the internal article shows up for `persona`, route by route."""
    user = getattr(personas, persona)
    web, api = _client(user), _api(user)
    internal = articles.internal
    title = internal.title
    api_list = Client().get("/api/v1/kb/articles?per_page=100", **api).json()["items"]
    api_search = Client().get(f"/api/v1/kb/articles?q={INTERNAL_WORD}", **api).json()["items"]
    return {
        "page": web.get(internal.get_absolute_url()).status_code == 200,
        "search": title in web.get(f"/help?q={INTERNAL_WORD}").content.decode(),
        "browse": title in web.get(f"/help?category={org.hardware.pk}").content.decode(),
        "group browse": title in web.get(f"/help?group={org.group_x.pk}").content.decode(),
        "suggestions": title
        in web.get(
            f"/help/suggestions?title=printer+queue+{INTERNAL_WORD}&category={org.hardware.pk}"
        ).content.decode(),
        "classification-only suggestions": title
        in web.get(f"/help/suggestions?category={org.hardware.pk}").content.decode(),
        "api read": Client().get(f"/api/v1/kb/articles/{internal.slug}", **api).status_code == 200,
        "api list": any(item["slug"] == internal.slug for item in api_list),
        "api search": any(item["slug"] == internal.slug for item in api_search),
        "image": web.get(image.get_absolute_url()).status_code == 200,
        "csv export": title in _csv_titles(web.get("/help/export.csv")),
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_internal_articles_reach_only_people_who_work_tickets_on_every_route(
    persona, articles, personas, org, files_storage
):
    image = image_services.article_image_add(
        actor=personas.agent, article=articles.internal, upload=upload("queue.png", png())
    )
    shown = _shown(persona, articles, personas, org, image)
    expected = {route: persona in WORKERS for route in shown}
    expected["csv export"] = persona in WRITERS
    assert shown == expected


@pytest.mark.parametrize("persona", PERSONAS)
def test_everyone_reads_the_public_article(persona, articles, personas, org):
    web = _client(getattr(personas, persona))
    assert web.get(articles.public.get_absolute_url()).status_code == 200
    assert articles.public.title in web.get("/help?q=printer").content.decode()


@pytest.mark.parametrize("persona", PERSONAS)
def test_drafts_reach_only_the_owner_team_and_admins(persona, articles, personas, org):
    user = getattr(personas, persona)
    web, api = _client(user), _api(user)
    draft = articles.draft
    expected = 200 if persona in DRAFT_READERS else 404
    assert web.get(draft.get_absolute_url()).status_code == expected
    assert Client().get(f"/api/v1/kb/articles/{draft.slug}", **api).status_code == expected
    # Drafts are never suggested or found, not even for their owners (who see them listed
    # under "Drafts" on /help instead).
    hit = f'<a href="{draft.get_absolute_url()}"><strong>'
    assert hit not in web.get("/help?q=toner").content.decode()
    assert draft.title not in web.get("/help/suggestions?title=toner").content.decode()


def test_signed_out_people_are_sent_to_sign_in(articles):
    for path in ("/help", articles.public.get_absolute_url(), "/help/suggestions?title=x"):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login")
    assert Client().get(f"/api/v1/kb/articles/{articles.public.slug}").status_code == 401


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_audience_rule_in_sql_agrees_with_the_roles(persona, articles, personas):
    """The suggestion box decides "works tickets" inside its one query; it must be the
    same people as accounts.roles says."""
    user = getattr(personas, persona)
    readable = set(Article.objects.suggestible_to(user).values_list("pk", flat=True))
    assert (articles.internal.pk in readable) == user_roles(user).works_tickets


def test_an_agent_who_left_their_team_no_longer_reads_internal_articles(articles, personas):
    TeamMember.objects.filter(user=personas.agent).update(is_active=False)
    agent = type(personas.agent).objects.get(pk=personas.agent.pk)
    assert not Article.objects.suggestible_to(agent).filter(pk=articles.internal.pk).exists()
    assert _client(agent).get(articles.internal.get_absolute_url()).status_code == 404


def test_a_deactivated_account_reads_nothing(articles, personas):
    personas.admin.is_active = False
    assert not Article.objects.visible_to(personas.admin).exists()
    assert not Article.objects.suggestible_to(personas.admin).exists()

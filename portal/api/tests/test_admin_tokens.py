"""Admins list and revoke other people's API tokens, by API and on /settings/users/<id>/tokens;
nobody else may, and no answer ever carries a secret."""

import pytest

from portal.api import tokens
from portal.api.models import ApiToken
from portal.api.tests.conftest import (
    PERSONAS,
    ApiClient,
    is_problem,
    persona_user,
)

pytestmark = pytest.mark.django_db

# Only admins; everyone else signed in is refused (403), a missing token is 401.
EXPECTED = {"requester": 403, "agent": 403, "lead": 403, "spoc": 403, "admin": 200,
            "outsider": 403, "anonymous": 401}  # fmt: skip


@pytest.fixture
def scripts(personas):
    """Two live tokens of the requester (one revoked beside them), secrets kept for checks."""
    first = tokens.token_create(user=personas.requester, name="nightly export")
    second = tokens.token_create(user=personas.requester, name="ci", expires_in_days=30)
    revoked = tokens.token_create(user=personas.requester, name="old")
    tokens.token_revoke(user=personas.requester, token_id=revoked.token.pk)
    return first, second


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
def test_only_admins_list_another_persons_tokens(persona, personas, api_for, scripts):
    response = api_for(persona_user(personas, persona)).get(
        f"/users/{personas.requester.pk}/tokens"
    )
    assert response.status_code == EXPECTED[persona], response.content
    if response.status_code != 200:
        is_problem(response, EXPECTED[persona])
        return
    items = response.json()["items"]
    assert [item["name"] for item in items] == ["ci", "nightly export"]
    assert items[0]["prefix"] == scripts[1].token.prefix
    assert items[0]["expired"] is False and items[0]["revoked_at"] is None
    text = response.content.decode()
    for new in scripts:
        assert new.secret not in text and new.token.digest not in text


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
def test_only_admins_revoke_another_persons_token_and_it_stops_working_at_once(
    persona, personas, api_for, scripts
):
    first, _ = scripts
    owner = ApiClient(first.secret)
    assert owner.get("/notifications/unread-count").status_code == 200
    response = api_for(persona_user(personas, persona)).post(
        f"/users/{personas.requester.pk}/tokens/{first.token.pk}/revoke"
    )
    assert response.status_code == EXPECTED[persona], response.content
    first.token.refresh_from_db()
    if response.status_code == 200:
        assert response.json() == {"revoked": 1}
        assert first.token.revoked_at is not None
        is_problem(owner.get("/notifications/unread-count"), 401)
    else:
        is_problem(response, EXPECTED[persona])
        assert first.token.revoked_at is None
        assert owner.get("/notifications/unread-count").status_code == 200


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_admins_revoke_all_of_a_persons_tokens(persona, personas, api_for, scripts):
    response = api_for(persona_user(personas, persona)).post(
        f"/users/{personas.requester.pk}/tokens/revoke-all"
    )
    assert response.status_code == EXPECTED[persona], response.content
    ids = [new.token.pk for new in scripts]
    live = ApiToken.objects.filter(pk__in=ids, revoked_at__isnull=True).count()
    if response.status_code == 200:
        assert response.json() == {"revoked": 2} and live == 0
    else:
        is_problem(response, EXPECTED[persona])
        assert live == 2


def test_a_token_of_someone_else_or_already_revoked_is_a_404(personas, api_for, scripts):
    admin = api_for(personas.admin)
    first, _ = scripts
    # The right token under the wrong person: refused, and it keeps working.
    is_problem(admin.post(f"/users/{personas.agent.pk}/tokens/{first.token.pk}/revoke"), 404)
    assert ApiToken.objects.get(pk=first.token.pk).revoked_at is None
    revoke = admin.post(f"/users/{personas.requester.pk}/tokens/{first.token.pk}/revoke")
    assert revoke.status_code == 200
    is_problem(admin.post(f"/users/{personas.requester.pk}/tokens/{first.token.pk}/revoke"), 404)
    is_problem(admin.get("/users/999999/tokens"), 404)


def test_revocations_are_in_the_security_log(personas, api_for, scripts, caplog):
    with caplog.at_level("INFO", logger="portal.security"):
        api_for(personas.admin).post(f"/users/{personas.requester.pk}/tokens/revoke-all")
    [record] = [r for r in caplog.records if "revoked by an admin" in r.getMessage()]
    assert record.actor_id == personas.admin.pk and record.user_id == personas.requester.pk
    assert all(new.secret not in caplog.text for new in scripts)


def test_the_token_list_costs_the_same_whatever_the_number_of_tokens(
    personas, api_for, django_assert_num_queries, settings
):
    settings.API_TOKENS_PER_USER = 20
    for index in range(12):
        tokens.token_create(user=personas.requester, name=f"script {index}")
    admin = api_for(personas.admin)
    admin.get("/notifications/unread-count")  # records the token's first use
    # 1 token + user, 2 rate limit, 3 the owner, 4 a page of their tokens.
    with django_assert_num_queries(4):
        response = admin.get(f"/users/{personas.requester.pk}/tokens?per_page=5")
    assert len(response.json()["items"]) == 5 and response.json()["next_cursor"]


# --- the settings page -------------------------------------------------------------------

PAGE = {"requester": 403, "agent": 403, "lead": 403, "spoc": 403, "admin": 200,
        "outsider": 403, "anonymous": 302}  # fmt: skip


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
def test_only_admins_see_the_token_page_of_another_person(persona, personas, client_for, scripts):
    response = client_for(persona_user(personas, persona)).get(
        f"/settings/users/{personas.requester.pk}/tokens"
    )
    assert response.status_code == PAGE[persona]
    if response.status_code == 200:
        text = response.content.decode()
        assert "nightly export" in text and scripts[0].token.prefix in text
        assert scripts[0].secret not in text and "old" not in text.split("<h2")[1]


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
def test_only_admins_revoke_from_the_token_page(persona, personas, client_for, scripts):
    first, second = scripts
    client = client_for(persona_user(personas, persona))
    url = f"/settings/users/{personas.requester.pk}/tokens/revoke"
    response = client.post(url, {"token": first.token.pk})
    assert response.status_code == (302 if persona in ("admin", "anonymous") else 403)
    first.token.refresh_from_db()
    assert (first.token.revoked_at is not None) is (persona == "admin")
    if persona == "admin":
        assert response["Location"] == f"/settings/users/{personas.requester.pk}/tokens"
        client.post(url, {"all": "1"})
        second.token.refresh_from_db()
        assert second.token.revoked_at is not None
        assert client.post(url, {"token": first.token.pk}).status_code == 404
        assert client.post(url, {"token": "x"}).status_code == 404
        assert client.get(url).status_code == 405


def test_the_user_page_links_to_their_tokens(personas, client_for):
    page = client_for(personas.admin).get(f"/settings/users/{personas.requester.pk}")
    assert f'href="/settings/users/{personas.requester.pk}/tokens"' in page.content.decode()

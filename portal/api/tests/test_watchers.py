"""Watching through the API: anyone who may see a ticket watches it for themself, as on the
ticket page; people working it see who else watches, others only themselves."""

import pytest

from portal.api.tests.conftest import PERSONAS, is_problem, persona_user

pytestmark = pytest.mark.django_db

VIEWERS = ("requester", "agent", "lead", "spoc", "admin")
EXPECTED = {**{p: 200 for p in VIEWERS}, "outsider": 404, "anonymous": 401}


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_may_watch_and_unwatch_a_ticket_they_can_see(
    persona, personas, api_for, ticket
):
    client = api_for(persona_user(personas, persona))
    path = f"/tickets/{ticket.number}/watchers/me"
    watched = client.put(path)
    assert watched.status_code == EXPECTED[persona], watched.content
    if watched.status_code != 200:
        is_problem(watched, EXPECTED[persona])
        is_problem(client.delete(path), EXPECTED[persona])
        assert not ticket.watchers.exists()
        return
    user = getattr(personas, persona)
    assert watched.json() == {"watching": True, "changed": True}
    assert list(ticket.watchers.all()) == [user]
    assert client.put(path).json() == {"watching": True, "changed": False}
    assert client.delete(path).json() == {"watching": False, "changed": True}
    assert client.delete(path).json() == {"watching": False, "changed": False}
    assert not ticket.watchers.exists()


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
def test_workers_see_every_watcher_and_others_only_themselves(persona, personas, api_for, ticket):
    ticket.watchers.add(personas.lead, personas.requester)
    response = api_for(persona_user(personas, persona)).get(f"/tickets/{ticket.number}/watchers")
    assert response.status_code == EXPECTED[persona], response.content
    if response.status_code != 200:
        is_problem(response, EXPECTED[persona])
        return
    body = response.json()
    emails = [item["email"] for item in body["items"]]
    if persona == "requester":
        assert emails == [personas.requester.email]
    else:
        assert emails == [personas.requester.email, personas.lead.email]
    assert body["watching"] is (persona in ("requester", "lead"))


def test_watching_does_not_change_the_ticket_or_its_history(personas, api_for, ticket):
    client = api_for(personas.requester)
    before = client.get(f"/tickets/{ticket.number}").json()
    events = client.get(f"/tickets/{ticket.number}/events").json()["items"]
    client.put(f"/tickets/{ticket.number}/watchers/me")
    after = client.get(f"/tickets/{ticket.number}").json()
    assert after["version"] == before["version"]
    assert client.get(f"/tickets/{ticket.number}/events").json()["items"] == events


def test_nobody_signs_someone_else_up(personas, api_for, ticket):
    response = api_for(personas.admin).put(
        f"/tickets/{ticket.number}/watchers/{personas.requester.pk}"
    )
    # No such address: only /watchers/me exists, so the answer is the API's plain 404.
    is_problem(response, 404)
    assert not ticket.watchers.exists()


def test_deactivated_watchers_are_not_listed(personas, api_for, ticket):
    ticket.watchers.add(personas.lead)
    personas.lead.is_active = False
    personas.lead.save(update_fields=["is_active"])
    body = api_for(personas.agent).get(f"/tickets/{ticket.number}/watchers").json()
    assert body["items"] == []


@pytest.mark.parametrize("watchers", [1, 12])
def test_the_watcher_list_costs_the_same_whatever_the_number_of_watchers(
    watchers, personas, api_for, ticket, django_assert_num_queries
):
    from portal.accounts.models import User

    people = [
        User.objects.create_user(f"w{index}@example.com", "x", full_name=f"W {index}")
        for index in range(watchers)
    ]
    ticket.watchers.add(*people)
    client = api_for(personas.agent)
    client.get("/notifications/unread-count")  # records the token's first use
    # 1 token + user, 2 rate limit, 3-4 roles, 5 the ticket through the access helper,
    # 6 whether the caller watches, 7 a page of watchers.
    with django_assert_num_queries(7):
        response = client.get(f"/tickets/{ticket.number}/watchers")
    assert len(response.json()["items"]) == watchers

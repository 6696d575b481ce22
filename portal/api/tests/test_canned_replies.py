"""Canned replies through the API: the same rules as the picker on the ticket page."""

import pytest

from portal.api.tests.conftest import PERSONAS, is_problem, persona_user
from portal.replies import services as reply_services
from portal.tickets.models import Comment

pytestmark = pytest.mark.django_db


@pytest.fixture
def replies(personas, org):
    return {
        "own": reply_services.canned_reply_create(
            actor=personas.agent, title="Restart", body="Hi {requester.first_name}, restart."
        ),
        "team_a": reply_services.canned_reply_create(
            actor=personas.lead, title="Swap", body="{ticket.number} swapped.", team=org.team_a
        ),
        "team_b": reply_services.canned_reply_create(
            actor=personas.admin, title="Payroll", body="20th.", team=org.team_b
        ),
    }


LIST = {
    "requester": 403,
    "agent": 200,
    "lead": 200,
    "spoc": 200,
    "admin": 200,
    "outsider": 404,
    "anonymous": 401,
}
VISIBLE = {
    "agent": ["Restart", "Swap"],
    "lead": ["Swap"],
    "spoc": ["Swap"],
    "admin": ["Swap"],
}


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_lists_exactly_the_replies_usable_on_the_ticket(
    persona, personas, api_for, replies, ticket
):
    response = api_for(persona_user(personas, persona)).get(
        f"/tickets/{ticket.number}/canned-replies"
    )
    if LIST[persona] != 200:
        is_problem(response, LIST[persona])
        return
    assert response.status_code == 200
    assert [item["title"] for item in response.json()["items"]] == VISIBLE[persona]


USE = {
    # The team A reply on team A's ticket; the agent's own reply is theirs alone.
    "team_a": {**LIST},
    "own": {**LIST, "lead": 404, "spoc": 404, "admin": 404},
    "team_b": {**LIST, "agent": 404, "lead": 404, "spoc": 404, "admin": 404},
}


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("which", USE)
def test_each_persona_may_use_exactly_the_replies_usable_on_the_ticket(
    which, persona, personas, api_for, replies, ticket
):
    client = api_for(persona_user(personas, persona))
    path = f"/tickets/{ticket.number}/canned-replies/{replies[which].pk}/use"
    expected = USE[which][persona]
    preview = client.post(path, {})
    posted = client.post(path, {"post": True})
    if expected != 200:
        is_problem(preview, expected)
        is_problem(posted, expected)
        assert not Comment.objects.public().filter(ticket=ticket).exists()
        return
    assert preview.status_code == 200
    assert posted.status_code == 201
    assert preview.json()["comment"] is None
    assert posted.json()["comment"]["body"] == preview.json()["body"]


def test_using_a_reply_fills_it_in_and_posting_adds_an_internal_comment(
    personas, api_for, replies, ticket
):
    client = api_for(personas.agent)
    path = f"/tickets/{ticket.number}/canned-replies/{replies['own'].pk}/use"
    assert client.post(path, {}).json() == {"body": "Hi Requester, restart.", "comment": None}
    posted = client.post(path, {"post": True, "internal": True}).json()
    comment = Comment.objects.visible_to(personas.agent, ticket).get()
    assert (comment.body, comment.is_internal, comment.author) == (
        "Hi Requester, restart.",
        True,
        personas.agent,
    )
    assert posted["comment"]["id"] == comment.pk and posted["comment"]["internal"] is True


def test_the_list_searches_and_refuses_unknown_query_parameters(personas, api_for, replies, ticket):
    client = api_for(personas.agent)
    path = f"/tickets/{ticket.number}/canned-replies"
    assert [i["title"] for i in client.get(path + "?q=swapped").json()["items"]] == ["Swap"]
    is_problem(client.get(path + "?query=x"), 422)
    is_problem(client.post(path + f"/{replies['own'].pk}/use", {"posted": True}), 422)

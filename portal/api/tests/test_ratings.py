"""Satisfaction ratings through the API: the requester rates once per resolution; the
requester and the people working the ticket read them; anyone else gets 404."""

import pytest

from portal.api.tests.conftest import PERSONAS, is_problem, persona_user
from portal.csat.models import Rating
from portal.tickets import services
from portal.tickets.models import Status

pytestmark = pytest.mark.django_db

RATE = {
    "requester": 201,
    "agent": 403,
    "lead": 403,
    "spoc": 403,
    "admin": 403,
    "outsider": 404,
    "anonymous": 401,
}
READ = {**RATE, "requester": 200, "agent": 200, "lead": 200, "spoc": 200, "admin": 200}


@pytest.fixture
def resolved(ticket):
    return services.ticket_change_status(
        actor=ticket.assignee, ticket=ticket, status=Status.RESOLVED
    )


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_requester_rates_and_refusals_record_nothing(persona, personas, api_for, resolved):
    client = api_for(persona_user(personas, persona))
    response = client.post(
        f"/tickets/{resolved.number}/ratings", {"score": "bad", "comment": "Still slow"}
    )
    if RATE[persona] != 201:
        is_problem(response, RATE[persona])
        assert not Rating.objects.exists()
        return
    assert response.status_code == 201
    body = response.json()
    assert (body["score"], body["comment"], body["rated_by"]["email"]) == (
        "bad",
        "Still slow",
        "requester@example.com",
    )
    is_problem(client.post(f"/tickets/{resolved.number}/ratings", {"score": "good"}), 409)
    assert Rating.objects.count() == 1


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
def test_the_requester_and_workers_read_the_ratings(persona, personas, api_for, resolved):
    api_for(personas.requester).post(f"/tickets/{resolved.number}/ratings", {"score": "good"})
    response = api_for(persona_user(personas, persona)).get(f"/tickets/{resolved.number}/ratings")
    if READ[persona] != 200:
        is_problem(response, READ[persona])
        return
    assert [item["score"] for item in response.json()["items"]] == ["good"]


def test_an_unresolved_ticket_or_a_bad_score_is_refused(personas, api_for, ticket):
    client = api_for(personas.requester)
    is_problem(client.post(f"/tickets/{ticket.number}/ratings", {"score": "good"}), 409)
    is_problem(client.post(f"/tickets/{ticket.number}/ratings", {"score": "meh"}), 422)
    assert not Rating.objects.exists()

"""The approvals API: the same permission matrix as the pages, my pending list with its
query count pinned, and decisions that route or close the ticket."""

import pytest

from portal.api import tokens
from portal.approvals.models import ApprovalStep
from portal.tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db


def _api(client, user):
    secret = tokens.token_create(user=user, name="test").secret
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def _status(ticket) -> str:
    return Ticket.objects.values_list("status", flat=True).get(pk=ticket.pk)


# Read one approval, then decide it: the approver 200/200; anyone else 404 (admins too:
# deciding is the approvers' or their delegates', and an admin names a delegate instead).
MATRIX = {
    "manager": (200, 200),
    "requester": (404, 404),
    "agent": (404, 404),
    "spoc": (404, 404),
    "admin": (404, 404),
    "outsider": (404, 404),
}


@pytest.mark.parametrize(("who", "expected"), MATRIX.items())
def test_api_decision_permission_matrix(who, expected, awaiting, manager, personas, client):
    user = manager if who == "manager" else getattr(personas, who)
    auth = _api(client, user)
    step = ApprovalStep.objects.get(ticket=awaiting)
    assert client.get(f"/api/v1/approvals/{step.pk}", **auth).status_code == expected[0]
    response = client.post(
        f"/api/v1/approvals/{step.pk}/decision",
        {"decision": "approved", "comment": "ok"},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == expected[1]
    assert _status(awaiting) == (Status.NEW if who == "manager" else Status.AWAITING)


def test_api_lists_my_pending_approvals_in_constant_queries(
    awaiting, raise_ticket, manager, client, django_assert_num_queries
):
    auth = _api(client, manager)
    client.get("/api/v1/approvals", **auth)
    raise_ticket()
    raise_ticket()
    # the token (its user joined), the rate-limit window, the rows with their steps,
    # tickets and people joined (the delegations the user stands in for a subquery).
    with django_assert_num_queries(3):
        response = client.get("/api/v1/approvals", **auth)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["ticket"] for item in items][0] == awaiting.number
    assert len(items) == 3 and items[0]["step"].startswith("Step 1")


def test_api_rejection_needs_the_reason_and_a_second_decision_is_a_conflict(
    awaiting, manager, client
):
    auth = _api(client, manager)
    step = ApprovalStep.objects.get(ticket=awaiting)
    url = f"/api/v1/approvals/{step.pk}/decision"
    response = client.post(url, {"decision": "rejected"}, content_type="application/json", **auth)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "comment"
    assert _status(awaiting) == Status.AWAITING
    body = {"decision": "rejected", "comment": "Over budget"}
    response = client.post(url, body, content_type="application/json", **auth)
    assert response.status_code == 200
    assert response.json()["approvers"][0]["comment"] == "Over budget"
    assert _status(awaiting) == Status.CLOSED
    response = client.post(url, body, content_type="application/json", **auth)
    assert response.status_code == 409

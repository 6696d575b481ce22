"""Deciding on the page and through the emailed link: a permission matrix per surface,
and signed links that are forged, altered, expired, replayed or opened by someone else
are refused with nothing changed. A GET never decides."""

import datetime as dt
import re
from unittest import mock

import pytest
from django.core import signing

from portal.approvals import links
from portal.approvals.models import ApprovalStep, Approver
from portal.notifications.models import EmailDelivery
from portal.testing.notices import deliver_pending
from portal.testing.outbox import written
from portal.tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db


def _status(ticket) -> str:
    return Ticket.objects.values_list("status", flat=True).get(pk=ticket.pk)


def _step(ticket) -> ApprovalStep:
    return ApprovalStep.objects.get(ticket=ticket)


def _people(personas, manager) -> dict:
    return {**personas.all(), "manager": manager}


# Who reaches the decision page of the manager's step, and what a POST answers.
# The approver decides (302 to their list); anyone with no part in it gets 404 (the
# approval's existence is not theirs to learn) — admins and the ticket's agents included.
PAGE_MATRIX = {
    "manager": (200, 302),
    "requester": (404, 404),
    "agent": (404, 404),
    "lead": (404, 404),
    "spoc": (404, 404),
    "admin": (404, 404),
    "outsider": (404, 404),
}


@pytest.mark.parametrize(("who", "expected"), PAGE_MATRIX.items())
def test_decision_page_permission_matrix(who, expected, awaiting, manager, personas, client_for):
    client = client_for(_people(personas, manager)[who])
    url = f"/approvals/{_step(awaiting).pk}"
    assert client.get(url).status_code == expected[0]
    response = client.post(url, {"decision": "approved", "comment": "ok"})
    assert response.status_code == expected[1]
    assert _status(awaiting) == (Status.NEW if who == "manager" else Status.AWAITING)


def test_anonymous_visitors_are_sent_to_sign_in_and_nothing_changes(awaiting, client):
    url = f"/approvals/{_step(awaiting).pk}"
    assert client.post(url, {"decision": "approved"}).status_code == 302
    assert _status(awaiting) == Status.AWAITING


def test_rejecting_on_the_page_without_a_reason_says_so(awaiting, manager, client_for):
    response = client_for(manager).post(
        f"/approvals/{_step(awaiting).pk}", {"decision": "rejected", "comment": ""}
    )
    assert response.status_code == 400
    assert "Say why you reject it." in response.content.decode()
    assert _status(awaiting) == Status.AWAITING


@pytest.mark.parametrize("requests", [1, 4])
def test_the_pending_list_shows_the_approvers_requests_in_constant_queries(
    requests, awaiting, raise_ticket, manager, personas, client_for, django_assert_num_queries
):
    for _ in range(requests - 1):
        raise_ticket()
    client = client_for(manager)
    client.get("/approvals")  # the first visit also writes the session: not pinned here
    # the session with its user; the rows with their steps, tickets and people joined (the
    # delegations the user stands in for are a subquery of it). The menu's roles, the
    # unread count and the header's approvals count come from the cache once warm; page
    # views are written in a batch once a minute.
    with django_assert_num_queries(2):
        response = client.get("/approvals")
    assert response.status_code == 200
    assert response.content.decode().count("/approvals/") >= requests
    assert awaiting.number in response.content.decode()
    assert awaiting.number not in client_for(personas.lead).get("/approvals").content.decode()


def _emailed_links(manager) -> dict[str, str]:
    deliver_pending()  # what the worker does within seconds of the event
    [email] = written(EmailDelivery.objects.filter(kind="approval_request", recipient=manager))
    found = dict(
        re.findall(r"(Approve|Reject): https?://[^/\s]+(/approvals/link/\S+)", email.body_text)
    )
    return {"approved": found["Approve"], "rejected": found["Reject"]}


def test_the_emailed_link_opens_a_confirmation_and_only_the_post_decides(
    awaiting, manager, client_for
):
    approve = _emailed_links(manager)["approved"]
    client = client_for(manager)
    page = client.get(approve)
    assert page.status_code == 200
    assert re.search(r'value="approved" required checked', page.content.decode())
    assert _status(awaiting) == Status.AWAITING
    assert client.post(approve, {"decision": "approved"}).status_code == 302
    assert _status(awaiting) == Status.NEW


def test_a_replayed_link_is_refused_and_changes_nothing(awaiting, manager, client_for):
    links_ = _emailed_links(manager)
    client = client_for(manager)
    client.post(links_["approved"], {"decision": "approved"})
    for url in links_.values():
        assert client.get(url).status_code == 409
        response = client.post(url, {"decision": "rejected", "comment": "changed my mind"})
        assert response.status_code == 409
    assert Approver.objects.get().decision == "approved"
    assert _status(awaiting) == Status.NEW


@pytest.mark.parametrize("who", ["requester", "agent", "admin", "outsider"])
def test_a_link_opened_by_someone_else_is_refused(who, awaiting, manager, personas, client_for):
    approve = _emailed_links(manager)["approved"]
    client = client_for(getattr(personas, who))
    assert client.get(approve).status_code == 403
    assert client.post(approve, {"decision": "approved"}).status_code == 403
    assert _status(awaiting) == Status.AWAITING


def test_forged_and_altered_links_are_refused(awaiting, manager, client_for):
    row = Approver.objects.get()
    forged = signing.dumps({"a": row.pk, "u": manager.pk, "d": "approved"}, salt="other")
    approve = _emailed_links(manager)["approved"]
    altered = approve[:-3] + ("AAA" if not approve.endswith("AAA") else "BBB")
    client = client_for(manager)
    for url in (f"/approvals/link/{forged}", altered, "/approvals/link/nonsense"):
        assert client.post(url, {"decision": "approved"}).status_code == 400
    assert _status(awaiting) == Status.AWAITING


def test_an_expired_link_is_refused(awaiting, manager, client_for, settings):
    settings.APPROVAL_LINK_DAYS = 7
    approve = _emailed_links(manager)["approved"]
    later = dt.datetime.now(dt.UTC).timestamp() + 8 * 86400
    with mock.patch("time.time", return_value=later):
        response = client_for(manager).post(approve, {"decision": "approved"})
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert _status(awaiting) == Status.AWAITING


def test_a_link_for_a_step_another_approver_decided_is_refused(
    raise_ticket, rule, personas, client_for
):
    from portal.approvals.tests.conftest import Approvers

    rule(Approvers.USERS, users=[personas.lead, personas.spoc])
    ticket = raise_ticket()
    lead_row = Approver.objects.get(user=personas.lead)
    url = links.link_path(lead_row.pk, personas.lead.pk, "rejected")
    client_for(personas.spoc).post(f"/approvals/{_step(ticket).pk}", {"decision": "approved"})
    response = client_for(personas.lead).post(url, {"decision": "rejected", "comment": "no"})
    assert response.status_code == 409
    assert _status(ticket) == Status.NEW

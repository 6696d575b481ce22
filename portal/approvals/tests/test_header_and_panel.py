"""The header's Approvals link (with its count, from the cache) for people with approvals
waiting, and the approval panel of the ticket page: the steps, who must decide, the
decisions so far; the approver decides there through the approval's own view. Nobody sees
a ticket page they could not see before."""

import datetime as dt

import pytest
from django.utils import timezone

from portal.approvals import access, services
from portal.approvals.models import ApprovalStep
from portal.catalog.models import ApprovalRule
from portal.tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db
Approvers, Mode = ApprovalRule.Approvers, ApprovalRule.Mode
HEADER = "waiting for you</span>"


def _header_count(client) -> int | None:
    """The count the header shows (None: no Approvals link)."""
    page = client.get("/dashboard").content.decode()
    if HEADER not in page:
        return None
    before = page[: page.index(HEADER)]
    return int(
        before[before.rindex('<span class="tag">') + len('<span class="tag">') :].split("<")[0]
    )


def test_the_header_links_approvals_with_a_count_for_those_with_some_waiting(
    awaiting, raise_ticket, manager, personas, client_for
):
    raise_ticket(title="Second laptop")
    assert _header_count(client_for(manager)) == 2
    for name in ("requester", "agent", "lead", "spoc", "admin", "outsider"):
        assert _header_count(client_for(getattr(personas, name))) is None, name


def test_a_delegate_of_the_day_sees_the_count_and_it_goes_when_the_approval_is_decided(
    awaiting, manager, personas, client_for
):
    lead, mia = client_for(personas.lead), client_for(manager)
    assert _header_count(lead) is None  # cached: nothing waits for the lead
    today = timezone.localdate()
    services.delegation_set(
        actor=manager, user=manager, delegate=personas.lead, starts_on=today, ends_on=today
    )
    assert _header_count(lead) == 1
    assert _header_count(mia) == 1
    services.approval_decide(
        actor=personas.lead, step_id=ApprovalStep.objects.get(ticket=awaiting).pk,
        decision="approved", comment="",
    )  # fmt: skip
    assert (_header_count(lead), _header_count(mia)) == (None, None)


def test_a_delegation_that_starts_tomorrow_does_not_count_today(awaiting, manager, personas):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    services.delegation_set(
        actor=manager, user=manager, delegate=personas.lead, starts_on=tomorrow, ends_on=tomorrow
    )
    assert access.pending_count(personas.lead) == 0


def test_the_count_costs_one_query_then_none_until_an_approval_changes(
    awaiting, manager, personas, django_assert_num_queries
):
    with django_assert_num_queries(1):
        assert access.pending_count(manager) == 1
    with django_assert_num_queries(0):
        assert access.pending_count(manager) == 1
    services.approvals_skip(ticket_id=awaiting.pk)
    assert access.pending_count(manager) == 0


def test_a_page_of_an_approver_gains_no_query_for_the_header(
    awaiting, manager, personas, client_for, django_assert_num_queries
):
    client = client_for(manager)
    client.get("/approvals/delegations")  # warm: session refresh, roles, bell, the count
    # the session with its user; the delegations the page lists. The header's roles, bell
    # and approvals count come from the cache.
    with django_assert_num_queries(2):
        response = client.get("/approvals/delegations")
    assert HEADER in response.content.decode()


# --- The ticket page's panel ------------------------------------------------------------


@pytest.fixture
def spoc_awaiting(rule, raise_ticket, personas):
    """The requester's laptop ticket waiting for two named approvers, the SPOC (who sees
    the ticket: it is in their group) and the lead (who does not: no team has it yet)."""
    rule(Approvers.USERS, mode=Mode.ALL, users=[personas.spoc, personas.lead])
    return raise_ticket()


# Who opens the ticket page of the awaiting ticket, whether the panel is there, and
# whether it offers a decision.
PANEL_MATRIX = {
    "requester": (200, True, False),  # their own request: its state, never a decision
    "spoc": (200, True, True),  # an approver who sees the ticket
    "admin": (200, True, False),  # sees every ticket; no part in this approval
    "lead": (404, False, False),  # an approver who does not see the ticket: /approvals
    "agent": (404, False, False),
    "outsider": (404, False, False),
}


@pytest.mark.parametrize(("who", "expected"), PANEL_MATRIX.items())
def test_the_ticket_page_panel_permission_matrix(
    who, expected, spoc_awaiting, personas, client_for
):
    response = client_for(getattr(personas, who)).get(f"/tickets/{spoc_awaiting.number}")
    page = response.content.decode()
    step = ApprovalStep.objects.get(ticket=spoc_awaiting)
    assert (
        response.status_code,
        'id="approval-heading"' in page,
        f'action="/approvals/{step.pk}"' in page,
    ) == expected


def test_the_panel_shows_who_must_decide_and_the_decisions_so_far(
    spoc_awaiting, personas, client_for
):
    step = ApprovalStep.objects.get(ticket=spoc_awaiting)
    response = client_for(personas.spoc).post(
        f"/approvals/{step.pk}",
        {"decision": "approved", "comment": "Budget is fine", "next": "ticket"},
    )
    # Back to the ticket page the decision was made on.
    assert (
        response.status_code == 302 and response["Location"] == f"/tickets/{spoc_awaiting.number}"
    )
    page = client_for(personas.requester).get(f"/tickets/{spoc_awaiting.number}").content.decode()
    assert "Budget is fine" in page
    assert f"{personas.lead}: <em>must decide</em>" in page
    assert f"{personas.spoc}: approved" in page
    # The SPOC decided their part: no form for them any more.
    page = client_for(personas.spoc).get(f"/tickets/{spoc_awaiting.number}").content.decode()
    assert 'id="approval-decision"' not in page


def test_the_last_approval_from_the_panel_routes_the_ticket_and_the_panel_goes(
    rule, raise_ticket, personas, client_for
):
    rule(Approvers.SPOC)
    ticket = raise_ticket()
    step = ApprovalStep.objects.get(ticket=ticket)
    client = client_for(personas.spoc)
    response = client.post(f"/approvals/{step.pk}", {"decision": "approved", "next": "ticket"})
    assert response["Location"] == f"/tickets/{ticket.number}"
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW
    assert 'id="approval-heading"' not in client.get(response["Location"]).content.decode()


def test_next_ticket_goes_to_the_list_when_the_approver_cannot_see_the_ticket(
    spoc_awaiting, personas, client_for
):
    step = ApprovalStep.objects.get(ticket=spoc_awaiting)
    response = client_for(personas.lead).post(
        f"/approvals/{step.pk}", {"decision": "approved", "next": "ticket"}
    )
    assert response["Location"] == "/approvals"


def test_a_requester_posting_the_panels_form_is_refused_and_nothing_changes(
    spoc_awaiting, personas, client_for
):
    step = ApprovalStep.objects.get(ticket=spoc_awaiting)
    response = client_for(personas.requester).post(
        f"/approvals/{step.pk}", {"decision": "approved", "next": "ticket"}
    )
    assert response.status_code == 404
    assert not step.approvers.exclude(decision="").exists()


def test_the_panel_costs_three_queries(spoc_awaiting, personas, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(personas.spoc)
    client.get(f"/tickets/{spoc_awaiting.number}")  # warm
    with CaptureQueriesContext(connection) as awaiting_page:
        client.get(f"/tickets/{spoc_awaiting.number}")
    panel = [q["sql"] for q in awaiting_page.captured_queries if "approvals_" in q["sql"]]
    # The steps, their approvers (people joined), the delegations the viewer stands in for.
    assert len(panel) == 3, panel

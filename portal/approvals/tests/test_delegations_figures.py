"""Delegations (set by the approver or an admin, for a date range) and the approval
figures per category (admins; CSV)."""

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from portal.approvals import services
from portal.approvals.models import ApprovalStep, Delegation

pytestmark = pytest.mark.django_db


def _form(delegate="lead@example.com", user="", days=3):
    today = timezone.localdate()
    return {
        "user": user,
        "delegate": delegate,
        "starts_on": today.isoformat(),
        "ends_on": (today + dt.timedelta(days=days)).isoformat(),
    }


# Setting a delegate for oneself, then for someone else: only admins set others'.
DELEGATION_MATRIX = {
    "requester": (302, 403),
    "agent": (302, 403),
    "spoc": (302, 403),
    "admin": (302, 302),
    "outsider": (302, 403),
}


@pytest.mark.parametrize(("who", "expected"), DELEGATION_MATRIX.items())
def test_delegation_permission_matrix(who, expected, personas, client_for):
    actor = getattr(personas, who)
    client = client_for(actor)
    delegate = "lead@example.com"
    assert client.post("/approvals/delegations", _form(delegate)).status_code == expected[0]
    assert Delegation.objects.filter(user=actor, delegate=personas.lead).exists()
    other = _form(
        delegate, user="requester@example.com" if who != "requester" else "agent@example.com"
    )
    response = client.post("/approvals/delegations", other)
    assert response.status_code == expected[1]
    assert Delegation.objects.count() == (2 if expected[1] == 302 else 1)


def test_ending_a_delegation_is_for_the_approver_or_an_admin(personas, client_for):
    today = timezone.localdate()
    delegation = services.delegation_set(
        actor=personas.requester, user=personas.requester, delegate=personas.lead,
        starts_on=today + dt.timedelta(days=1), ends_on=today + dt.timedelta(days=2),
    )  # fmt: skip
    url = f"/approvals/delegations/{delegation.pk}/end"
    assert client_for(personas.lead).post(url).status_code == 403  # the delegate cannot
    assert client_for(personas.outsider).post(url).status_code == 403
    assert Delegation.objects.filter(pk=delegation.pk).exists()
    assert client_for(personas.requester).post(url).status_code == 302
    assert not Delegation.objects.filter(pk=delegation.pk).exists()  # it had not started


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"delegate": "requester@example.com"}, "Choose someone else"),
        ({"delegate": "ghost@example.com"}, "Nobody has that email"),
        ({"ends_on": "2000-01-01"}, "The end is before the start"),
    ],
)
def test_bad_delegations_are_refused_and_nothing_is_written(change, field, personas, client_for):
    response = client_for(personas.requester).post("/approvals/delegations", {**_form(), **change})
    assert response.status_code == 400
    assert field in response.content.decode()
    assert not Delegation.objects.exists()


def test_overlapping_delegations_of_one_person_are_refused(personas, client_for):
    client = client_for(personas.requester)
    client.post("/approvals/delegations", _form())
    response = client.post("/approvals/delegations", _form("agent@example.com", days=1))
    assert response.status_code == 400
    assert "overlap" in response.content.decode()
    assert Delegation.objects.count() == 1


FIGURES_MATRIX = {
    "admin": 200, "spoc": 200, "lead": 403, "agent": 403, "requester": 403, "outsider": 403,
}  # fmt: skip


@pytest.mark.parametrize(("who", "status"), FIGURES_MATRIX.items())
@pytest.mark.parametrize("url", ["/analytics/approvals", "/analytics/approvals.csv"])
def test_figures_are_for_admins_and_spocs(who, status, url, org, personas, client_for):
    assert client_for(getattr(personas, who)).get(url).status_code == status


def test_anonymous_visitors_are_sent_to_sign_in_for_the_figures(client):
    for url in ("/analytics/approvals", "/analytics/approvals.csv"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login")


def test_a_spoc_sees_the_figures_of_their_own_groups_only(
    raise_ticket, rule, manager, personas, org, client_for
):
    from portal.approvals.tests.conftest import Approvers
    from portal.catalog import approval_rule_services

    rule(Approvers.MANAGER)
    approval_rule_services.approval_rule_create(
        category=org.payroll, approvers=Approvers.MANAGER, position=1
    )
    hardware = raise_ticket()  # group X: the SPOC's
    payroll = raise_ticket(group=org.group_y, category=org.payroll, subcategory=None)
    for ticket in (hardware, payroll):
        step = ApprovalStep.objects.get(ticket=ticket)
        services.approval_decide(actor=manager, step_id=step.pk, decision="approved")

    def table(who):
        response = client_for(who).get("/analytics/approvals.csv")
        return [row[0] for row in csv.reader(io.StringIO(response.content.decode()))][1:]

    assert table(personas.admin) == ["Group X / Hardware", "Group Y / Payroll"]
    assert table(personas.spoc) == ["Group X / Hardware"]
    page = client_for(personas.spoc).get("/analytics/approvals").content.decode()
    assert "Group X / Hardware" in page and "Payroll" not in page
    assert "groups you are SPOC of" in page


def test_figures_count_outcomes_rate_and_hours_per_category(
    raise_ticket, rule, manager, personas, client_for
):
    from portal.approvals.tests.conftest import Approvers

    rule(Approvers.MANAGER)
    approved, rejected = raise_ticket(), raise_ticket()
    for ticket, decision in ((approved, "approved"), (rejected, "rejected")):
        step = ApprovalStep.objects.get(ticket=ticket)
        services.approval_decide(
            actor=manager, step_id=step.pk, decision=decision, comment="reason"
        )
    # Approved three hours after it was asked.
    step = ApprovalStep.objects.get(ticket=approved)
    ApprovalStep.objects.filter(pk=step.pk).update(
        created_at=step.decided_at - dt.timedelta(hours=3)
    )
    response = client_for(personas.admin).get("/analytics/approvals.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["category", "approved", "rejected", "total", "approval %", "hours to approval"],
        ["Group X / Hardware", "1", "1", "2", "50", "3.0"],
    ]


def test_a_bad_period_is_a_clear_400(personas, client_for):
    response = client_for(personas.admin).get("/analytics/approvals?from=yesterday")
    assert response.status_code == 400
    assert "is not a date" in response.content.decode()


@pytest.mark.parametrize(
    ("who", "sees"),
    [("requester", True), ("lead", True), ("admin", True), ("agent", False), ("spoc", False)],
)
def test_the_delegations_page_lists_a_delegation_to_its_two_people_and_admins_only(
    who, sees, personas, client_for
):
    client_for(personas.requester).post("/approvals/delegations", _form())
    response = client_for(getattr(personas, who)).get("/approvals/delegations")
    shown = [(d.user, d.delegate) for d in response.context["delegations"]]
    assert shown == ([(personas.requester, personas.lead)] if sees else [])

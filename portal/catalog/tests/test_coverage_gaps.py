"""Gaps you can see before they bite: coverage counts people, master data warns."""

import pytest

from portal.catalog import coverage
from portal.catalog.models import ClassificationMapping, Subcategory, Team, TeamMember

pytestmark = pytest.mark.django_db


def test_a_route_to_a_team_with_nobody_in_it_is_a_gap(org, personas, client_for):
    # Group X's two are routed to team A (staffed); Group Y's Payroll to team B (nobody).
    ClassificationMapping.objects.create(category=org.payroll, team=org.team_b)
    assert coverage.summary() == coverage.Summary(combinations=3, gaps=1)
    assert coverage.summary().percent == 66
    page = client_for(personas.admin).get("/masters/coverage").content.decode()
    assert "Mapped to Team B, which has no active members" in page
    assert "66% covered" in page

    TeamMember.objects.create(team=org.team_b, user=personas.outsider)
    assert coverage.summary() == coverage.Summary(combinations=3, gaps=0)


def test_members_with_deactivated_accounts_do_not_count(org, personas):
    TeamMember.objects.filter(team=org.team_a, user=personas.agent).update(is_active=False)
    assert coverage.summary().gaps == 1  # Payroll (unmapped) only: the lead remains
    personas.lead.is_active = False
    personas.lead.save(update_fields=["is_active"])
    assert coverage.summary() == coverage.Summary(combinations=3, gaps=3)


def test_a_subcategorys_own_route_to_an_empty_team_is_a_gap_despite_the_categorys(org):
    # find_mapping takes the subcategory's own route to team B: the ticket would wait there.
    ClassificationMapping.objects.create(
        category=org.hardware, subcategory=org.printer, team=org.team_b
    )
    [gap] = coverage.subcategory_gaps()
    assert (gap, gap.routed_team) == (org.printer, "Team B")


def test_the_report_lists_teams_without_members_groups_without_spoc_and_dead_routes(
    org, personas, client_for
):
    old = Team.objects.create(name="Old team", is_active=False)
    ClassificationMapping.objects.create(category=org.payroll, team=old)
    page = client_for(personas.admin).get("/masters/coverage").content.decode()
    assert "Teams with no active member (1)" in page and "Team B" in page
    assert "Groups with no SPOC (1)" in page and "Group Y" in page
    assert "nobody is on triage duty" in page
    assert "Mappings to inactive teams (1)" in page
    assert "Group Y / Payroll / any subcategory → Old team" in page
    assert "Mapped to Old team, which is inactive" in page


def test_the_triage_rule_sees_every_kind_of_gap(org, personas):
    assert coverage.first_gap() == "Group Y / Payroll reaches no team member"
    ClassificationMapping.objects.create(category=org.payroll, team=org.team_a)
    assert coverage.first_gap() == "Team B has no active members"
    org.team_b.is_active = False
    org.team_b.save(update_fields=["is_active"])
    assert coverage.first_gap() == "Group Y has no SPOC"
    org.group_y.spocs.add(personas.spoc)
    assert coverage.first_gap() == ""


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_removing_the_last_member_warns_of_the_gap_it_creates(org, personas, client_for):
    admin = client_for(personas.admin)
    agent = TeamMember.objects.get(team=org.team_a, user=personas.agent)
    lead = TeamMember.objects.get(team=org.team_a, user=personas.lead)
    response = admin.post(f"/teams/{org.team_a.pk}/members/{agent.pk}/remove", follow=True)
    assert not [m for m in messages_of(response) if "gap" in m]  # the lead remains
    response = admin.post(f"/teams/{org.team_a.pk}/members/{lead.pk}/remove", follow=True)
    warnings = [m for m in messages_of(response) if m.startswith("This leaves a gap")]
    assert warnings == [
        "This leaves a gap: Team A has no active members. Tickets there wait for the group's "
        "SPOC, or the admins on triage duty; the coverage report lists every gap.",
        "This leaves a gap: 2 more combinations now reach no team member (3 in all). Tickets "
        "there wait for the group's SPOC, or the admins on triage duty; the coverage report "
        "lists every gap.",
    ]


def test_removing_the_last_spoc_on_the_masters_screen_warns(org, personas, client_for):
    response = client_for(personas.admin).post(
        f"/masters/groups/{org.group_x.pk}",
        {"name": "Group X", "code": "X", "spocs": ""},
        follow=True,
    )
    assert response.status_code == 200
    assert any("This leaves a gap: Group X has no SPOC." in m for m in messages_of(response))


def test_deactivating_a_mapped_team_warns_of_the_dead_route(org, personas, client_for):
    response = client_for(personas.admin).post(
        f"/masters/teams/{org.team_a.pk}/deactivate", follow=True
    )
    text = " ".join(messages_of(response))
    assert "Group X / Hardware / any subcategory is mapped to Team A, which is inactive" in text


def test_a_refused_change_warns_of_nothing(org, personas, client_for):
    Subcategory.objects.create(category=org.payroll, name="Payslip")
    response = client_for(personas.admin).post(
        f"/masters/teams/{org.team_a.pk}/delete", follow=True
    )
    assert not [m for m in messages_of(response) if "gap" in m]
    assert Team.objects.filter(pk=org.team_a.pk).exists()

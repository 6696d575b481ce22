"""The demo organisation `make run` shows: every team staffed, every group with a SPOC,
and every first ticket reaching a person except in the one explained gap."""

import pytest

from portal.accounts.models import User
from portal.catalog import coverage, demo
from portal.catalog.models import BusinessUnitGroup, Category, Team, TeamMember
from portal.core.demo import load_demo_users

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisation():
    users = {user.email: user for user in load_demo_users()}
    demo.load(users)
    return users


def test_every_demo_team_has_an_active_lead_and_an_agent(organisation):
    for team in Team.objects.all():
        roles = set(
            TeamMember.objects.filter(team=team, is_active=True).values_list("role", flat=True)
        )
        assert roles == {TeamMember.Role.LEAD, TeamMember.Role.MEMBER}, team.name


def test_every_demo_group_has_a_spoc(organisation):
    assert not BusinessUnitGroup.objects.filter(spocs__isnull=True).exists()


def test_the_demo_keeps_exactly_one_explained_coverage_gap(organisation):
    assert coverage.summary().gaps == 1
    [gap] = coverage.category_gaps()
    assert (gap.group.name, gap.name) == demo.GAP
    assert "Audio-visual" in demo.__doc__


def test_a_newcomers_first_ticket_in_every_demo_category_is_assigned_to_a_person(
    organisation,
):
    """One ticket per combination a requester can choose (each subcategory, and the
    category with no subcategory), raised through the service by someone new."""
    import datetime as dt
    import random

    from portal.catalog import request_forms
    from portal.tickets.demo import sample_answers
    from portal.tickets.services import ticket_create

    newcomer = User.objects.create_user("newcomer@example.com", "x-long-password-1")
    unassigned = []
    for category in Category.objects.select_related("group").prefetch_related("subcategories"):
        for sub in [None, *category.subcategories.all()]:
            ticket = ticket_create(
                requester=newcomer,
                title="My first ticket",
                description="Hello.",
                group=category.group,
                category=category,
                subcategory=sub,
                form_values=sample_answers(
                    request_forms.form_for(category.pk, sub and sub.pk),
                    random.Random(0),
                    dt.date(2026, 6, 1),
                ),
            )
            if ticket.status == "awaiting":  # it reaches its approvers first (named people)
                steps = ticket.approval_steps.filter(state="pending", approvers__isnull=False)
                assert steps.exists(), (category.name, sub and sub.name)
                continue
            if ticket.assignee_id is None:
                unassigned.append((category.group.name, category.name, sub and sub.name))
    assert unassigned == [(*demo.GAP, None)]


def test_a_demo_loaded_before_groups_had_spocs_gets_them(organisation):
    from portal.catalog import services

    hr = BusinessUnitGroup.objects.get(name="Human Resources")
    services.group_update(group=hr, name=hr.name, code=hr.code, spocs=[])

    demo.load(organisation)

    assert list(hr.spocs.values_list("email", flat=True)) == ["hr.lead@example.com"]


def test_the_demo_has_request_forms_and_loading_again_adds_none(organisation):
    from portal.catalog import request_forms
    from portal.catalog.models import FormField, Subcategory

    hardware = Category.objects.get(group__code="IT", name="Hardware")
    laptop = hardware.subcategories.get(name="Laptop")
    keys = [f.key for f in request_forms.form_for(hardware.pk, laptop.pk).fields]
    assert keys == ["asset_tag", "cost_centre", "needed_by"]
    payroll = Category.objects.get(name="Payroll", group__name="Human Resources")
    assert [f.key for f in request_forms.form_for(payroll.pk).fields] == [
        "month", "amount", "direction",
    ]  # fmt: skip
    badge = Subcategory.objects.get(name="Badge")
    assert "sites" in [f.key for f in request_forms.form_for(badge.category_id, badge.pk).fields]
    count = FormField.objects.count()
    demo.load(organisation)
    assert FormField.objects.count() == count

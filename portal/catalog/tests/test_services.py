"""The master-data services, the role provider, and an export → import property."""

import io

import pytest
from django import forms
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.accounts.roles import user_roles
from portal.catalog import services
from portal.catalog.exporting import catalog_export
from portal.catalog.forms import ClassificationFormMixin
from portal.catalog.importing import catalog_import_plan
from portal.catalog.models import (
    BusinessUnitGroup,
    Category,
    ClassificationMapping,
    Subcategory,
    Team,
    TeamMember,
    name_key,
)
from portal.catalog.selectors import find_mapping

pytestmark = pytest.mark.django_db


def test_roles_take_two_queries_however_many_groups_and_teams(
    org, personas, django_assert_num_queries
):
    for i in range(5):
        team = services.team_create(name=f"Extra {i}")
        services.team_member_add(team=team, user=personas.lead, role=TeamMember.Role.LEAD)
        services.group_create(name=f"G{i}", code=f"G{i}", spocs=[personas.lead])
    with django_assert_num_queries(2):  # SPOC groups; active memberships of active teams
        roles = user_roles(personas.lead)
    assert len(roles.lead_team_ids) == 6 and len(roles.spoc_group_ids) == 5
    assert roles.names == ["spoc", "lead", "agent", "requester"]


def test_a_deactivated_team_no_longer_makes_its_members_agents(org, personas):
    services.team_deactivate(team=org.team_a)
    assert not user_roles(type(personas.agent).objects.get(pk=personas.agent.pk)).is_agent
    services.team_reactivate(team=org.team_a)
    assert user_roles(type(personas.agent).objects.get(pk=personas.agent.pk)).is_agent


def test_deactivate_and_reactivate_keep_the_item(org):
    services.category_deactivate(category=org.hardware)
    org.hardware.refresh_from_db()
    assert org.hardware.is_active is False
    services.category_reactivate(category=org.hardware)
    org.hardware.refresh_from_db()
    assert org.hardware.is_active is True


def test_delete_in_use_is_refused_and_names_the_users(org):
    with pytest.raises(ValidationError) as caught:
        services.group_delete(group=org.group_x)
    assert caught.value.messages == [
        "“Group X” cannot be deleted: it is used by 1 category. Deactivate the group "
        "instead; existing tickets keep it."
    ]
    services.subcategory_delete(subcategory=org.printer)
    assert not Subcategory.objects.filter(pk=org.printer.pk).exists()


def test_names_with_invisible_characters_are_refused(org):
    with pytest.raises(ValidationError, match="control or invisible"):
        services.category_create(group=org.group_x, name="Hard\u200bware")
    with pytest.raises(ValidationError, match="already has a category"):
        services.category_create(group=org.group_x, name=" HARDWARE ")


def test_group_codes_are_unique_and_upper_case(org):
    with pytest.raises(ValidationError, match="already used by another group"):
        services.group_create(name="Xtra", code="x")
    assert services.group_create(name="Xtra", code="xt-1").code == "XT-1"


def test_a_former_member_rejoins_with_the_new_role(org, personas):
    member = org.team_a.members.get(user=personas.agent)
    services.team_member_deactivate(member=member)
    again = services.team_member_add(team=org.team_a, user=personas.agent, role="lead")
    assert (again.pk, again.role, again.is_active) == (member.pk, "lead", True)
    with pytest.raises(ValidationError, match="already a member"):
        services.team_member_add(team=org.team_a, user=personas.agent)


def test_a_second_mapping_for_the_same_key_is_refused(org):
    with pytest.raises(ValidationError, match="already mapped to Team A"):
        services.mapping_create(category=org.hardware, subcategory=None, team=org.team_b)


def test_the_most_specific_mapping_wins(org):
    services.mapping_create(category=org.hardware, subcategory=org.laptop, team=org.team_b)
    laptop = find_mapping(category_id=org.hardware.pk, subcategory_id=org.laptop.pk)
    printer = find_mapping(category_id=org.hardware.pk, subcategory_id=org.printer.pk)
    assert (laptop.team, printer.team) == (org.team_b, org.team_a)


# Names people really type: letters, digits, spaces, punctuation, accents, and the
# characters that start a spreadsheet formula.
NAME = st.text(
    alphabet=st.sampled_from(list("abcXYZ éß01 =+-@&/()'\"")), min_size=1, max_size=20
).filter(lambda s: s.strip())


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    tree=st.dictionaries(
        NAME, st.dictionaries(NAME, st.lists(NAME, max_size=3), max_size=3), min_size=1, max_size=3
    ),
    team_names=st.lists(NAME, min_size=1, max_size=3),
    data=st.data(),
)
def test_any_catalogue_exports_and_imports_back_with_no_changes(db, tree, team_names, data):
    # Examples share one test transaction: start each from an empty catalogue.
    for model in (ClassificationMapping, Subcategory, Category, BusinessUnitGroup, Team):
        model.objects.all().delete()
    teams = []
    for name in team_names:
        if not Team.objects.filter(name_key=name_key(name)).exists():
            teams.append(services.team_create(name=name))
    teams = teams or list(Team.objects.all())
    for n, (group_name, categories) in enumerate(tree.items()):
        if BusinessUnitGroup.objects.filter(name_key=name_key(group_name)).exists():
            continue
        group = services.group_create(
            name=group_name, code=f"P{n}-{BusinessUnitGroup.objects.count()}"
        )
        for category_name, sub_names in categories.items():
            if group.categories.filter(name_key=name_key(category_name)).exists():
                continue
            category = services.category_create(group=group, name=category_name)
            if data.draw(st.booleans()):
                services.mapping_create(
                    category=category,
                    subcategory=None,
                    team=data.draw(st.sampled_from(teams)),
                    default_priority=data.draw(st.sampled_from(["", "low", "urgent"])),
                )
            for sub_name in sub_names:
                if category.subcategories.filter(name_key=name_key(sub_name)).exists():
                    continue
                sub = services.subcategory_create(
                    category=category, name=sub_name, is_active=data.draw(st.booleans())
                )
                if data.draw(st.booleans()):
                    services.mapping_create(
                        category=category, subcategory=sub, team=data.draw(st.sampled_from(teams))
                    )
    buffer = io.BytesIO()
    rows = catalog_export(buffer)
    plan = catalog_import_plan(buffer.getvalue())
    assert plan.errors == []
    assert plan.row_counts == {"create": 0, "update": 0, "unchanged": rows}
    assert rows >= len(tree)


class _TicketLikeForm(ClassificationFormMixin, forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_classification_fields()


def test_a_deactivated_category_is_kept_on_an_existing_ticket_but_not_offered_anew(org):
    services.subcategory_deactivate(subcategory=org.printer)
    current = {"group": org.group_x.pk, "category": org.hardware.pk, "subcategory": org.printer.pk}
    data = {k: str(v) for k, v in current.items()}

    editing = _TicketLikeForm(data, initial=current)
    assert editing.is_valid(), editing.errors
    assert editing.cleaned_data["subcategory"] == org.printer

    raising = _TicketLikeForm(data)
    assert not raising.is_valid()
    assert "subcategory" in raising.errors
    assert list(
        _TicketLikeForm(initial={"group": org.group_x.pk, "category": org.hardware.pk})
        .fields["subcategory"]
        .queryset
    ) == [org.laptop]

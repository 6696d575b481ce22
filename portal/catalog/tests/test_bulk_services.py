"""The write paths the Excel import uses: `services.catalog_bulk_save` (the same rules as
the single-object services, in a number of statements that does not grow with the rows),
the import's name errors coming from the services' one rule, and the pending previews."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from portal.catalog import services
from portal.catalog.importing import ImportConflict, catalog_import_apply, catalog_import_plan
from portal.catalog.models import (
    BusinessUnitGroup,
    Category,
    ClassificationMapping,
    PendingImport,
    Subcategory,
    Team,
)
from portal.catalog.tests.helpers import snapshot
from portal.catalog.tests.workbooks import xlsx
from portal.lib.errors import Conflict

pytestmark = pytest.mark.django_db


def new_tree(subcategories: int):
    team = Team(name="  Field   Engineers ")
    group = BusinessUnitGroup(name="Facilities", code="fac")
    category = Category(group=group, name="Furniture")
    subs = [Subcategory(category=category, name=f"Item {n}") for n in range(subcategories)]
    mappings = [ClassificationMapping(category=category, subcategory=s, team=team) for s in subs]
    return team, group, category, subs, mappings


@pytest.mark.parametrize("subcategories", [2, 50])
def test_bulk_save_writes_a_new_tree_in_a_fixed_number_of_statements(
    personas, django_assert_num_queries, subcategories
):
    team, group, category, subs, mappings = new_tree(subcategories)
    # 2 savepoints and their 2 releases; one INSERT each for teams, groups, categories,
    # subcategories and mappings; the groups' SPOC rows read (a SPOC removed re-routes the
    # tickets waiting for them), deleted and inserted.
    with django_assert_num_queries(12):
        services.catalog_bulk_save(
            teams=[team],
            groups=[group],
            categories=[category],
            subcategories=subs,
            mappings=mappings,
            group_spocs=[(group, [personas.spoc.pk])],
        )
    facilities = BusinessUnitGroup.objects.get(name="Facilities")
    assert (facilities.code, facilities.name_key) == ("FAC", "facilities")
    assert list(facilities.spocs.all()) == [personas.spoc]
    assert Team.objects.get(name_key="field engineers").name == "Field Engineers"
    assert ClassificationMapping.objects.filter(team__name="Field Engineers").count() == (
        subcategories
    )


def test_bulk_save_applies_the_services_rules_and_writes_nothing_on_a_bad_object(personas):
    team, group, category, subs, mappings = new_tree(2)
    subs[1].name = "Zero\u200bwidth"
    before = snapshot()
    with pytest.raises(ValidationError, match="control or invisible characters"):
        services.catalog_bulk_save(
            teams=[team], groups=[group], categories=[category], subcategories=subs
        )
    assert snapshot() == before

    team, group, category, subs, mappings = new_tree(1)
    mappings[0].default_priority = "whenever"
    with pytest.raises(ValidationError, match="Choose a priority"):
        services.catalog_bulk_save(
            teams=[team],
            groups=[group],
            categories=[category],
            subcategories=subs,
            mappings=mappings,
        )
    assert snapshot() == before


def test_bulk_save_turns_a_concurrent_name_clash_into_a_conflict(org):
    before = snapshot()
    clash = Team(name="team a")  # created by someone else since the caller loaded the teams
    with pytest.raises(Conflict, match="saved at the same moment"):
        services.catalog_bulk_save(teams=[Team(name="Brand new"), clash])
    assert snapshot() == before


def test_an_import_that_meets_a_concurrent_edit_is_a_conflict_and_writes_nothing(org):
    data = xlsx([["Group X", "Hardware", "Dock", "Team C"]])
    plan = catalog_import_plan(data)
    assert plan.counts["teams_created"] == 1
    Team.objects.create(name="Team C")  # saved by someone else after the plan was made
    original = services.catalog_bulk_save

    def write_the_stale_plan(**kwargs):  # as if the apply had planned before Team C existed
        return original(**{**kwargs, "teams": plan.writes["teams"].values()})

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("portal.catalog.importing.catalog_bulk_save", write_the_stale_plan)
        with pytest.raises(ImportConflict, match=r"same moment; try again\. Nothing was saved"):
            catalog_import_apply(data)
    assert not Subcategory.objects.filter(name="Dock").exists()


def test_the_imports_name_errors_are_the_services_messages(org):
    plan = catalog_import_plan(xlsx([["Group X", "Hardware", "x" * 121, "Team\u200bA"]]))
    assert [(e.column, e.message) for e in plan.errors] == [
        ("Subcategory", "The subcategory name is too long (120 characters at most)."),
        ("Team", "Names cannot contain control or invisible characters."),
    ]


def test_a_new_preview_replaces_the_admins_previous_one_and_sweeps_day_old_ones(personas):
    other = type(personas.admin).objects.create_user(
        "admin2@example.com", None, full_name="Admin Two", is_staff=True
    )
    first = services.pending_import_create(user=personas.admin, filename="a.xlsx", content=b"1")
    kept = services.pending_import_create(user=other, filename="kept.xlsx", content=b"2")
    stale = services.pending_import_create(user=other, filename="stale.xlsx", content=b"3")
    PendingImport.objects.filter(pk=stale.pk).update(
        created_at=timezone.now() - timedelta(days=1, minutes=1)
    )
    second = services.pending_import_create(
        user=personas.admin, filename="b.xlsx", content=b"4", replaces=first.token
    )
    assert sorted(PendingImport.objects.values_list("filename", flat=True)) == [
        "b.xlsx",
        "kept.xlsx",
    ]
    assert second.token != first.token and len(second.token) >= 40
    services.pending_import_delete(pending=second)
    assert list(PendingImport.objects.values_list("filename", flat=True)) == [kept.filename]

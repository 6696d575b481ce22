"""The group → category → subcategory fields build their options only when drawn."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.catalog.forms import MappingForm

pytestmark = pytest.mark.django_db


def _posted(org, **extra) -> dict:
    return {"group": org.group_x.pk, "category": org.hardware.pk, **extra}


def test_a_form_that_is_only_checked_builds_no_options(org):
    form = MappingForm(_posted(org, team=org.team_a.pk))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["category"] == org.hardware
    for name in ("group", "category", "subcategory"):
        assert form.fields[name]._queryset is None, name


def test_a_drawn_form_offers_the_active_items_of_the_chosen_parents(org):
    form = MappingForm(initial=_posted(org))  # a page opened with the choice made
    with CaptureQueriesContext(connection) as queries:
        html = str(form["category"])
    assert len(queries) == 1  # the categories of the chosen group, when drawn
    assert f'<option value="{org.hardware.pk}" selected>' in html
    assert set(form.fields["category"].queryset) == set(
        org.group_x.categories.filter(is_active=True)
    )
    subcategories = list(form.fields["subcategory"].queryset)
    assert subcategories and {s.category_id for s in subcategories} == {org.hardware.pk}


def test_without_a_parent_a_select_offers_nothing_and_a_queryset_set_replaces_the_offer(org):
    form = MappingForm({})
    assert list(form.fields["category"].queryset) == []
    assert list(form.fields["subcategory"].queryset) == []
    field = form.fields["category"]
    field.queryset = org.group_x.categories.filter(pk=org.hardware.pk)
    assert list(field.queryset) == [org.hardware]

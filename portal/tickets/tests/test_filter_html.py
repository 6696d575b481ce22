"""The list's filters come from a cache of their HTML with nothing chosen (the filter_field
tag): with values chosen they must read exactly as Django's form widgets write them."""

import pytest
from django import forms
from django.http import QueryDict
from django.template import Context, Template
from django.template.loader import get_template

from portal.accounts.roles import user_roles
from portal.catalog import services as catalog_services
from portal.catalog.invalidation import MASTERS
from portal.catalog.models import Team
from portal.lib import cache_versions
from portal.testing.cache import new_version_elsewhere, watch_cache_reads
from portal.testing.request_forms import every_type_form
from portal.tickets.filters import TicketFilterForm
from portal.tickets.templatetags import ticket_tags

pytestmark = pytest.mark.django_db

# Every filter the list page shows (list.html and list_views.MORE_FILTERS).
SHOWN = (
    "q", "status", "priority", "sort", "group", "category", "subcategory", "answer", "team",
    "assignee", "requester", "sla_state", "created_from", "created_to", "updated_from",
    "updated_to", "per_page",
)  # fmt: skip

CHOICES = {
    "several statuses, a team, a sort": lambda org: {
        "status": ["new", "in_progress", "on_hold"],
        "priority": ["urgent"],
        "team": [org.team_a.pk],
        "sort": ["-created"],
    },
    "text to escape, dates, people, page size": lambda org: {
        "q": ["<b>\"Printer\" & 'jam'</b>"],
        "created_from": ["2026-01-02"],
        "updated_to": ["2026-02-03"],
        "assignee": ["me"],
        "requester": ["someone@example.com"],
        "sla_state": ["breached", "at_risk"],
        "per_page": ["50"],
    },
    "no team": lambda org: {"team": ["none"], "sort": ["sla_due"]},
    "an id written another way": lambda org: {"team": [f"0{org.team_a.pk}"]},
    "a group, its category and subcategory": lambda org: {
        "group": [org.group_x.pk],
        "category": [org.hardware.pk],
        "subcategory": [org.laptop.pk],
    },
    "a category of another group": lambda org: {
        "group": [org.group_y.pk],
        "category": [org.hardware.pk],
    },
    "a chosen answer": lambda org: {
        "group": [org.group_x.pk],
        "category": [org.hardware.pk],
        "answer": ["extras:dock"],
    },
    "values in error": lambda org: {"status": ["bogus"], "team": ["99999"], "created_to": ["x"]},
    # Sent but empty (a plain form submit sends every field): not the missing-name shortcut.
    "sent empty": lambda org: {"q": [""], "team": [""], "created_from": [""], "sort": [""]},
}


def _django_render(form: TicketFilterForm, name: str) -> str:
    """The filter as Django's widgets render it, without the cache."""
    return get_template("tickets/_filter_field.html").render({"field": form[name], "form": form})


@pytest.mark.parametrize("choice", CHOICES)
def test_a_chosen_filter_reads_as_its_form_widget_writes_it(choice, personas, org, client_for):
    every_type_form(category=org.hardware)
    client = client_for(personas.admin)
    client.get("/tickets")  # the filters with nothing chosen are cached
    params = CHOICES[choice](org)
    for _ in range(
        2
    ):  # the first request caches a chosen group's categories, the second reads them
        response = client.get("/tickets", params)
        assert response.status_code == (400 if choice == "values in error" else 200)
        html = response.content.decode()
        query = QueryDict(mutable=True)
        for key, values in params.items():
            query.setlist(key, [str(value) for value in values])
        form = TicketFilterForm(query, roles=user_roles(personas.admin))
        form.is_valid()
        for name in SHOWN:
            assert _django_render(form, name) in html, name


def test_a_chosen_groups_categories_follow_master_data(personas, org, client_for):
    client = client_for(personas.admin)
    chosen = {"group": org.group_x.pk, "category": org.hardware.pk}
    assert ">Hardware</option>" in client.get("/tickets", chosen).content.decode()
    catalog_services.category_update(category=org.hardware, group=org.group_x, name="Devices")
    html = client.get("/tickets", chosen).content.decode()
    assert f'<option value="{org.hardware.pk}" selected>Devices</option>' in html


class _Filters(forms.Form):
    """Filters the list does not have, with widgets and options the marker cannot mark."""

    urgent = forms.BooleanField(required=False)  # CheckboxInput: `checked`, not a value
    colour = forms.ChoiceField(
        required=False, choices=[("", "Any"), ("red", "Red"), ("blue", "Blue")]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Options that carry the select's attributes: not the form the marker reads.
        self.fields["colour"].widget.option_inherits_attrs = True
        self.fields["colour"].widget.attrs["data-kind"] = "colour"

    def options_key(self, name: str) -> str:
        return ""  # every filter cacheable


def _tagged(form: forms.Form, name: str) -> str:
    tag = Template("{% load ticket_tags %}{% filter_field form." + name + " %}")
    return tag.render(Context({"form": form}))


UNKNOWN = {
    "checkbox": ("urgent", "on", 'type="checkbox" name="urgent" id="id_urgent" checked'),
    "options with attributes": (
        "colour",
        "blue",
        '"blue" data-kind="colour" id="id_colour" selected',
    ),
}


@pytest.mark.parametrize("case", UNKNOWN)
def test_a_filter_the_marker_does_not_know_renders_as_django_writes_it(case):
    name, value, marked = UNKNOWN[case]
    _tagged(_Filters({}), name)  # its HTML with nothing chosen is cached
    chosen = _Filters({name: value})
    chosen.is_valid()
    html = _tagged(chosen, name)
    assert html == _django_render(chosen, name) and marked in html


def test_cached_filters_of_another_version_are_not_served(personas, client_for, monkeypatch):
    client = client_for(personas.admin)
    assert '<label for="id_q">Search</label>' in client.get("/tickets").content.decode()
    # A deploy renames the filter: the new processes read their own fingerprint.
    monkeypatch.setattr(TicketFilterForm.base_fields["q"], "label", "Find")
    ticket_tags._fingerprint.cache_clear()
    try:
        html = client.get("/tickets").content.decode()
    finally:
        ticket_tags._fingerprint.cache_clear()
    assert '<label for="id_q">Find</label>' in html


def test_filter_forms_share_only_the_fields_no_form_changes(personas, org, client_for):
    # Each form copies the fields it changes (the views offered, a chosen group's
    # categories, a category's form answers); the others are one object for all forms.
    # Filling, validating and rendering forms of several people and choices leaves the
    # shared fields as they were: were one changed, every later form would show it.
    from portal.tickets.filters import SAVED_VIEWS

    shared = [n for n in TicketFilterForm.base_fields if n not in TicketFilterForm.OWN_FIELDS]
    before = {n: ticket_tags._described(n, TicketFilterForm.base_fields[n]) for n in shared}
    cases = [
        (personas.requester, ""),
        (personas.admin, f"group={org.group_x.pk}&category={org.laptop.category_id}&status=new"),
        (personas.agent, "team=none&sort=-priority&created_from=2026-01-01&q=printer"),
        (personas.spoc, f"group={org.group_x.pk}&priority=bogus&per_page=7"),
    ]
    forms_made = []
    for person, query in cases:
        form = TicketFilterForm(QueryDict(query), roles=user_roles(person))
        form.is_valid()
        for name in form.fields:
            _django_render(form, name)
        forms_made.append(form)
    requester, admin = forms_made[0], forms_made[1]
    assert all(requester.fields[n] is admin.fields[n] for n in shared)
    assert all(requester.fields[n] is not admin.fields[n] for n in TicketFilterForm.OWN_FIELDS)
    offered = {key for key, _ in admin.fields["view"].choices}
    assert offered == set(SAVED_VIEWS) - {"team"}  # the admin's views, not the requester's
    assert {key for key, _ in requester.fields["view"].choices} < offered
    assert {n: ticket_tags._described(n, TicketFilterForm.base_fields[n]) for n in shared} == before


def test_the_process_keeps_the_filters_until_the_catalogue_changes_anywhere(
    personas, org, client_for, monkeypatch
):
    """Reading the filters' HTML from the memory cache on every list was a tenth of its
    rendering: the process keeps it under the masters version, which a change in another
    process (a new version in the store every process reads) leaves behind."""
    client = client_for(personas.admin)
    client.get("/tickets")
    reads = watch_cache_reads(monkeypatch, ticket_tags)
    assert f">{org.team_a.name}</option>" in client.get("/tickets").content.decode()
    assert reads == []
    Team.objects.filter(pk=org.team_a.pk).update(name="Desk renamed")
    old = f"{MASTERS}:{cache_versions.version(MASTERS)}:"
    new_version_elsewhere(MASTERS)
    assert ">Desk renamed</option>" in client.get("/tickets").content.decode()
    kept = ticket_tags._HTML._kept[2]
    assert kept and not [key for key in kept if key.startswith(old)]

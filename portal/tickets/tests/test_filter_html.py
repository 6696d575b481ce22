"""The list's filters come from a cache of their HTML with nothing chosen (the filter_field
tag): with values chosen they must read exactly as Django's form widgets write them."""

import pytest
from django.http import QueryDict
from django.template.loader import get_template

from portal.accounts.roles import user_roles
from portal.catalog import services as catalog_services
from portal.testing.request_forms import every_type_form
from portal.tickets.filters import TicketFilterForm

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

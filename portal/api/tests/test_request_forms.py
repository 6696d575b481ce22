"""Request forms through the API: the per-form JSON Schema, values on the ticket, and the
same validator as the page (a 422 naming each field, nothing written)."""

import pytest

from portal.api.tests.conftest import PERSONAS, is_problem, persona_user
from portal.testing.request_forms import every_type_form
from portal.tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields(org):
    return every_type_form(category=org.hardware)


def _new(org, **extra) -> dict:
    return {
        "title": "New laptop",
        "description": "For the new starter.",
        "group": org.group_x.pk,
        "category": org.hardware.pk,
        "subcategory": org.laptop.pk,
        **extra,
    }


GOOD = {
    "asset_tag": "LT-1",
    "details": "Blue",
    "amount": 99.5,
    "needed_by": "2027-01-31",
    "cost_centre": "cc100",
    "extras": ["dock"],
    "urgent": True,
}


def test_values_of_every_type_are_stored_and_returned(personas, org, fields, api_for):
    values = {**GOOD, "manager": personas.lead.pk}
    response = api_for(personas.requester).post("/tickets", _new(org, form_values=values))
    assert response.status_code == 201, response.content
    assert response.json()["form_values"] == values
    assert Ticket.objects.get().form_values == values


def test_bad_values_are_a_422_naming_each_field_and_nothing_is_written(
    personas, org, fields, api_for
):
    bad = {**GOOD, "amount": 1e9, "needed_by": "tomorrow", "colour": "red"}
    body = is_problem(api_for(personas.requester).post("/tickets", _new(org, form_values=bad)), 422)
    assert body["errors"] == [
        {"field": "form_values.amount", "message": "Enter a number of at most 5000."},
        {"field": "form_values.needed_by", "message": "Enter a date as YYYY-MM-DD."},
        {"field": "form_values.colour", "message": "This form has no such field."},
    ]
    assert not Ticket.objects.exists()


def test_a_missing_required_field_is_named(personas, org, fields, api_for):
    body = is_problem(api_for(personas.requester).post("/tickets", _new(org)), 422)
    assert body["errors"] == [
        {"field": "form_values.asset_tag", "message": "This field is required."}
    ]


def test_form_values_must_be_an_object(personas, org, fields, api_for):
    response = api_for(personas.requester).post("/tickets", _new(org, form_values=["x"]))
    assert response.status_code == 422
    assert not Ticket.objects.exists()


def test_an_edit_changes_the_values_and_writes_the_history(
    personas, org, fields, api_for, raise_ticket
):
    ticket = raise_ticket(form_values={"asset_tag": "LT-1"})
    response = api_for(personas.agent).patch(
        f"/tickets/{ticket.number}",
        {"version": ticket.version, "form_values": {"asset_tag": "LT-2", "urgent": False}},
    )
    assert response.status_code == 200, response.content
    assert response.json()["form_values"] == {"asset_tag": "LT-2", "urgent": False}
    fields_changed = set(
        TicketEvent.objects.filter(field__startswith="form:").values_list("field", flat=True)
    )
    assert fields_changed == {"form:asset_tag", "form:urgent"}


def test_a_bad_edit_changes_nothing(personas, org, fields, api_for, raise_ticket):
    ticket = raise_ticket(form_values={"asset_tag": "LT-1"})
    response = api_for(personas.agent).patch(
        f"/tickets/{ticket.number}",
        {"version": ticket.version, "title": "New", "form_values": {"amount": "x"}},
    )
    body = is_problem(response, 422)
    assert {e["field"] for e in body["errors"]} == {
        "form_values.asset_tag",
        "form_values.amount",
    }
    ticket.refresh_from_db()
    assert (ticket.title, ticket.version) == ("Laptop will not start", 1)


def test_the_form_schema_is_published_per_classification(personas, org, fields, api_for):
    response = api_for(personas.requester).get(
        f"/catalog/form?category={org.hardware.pk}&subcategory={org.laptop.pk}"
    )
    assert response.status_code == 200
    schema = response.json()["values_schema"]
    assert schema["required"] == ["asset_tag"]
    assert list(schema["properties"]) == list(fields)
    assert schema["properties"]["extras"]["items"]["enum"] == ["dock", "bag"]


def test_a_subcategory_of_another_category_is_a_404(personas, org, fields, api_for):
    from portal.catalog.models import Category, Subcategory

    other = Subcategory.objects.create(
        category=Category.objects.create(group=org.group_x, name="Other"), name="Thing"
    )
    client = api_for(personas.requester)
    assert (
        client.get(f"/catalog/form?category={org.hardware.pk}&subcategory={other.pk}").status_code
        == 404
    )
    assert client.get("/catalog/form?category=987654").status_code == 404
    assert client.get("/catalog/form").status_code == 422
    assert client.get(f"/catalog/form?category={org.hardware.pk}&x=1").status_code == 422


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_read_a_form_schema(persona, personas, org, fields, api_for):
    response = api_for(persona_user(personas, persona)).get(
        f"/catalog/form?category={org.hardware.pk}"
    )
    assert response.status_code == (401 if persona == "anonymous" else 200)


def test_the_api_list_takes_the_same_answer_filter(raise_ticket, fields, org, personas, api_for):
    ticket = raise_ticket(form_values={"asset_tag": "a", "cost_centre": "cc200"})
    raise_ticket(form_values={"asset_tag": "b", "cost_centre": "cc100"})
    query = f"group={org.group_x.pk}&category={org.hardware.pk}&answer=cost_centre:cc200"
    response = api_for(personas.agent).get(f"/tickets?{query}")
    assert [t["number"] for t in response.json()["items"]] == [ticket.number]
    assert api_for(personas.agent).get("/tickets?answer=cost_centre:cc200").status_code == 422


def test_the_openapi_document_carries_each_forms_schema(personas, org, fields, client):
    from portal.testing.request_forms import form_service_create

    form_service_create(
        subcategory=org.laptop, key="model", label="Model", field_type="text", required=True
    )
    components = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    category_form = components[f"FormValues_{org.hardware.pk}"]
    assert category_form["x-category"] == org.hardware.pk
    assert category_form["x-subcategory"] is None
    assert category_form["required"] == ["asset_tag"]
    assert category_form["additionalProperties"] is False
    amount = category_form["properties"]["amount"]
    assert (amount["type"], amount["minimum"], amount["maximum"]) == ("number", 0, 5000)
    # The subcategory's own form: its category's fields and its own, as validated.
    laptop_form = components[f"FormValues_{org.hardware.pk}_{org.laptop.pk}"]
    assert laptop_form["title"].endswith(f"{org.hardware.name} › {org.laptop.name}")
    assert set(laptop_form["properties"]) == {*fields, "model"}
    assert set(laptop_form["required"]) == {"asset_tag", "model"}
    assert "$schema" not in laptop_form
    assert len([name for name in components if name.startswith("FormValues_")]) == 2


def test_a_retired_field_leaves_the_documented_form(personas, org, fields, client):
    from portal.catalog import form_services

    for field in fields.values():
        form_services.form_field_retire(field=field)
    components = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert not [name for name in components if name.startswith("FormValues_")]

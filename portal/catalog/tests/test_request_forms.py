"""Request forms: fields on a category are inherited by its subcategories, one JSON Schema
per form, and one validator whose refusals name each field."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from portal.catalog import form_services, request_forms
from portal.catalog.models import FormField
from portal.testing.request_forms import every_type_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields(org):
    return every_type_form(category=org.hardware)


def _form(org, subcategory=None):
    return request_forms.form_for(org.hardware.pk, subcategory.pk if subcategory else None)


GOOD = {
    "asset_tag": "  LT-0042 ",
    "details": "Needs 32 GB.",
    "amount": 1250.5,
    "needed_by": "2027-01-31",
    "cost_centre": "cc100",
    "extras": ["dock", "bag"],
    "urgent": False,
}


def test_every_field_type_accepts_a_good_value_and_stores_codes(org, fields, personas):
    values = _form(org).validate({**GOOD, "manager": personas.lead.pk, "details": ""})
    assert values == {
        "asset_tag": "LT-0042",  # trimmed
        "amount": 1250.5,
        "needed_by": "2027-01-31",
        "cost_centre": "cc100",  # the option's code, not its label
        "extras": ["dock", "bag"],
        "urgent": False,  # a "no" is an answer, not an empty value
        "manager": personas.lead.pk,
    }  # the empty long text is left out: empty means unanswered


BAD = [
    ({"asset_tag": ""}, "asset_tag", "This field is required."),
    ({"asset_tag": "x" * 201}, "asset_tag", "Use at most 200 characters."),
    ({"amount": "lots"}, "amount", "Enter a number."),
    ({"amount": True}, "amount", "Enter a number."),
    ({"amount": -1}, "amount", "Enter a number of at least 0."),
    ({"amount": 5000.01}, "amount", "Enter a number of at most 5000."),
    ({"needed_by": "31/01/2027"}, "needed_by", "Enter a date as YYYY-MM-DD."),
    ({"needed_by": "2027-02-30"}, "needed_by", "Enter a date as YYYY-MM-DD."),
    ({"cost_centre": "CC-100 IT"}, "cost_centre", "Choose from the options offered."),
    ({"extras": ["dock", "dock"]}, "extras", "Choose from the options offered."),
    ({"extras": ["sofa"]}, "extras", "Choose from the options offered."),
    ({"extras": "dock"}, "extras", "Choose from the options offered."),
    ({"urgent": "yes"}, "urgent", "Answer yes or no."),
    ({"manager": "lead@example.com"}, "manager", "Choose an active person in the organisation."),
    ({"manager": 999_999}, "manager", "Choose an active person in the organisation."),
    ({"colour": "red"}, "colour", "This form has no such field."),
]


@pytest.mark.parametrize(("change", "key", "message"), BAD)
def test_a_bad_value_is_refused_with_the_field_named(org, fields, change, key, message):
    with pytest.raises(request_forms.FormValuesInvalid) as refused:
        _form(org).validate({**GOOD, **change})
    assert refused.value.errors == {key: message}


def test_an_inactive_person_is_refused(org, fields, personas):
    personas.lead.is_active = False
    personas.lead.save(update_fields=["is_active"])
    with pytest.raises(request_forms.FormValuesInvalid) as refused:
        _form(org).validate({**GOOD, "manager": personas.lead.pk})
    assert set(refused.value.errors) == {"manager"}


def test_every_problem_is_reported_at_once(org, fields):
    with pytest.raises(request_forms.FormValuesInvalid) as refused:
        _form(org).validate({"amount": "x", "needed_by": "soon"})
    assert set(refused.value.errors) == {"asset_tag", "amount", "needed_by"}


def test_values_must_be_an_object(org, fields):
    with pytest.raises(request_forms.FormValuesInvalid) as refused:
        _form(org).validate(["asset_tag"])
    assert set(refused.value.errors) == {"form_values"}


def test_a_subcategory_asks_its_categorys_fields_and_its_own(org, fields):
    own = form_services.form_field_create(
        subcategory=org.laptop, key="screen", label="Screen size", field_type="number",
        position=1,
    )  # fmt: skip
    keys = [f.key for f in _form(org, org.laptop).fields]
    assert "screen" in keys and "asset_tag" in keys
    assert keys.index("screen") > keys.index("asset_tag")  # position, then category first
    assert "screen" not in [f.key for f in _form(org, org.printer).fields]
    assert own.owner == org.laptop


def test_a_subcategory_of_another_category_adds_none_of_its_fields(org, fields, personas):
    from portal.catalog.models import Category, Subcategory

    other = Subcategory.objects.create(
        category=Category.objects.create(group=org.group_x, name="Other"), name="Thing"
    )
    form_services.form_field_create(subcategory=other, key="thing", label="T", field_type="text")
    assert "thing" not in [f.key for f in _form(org, other).fields]


def test_retired_fields_are_not_asked_but_still_defined(org, fields):
    form_services.form_field_retire(field=fields["details"])
    assert "details" not in [f.key for f in _form(org).fields]
    definitions = request_forms.definitions_for(org.hardware.pk, None)
    assert definitions["details"].is_active is False


def test_the_schema_is_json_schema_with_codes_bounds_and_required(org, fields):
    schema = _form(org).schema()
    assert schema["required"] == ["asset_tag"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["amount"] == {
        "title": "Amount", "type": "number", "minimum": 0, "maximum": 5000,
    }  # fmt: skip
    assert schema["properties"]["cost_centre"]["enum"] == ["cc100", "cc200"]
    assert schema["properties"]["needed_by"]["format"] == "date"


def test_answers_read_with_labels_and_keep_unknown_codes(org, fields, personas):
    definitions = request_forms.definitions_for(org.hardware.pk, None)
    values = {
        "cost_centre": "cc200",
        "extras": ["bag"],
        "urgent": True,
        "manager": personas.lead.pk,
        "needed_by": "2027-01-31",
        "gone": "kept",
    }
    shown = request_forms.answers(values, definitions, {personas.lead.pk: "Lead Persona"})
    assert [(a.label, a.text) for a in shown] == [
        ("Needed by", "31 Jan 2027"),
        ("Cost centre", "CC-200 HR"),
        ("Extras", "Bag"),
        ("Urgent?", "Yes"),
        ("Manager", "Lead Persona"),
        ("gone", "kept"),
    ]
    assert shown[-1].retired


# ---------------------------------------------------------------------------------------
# Field services


def test_codes_are_unique_along_the_inheritance_chain(org, fields):
    with pytest.raises(ValidationError) as refused:
        form_services.form_field_create(
            subcategory=org.laptop, key="asset_tag", label="Again", field_type="text"
        )
    assert "key" in refused.value.error_dict
    form_services.form_field_create(
        subcategory=org.laptop, key="dock", label="D", field_type="text"
    )
    with pytest.raises(ValidationError):
        form_services.form_field_create(
            category=org.hardware, key="dock", label="Dock", field_type="text"
        )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"key": "Asset Tag"}, "key"),
        ({"key": ""}, "key"),
        ({"label": "  "}, "label"),
        ({"label": "a\u200bb"}, "label"),
        ({"field_type": "colour"}, "field_type"),
        ({"field_type": "choice"}, "options"),  # a choice needs options
        ({"options": [{"code": "a", "label": "A"}]}, "options"),  # text has none
        ({"field_type": "number", "min_value": Decimal(5), "max_value": Decimal(1)}, "max_value"),
        ({"min_value": Decimal(1)}, "min_value"),  # bounds are for numbers
        ({"field_type": "choice", "options": [{"code": "a", "label": "A"}] * 2}, "options"),
        ({"field_type": "choice", "options": [{"code": "A B", "label": "A"}]}, "options"),
        ({"field_type": "choice", "options": [{"code": "a", "label": "x;y"}]}, "options"),
    ],
)
def test_bad_field_definitions_are_refused_and_nothing_is_saved(org, change, field):
    args = {"category": org.hardware, "key": "thing", "label": "Thing", "field_type": "text"}
    with pytest.raises(ValidationError) as refused:
        form_services.form_field_create(**{**args, **change})
    assert field in refused.value.error_dict
    assert not FormField.objects.exists()


def test_a_field_is_on_a_category_or_a_subcategory_not_both(org):
    with pytest.raises(ValidationError):
        form_services.form_field_create(
            category=org.hardware, subcategory=org.laptop, key="x", label="X", field_type="text"
        )


def test_options_text_round_trips():
    options = [{"code": "cc100", "label": "CC-100 IT"}, {"code": "cc200", "label": "HR = people"}]
    text = form_services.format_options(options)
    assert text == "cc100=CC-100 IT; cc200=HR = people"
    assert form_services.parse_options(text) == options
    assert form_services.parse_options("a\nb=Bee") == [
        {"code": "a", "label": "a"},
        {"code": "b", "label": "Bee"},
    ]


def test_updating_keeps_code_and_type(org, fields):
    field = form_services.form_field_update(
        field=fields["cost_centre"],
        label="Cost center",
        required=True,
        position=9,
        options=[{"code": "cc100", "label": "CC-100"}],
    )
    field.refresh_from_db()
    assert (field.key, field.field_type, field.label, field.required) == (
        "cost_centre", "choice", "Cost center", True,
    )  # fmt: skip


def test_a_category_with_form_fields_cannot_be_deleted(org, fields):
    from portal.catalog import services

    with pytest.raises(ValidationError, match="form field"):
        services.category_delete(category=org.hardware)

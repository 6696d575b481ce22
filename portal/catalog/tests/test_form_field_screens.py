"""/masters/fields: admins define request-form fields; everyone else gets 403 and changes
nothing; bad definitions are a 400 naming the field, with nothing saved."""

import pytest

from portal.catalog import form_services
from portal.catalog.models import FormField

pytestmark = pytest.mark.django_db

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]


@pytest.fixture
def field(org):
    return form_services.form_field_create(
        category=org.hardware, key="asset_tag", label="Asset tag", field_type="text"
    )


def _state():
    return list(
        FormField.objects.order_by("pk").values_list(
            "key", "label", "field_type", "required", "position", "options", "is_active",
            "category_id", "subcategory_id",
        )
    )  # fmt: skip


def _actions(org, field):
    """(method, url, data, status for an admin); everyone else gets 403."""
    return [
        ("get", "/masters/fields", {}, 200),
        ("get", "/masters/fields?q=asset", {}, 200),
        ("get", "/masters/fields/new", {}, 200),
        ("get", f"/masters/fields/{field.pk}", {}, 200),
        (
            "post",
            "/masters/fields/new",
            {
                "owner": f"s{org.laptop.pk}",
                "key": "cost_centre",
                "label": "Cost centre",
                "field_type": "choice",
                "position": 1,
                "options": "cc100=CC-100 IT; cc200=CC-200 HR",
            },
            302,
        ),
        (
            "post",
            f"/masters/fields/{field.pk}",
            {"label": "Asset tag (sticker)", "position": 0, "required": "on"},
            302,
        ),
        ("post", f"/masters/fields/{field.pk}/deactivate", {}, 302),
        ("post", f"/masters/fields/{field.pk}/reactivate", {}, 302),
        # Refused with a message (fields are retired, never deleted): still a redirect.
        ("post", f"/masters/fields/{field.pk}/delete", {}, 302),
    ]


@pytest.mark.parametrize("name", PERSONAS)
def test_each_persona_gets_the_expected_status_for_each_field_action(
    org, personas, client_for, field, name
):
    client = client_for(getattr(personas, name))
    before = _state()
    for method, url, data, admin_status in _actions(org, field):
        response = getattr(client, method)(url, data)
        assert response.status_code == (admin_status if name == "admin" else 403), (method, url)
    if name != "admin":
        assert _state() == before


def test_anonymous_visitors_are_sent_to_sign_in(org, client_for, field):
    for method, url, data, _ in _actions(org, field):
        response = getattr(client_for(None), method)(url, data)
        assert response.status_code == 302 and response["Location"].startswith("/login"), url


def test_an_admin_creates_edits_retires_and_cannot_delete_a_field(org, personas, client_for, field):
    client = client_for(personas.admin)
    for method, url, data, _ in _actions(org, field):
        getattr(client, method)(url, data)
    created = FormField.objects.get(key="cost_centre")
    assert (created.subcategory, created.field_type, created.options) == (
        org.laptop, "choice",
        [{"code": "cc100", "label": "CC-100 IT"}, {"code": "cc200", "label": "CC-200 HR"}],
    )  # fmt: skip
    field.refresh_from_db()
    assert (field.label, field.required, field.is_active) == ("Asset tag (sticker)", True, True)
    # The edit form cannot change the code or the type, whatever it is sent.
    client.post(
        f"/masters/fields/{field.pk}",
        {"label": "X", "position": 0, "key": "other", "field_type": "number"},
    )
    field.refresh_from_db()
    assert (field.key, field.field_type) == ("asset_tag", "text")


@pytest.mark.parametrize(
    ("data", "error_field"),
    [
        ({"key": "Bad Key"}, "key"),
        ({"key": "asset_tag"}, "key"),  # inherited from the category: taken
        ({"field_type": "choice", "options": ""}, "options"),
        ({"field_type": "number", "min_value": "5", "max_value": "1"}, "max_value"),
        ({"owner": "c999999"}, "owner"),
        ({"owner": "x1"}, "owner"),
    ],
)
def test_a_bad_definition_is_a_400_naming_the_field(
    org, personas, client_for, field, data, error_field
):
    post = {
        "owner": f"s{org.laptop.pk}", "key": "thing", "label": "Thing", "field_type": "text",
        "position": 0, **data,
    }  # fmt: skip
    before = _state()
    response = client_for(personas.admin).post("/masters/fields/new", post)
    assert response.status_code == 400
    assert error_field in response.context["form"].errors
    assert _state() == before


def test_the_list_costs_the_same_for_any_number_of_fields(
    org, personas, client_for, django_assert_num_queries
):
    for index in range(30):
        form_services.form_field_create(
            subcategory=org.laptop if index % 2 else None,
            category=None if index % 2 else org.hardware,
            key=f"f{index}", label=f"F{index}", field_type="text",
        )  # fmt: skip
    client = client_for(personas.admin)
    client.get("/masters")
    # the session with its user (roles and the bell from the cache); the count and the
    # page of fields (owners joined).
    with django_assert_num_queries(1 + 2):
        response = client.get("/masters/fields")
    assert response.status_code == 200

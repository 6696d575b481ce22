"""Request forms on tickets: the services validate the values (one validator for page and
API), the new-ticket page shows the classification's fields, the ticket page and its
history read them with labels, and retired fields stay readable."""

import uuid

import pytest

from portal.catalog import form_services
from portal.testing.request_forms import every_type_form, long_form
from portal.tickets import services
from portal.tickets.errors import InvalidFormValues
from portal.tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db

PER_REQUEST = 1  # as in test_query_counts: the session with its user (the rest is cached)


@pytest.fixture
def fields(org):
    return every_type_form(category=org.hardware)


def _page_data(org, **extra):
    data = {
        "title": "New laptop",
        "description": "For the new starter.",
        "group": org.group_x.pk,
        "category": org.hardware.pk,
        "subcategory": org.laptop.pk,
        "priority": "",
        "idempotency_key": str(uuid.uuid4()),
    }
    data.update(extra)
    return data


# ---------------------------------------------------------------------------------------
# Services


def test_a_ticket_keeps_its_validated_values(raise_ticket, fields, personas):
    ticket = raise_ticket(
        form_values={"asset_tag": " LT-7 ", "extras": ["dock"], "manager": personas.lead.pk}
    )
    ticket.refresh_from_db()
    assert ticket.form_values == {
        "asset_tag": "LT-7",
        "extras": ["dock"],
        "manager": personas.lead.pk,
    }


def test_bad_values_write_nothing_and_name_each_field(raise_ticket, fields):
    with pytest.raises(InvalidFormValues) as refused:
        raise_ticket(form_values={"amount": "ten", "cost_centre": "nope"})
    assert refused.value.errors == {
        "asset_tag": "This field is required.",
        "amount": "Enter a number.",
        "cost_centre": "Choose from the options offered.",
    }
    assert refused.value.status_code == 400
    assert not Ticket.objects.exists()
    assert not TicketEvent.objects.exists()


def test_a_classification_without_a_form_refuses_values(raise_ticket, org):
    with pytest.raises(InvalidFormValues) as refused:
        raise_ticket(form_values={"asset_tag": "x"})
    assert refused.value.errors == {"asset_tag": "This form has no such field."}


def test_changed_values_are_in_the_history_as_codes_and_read_with_labels(
    raise_ticket, fields, personas, client_for
):
    ticket = raise_ticket(form_values={"asset_tag": "LT-7", "cost_centre": "cc100"})
    services.ticket_update(
        actor=personas.agent,
        ticket=ticket,
        expected_version=ticket.version,
        form_values={"asset_tag": "LT-7", "cost_centre": "cc200", "urgent": True},
    )
    events = TicketEvent.objects.filter(field__startswith="form:").order_by("field")
    assert [(e.field, e.old_value, e.new_value) for e in events] == [
        ("form:cost_centre", '"cc100"', '"cc200"'),
        ("form:urgent", "", "true"),
    ]
    html = client_for(personas.requester).get(f"/tickets/{ticket.number}").content.decode()
    assert "changed “Cost centre” from “CC-100 IT” to “CC-200 HR”" in html
    assert "answered “Urgent?” with “Yes”" in html


def test_an_update_with_bad_values_changes_nothing(raise_ticket, fields, personas):
    ticket = raise_ticket(form_values={"asset_tag": "LT-7"})
    with pytest.raises(InvalidFormValues):
        services.ticket_update(
            actor=personas.agent,
            ticket=ticket,
            expected_version=ticket.version,
            title="Renamed",
            form_values={"asset_tag": ""},
        )
    ticket.refresh_from_db()
    assert (ticket.title, ticket.form_values) == ("Laptop will not start", {"asset_tag": "LT-7"})


def test_a_retired_field_stays_readable_on_old_tickets(raise_ticket, fields, personas, client_for):
    ticket = raise_ticket(form_values={"asset_tag": "LT-7", "details": "Blue, please"})
    client = client_for(personas.requester)
    html = client.get(f"/tickets/{ticket.number}").content.decode()  # definitions now cached
    assert "Blue, please" in html and "no longer asked" not in html
    form_services.form_field_retire(field=fields["details"])
    html = client.get(f"/tickets/{ticket.number}").content.decode()
    assert "Blue, please" in html and "no longer asked" in html
    # A value for it on a new ticket is refused: it is no longer asked.
    with pytest.raises(InvalidFormValues):
        raise_ticket(form_values={"asset_tag": "LT-8", "details": "x"})


def test_the_ticket_page_reads_the_forms_fields_from_the_cache(
    raise_ticket, fields, personas, client_for, django_assert_num_queries
):
    from portal.tickets.tests.test_query_counts import DETAIL_BASE

    ticket = raise_ticket(form_values={"asset_tag": "LT-7", "details": "Blue, please"})
    client = client_for(personas.requester)
    client.get(f"/tickets/{ticket.number}")  # roles and the form's fields now cached
    # What a ticket without a form costs its requester: no query for the field definitions.
    with django_assert_num_queries(DETAIL_BASE):
        html = client.get(f"/tickets/{ticket.number}").content.decode()
    assert "LT-7" in html and "Blue, please" in html


# ---------------------------------------------------------------------------------------
# Pages


def test_the_page_raises_a_ticket_with_every_field_type(org, fields, personas, client_for):
    data = _page_data(
        org,
        **{
            "form-asset_tag": "LT-9",
            "form-amount": "1,250.50",
            "form-needed_by": "2027-01-31",
            "form-cost_centre": "cc200",
            "form-extras": ["dock", "bag"],
            "form-urgent": "no",
            "form-manager": "lead@example.com",
        },
    )
    response = client_for(personas.requester).post("/tickets/new", data)
    assert response.status_code == 302
    assert Ticket.objects.get().form_values == {
        "asset_tag": "LT-9",
        "amount": 1250.5,
        "needed_by": "2027-01-31",
        "cost_centre": "cc200",
        "extras": ["dock", "bag"],
        "urgent": False,
        "manager": personas.lead.pk,
    }


def test_the_page_shows_each_refusal_under_its_field_and_keeps_the_input(
    org, fields, personas, client_for
):
    data = _page_data(org, **{"form-amount": "9999", "form-needed_by": "soon", "form-x": "1"})
    response = client_for(personas.requester).post("/tickets/new", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert '<p class="error" id="id_form-asset_tag_error">This field is required.</p>' in html
    assert '<p class="error" id="id_form-amount_error">Enter a number of at most 5000.</p>' in html
    assert "Enter a date as YYYY-MM-DD." in html
    assert 'value="9999"' in html  # what was typed stays
    assert not Ticket.objects.exists()


def test_the_fields_partial_follows_the_classification(org, fields, personas, client_for):
    form_services.form_field_create(
        subcategory=org.printer, key="toner", label="Toner colour", field_type="text"
    )
    client = client_for(personas.requester)
    laptop = client.get(
        "/tickets/new/fields", {"category": org.hardware.pk, "subcategory": org.laptop.pk}
    ).content.decode()
    printer = client.get(
        "/tickets/new/fields",
        {"category": org.hardware.pk, "subcategory": org.printer.pk, "form-asset_tag": "kept"},
    ).content.decode()
    assert "Asset tag" in laptop and "Toner colour" not in laptop
    assert "Toner colour" in printer and 'value="kept"' in printer
    nothing = client.get("/tickets/new/fields", {"category": "abc"}).content.decode()
    assert "Request details" not in nothing


@pytest.mark.parametrize("persona", ["requester", "agent", "lead", "spoc", "admin", "outsider"])
def test_everyone_signed_in_may_load_the_fields_partial(org, fields, personas, client_for, persona):
    response = client_for(getattr(personas, persona)).get(
        "/tickets/new/fields", {"category": org.hardware.pk}
    )
    assert response.status_code == 200


def test_anonymous_people_are_sent_to_sign_in_for_the_partial(org, client_for):
    response = client_for(None).get("/tickets/new/fields", {"category": org.hardware.pk})
    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_the_fields_partial_only_accepts_get(org, personas, client_for):
    response = client_for(personas.requester).post("/tickets/new/fields")
    assert response.status_code == 405


# ---------------------------------------------------------------------------------------
# Query pins with a 20-field form


def test_the_fields_partial_costs_one_query_for_twenty_fields(
    org, personas, client_for, django_assert_num_queries
):
    long_form(category=org.hardware, count=20)
    client = client_for(personas.requester)
    client.get("/tickets/new")  # the once-a-minute session refresh, not counted
    # the session with its user, then the form's fields (1); a partial has no bell and no
    # page view.
    with django_assert_num_queries(PER_REQUEST + 1):
        response = client.get(
            "/tickets/new/fields", {"category": org.hardware.pk}, headers={"HX-Request": "true"}
        )
    assert response.content.decode().count('class="field') == 20


def test_the_new_ticket_page_with_a_twenty_field_form_has_a_fixed_query_count(
    org, personas, client_for, django_assert_num_queries
):
    long_form(category=org.hardware, count=20)
    client = client_for(personas.requester)
    client.get("/tickets/new")
    data = _page_data(org, title="")  # refused by the form: the page re-renders with fields
    # PER_REQUEST (the session with its user), the three classification
    # lists (groups, categories of the group, subcategories of the category) once to
    # validate and once to draw, and the form's fields (1) whatever their number.
    with django_assert_num_queries(PER_REQUEST + 3 + 3 + 1):
        response = client.post("/tickets/new", data)
    assert response.status_code == 400
    assert response.content.decode().count('name="form-field_') == 20


def test_the_csv_export_carries_the_values_as_json_codes(
    raise_ticket, fields, personas, client_for
):
    import csv
    import io
    import json

    ticket = raise_ticket(form_values={"asset_tag": "=cmd()", "extras": ["dock"]})
    response = client_for(personas.agent).get("/tickets/export.csv")
    text = b"".join(response.streaming_content).decode()
    rows = {row["Number"]: row for row in csv.DictReader(io.StringIO(text))}
    cell = rows[ticket.number]["Form values"]
    assert json.loads(cell) == {"asset_tag": "=cmd()", "extras": ["dock"]}
    assert not cell.startswith("=")  # a JSON object never starts a formula


# ---------------------------------------------------------------------------------------
# Filtering the list by a choice field's answer


def test_the_list_filters_by_a_choice_answer_from_the_allow_list(
    raise_ticket, fields, org, personas, client_for
):
    cc100 = raise_ticket(title="One", form_values={"asset_tag": "a", "cost_centre": "cc100"})
    raise_ticket(title="Two", form_values={"asset_tag": "b", "cost_centre": "cc200"})
    docked = raise_ticket(title="Three", form_values={"asset_tag": "c", "extras": ["bag", "dock"]})
    client = client_for(personas.agent)
    where = {"group": org.group_x.pk, "category": org.hardware.pk}

    def numbers(answer):
        response = client.get("/tickets", {**where, "answer": answer})
        assert response.status_code == 200
        return {t.number for t in response.context["tickets"]}

    assert numbers("cost_centre:cc100") == {cc100.number}
    assert numbers("extras:dock") == {docked.number}
    assert numbers("extras:bag") == {docked.number}
    for bad in ("cost_centre:nope", "asset_tag:a", "x:y", "cost_centre"):
        assert client.get("/tickets", {**where, "answer": bad}).status_code == 400, bad
    # Without a category there is no allow-list to choose from.
    assert client.get("/tickets", {"answer": "cost_centre:cc100"}).status_code == 400


def test_a_channel_that_cannot_ask_the_form_raises_the_ticket_without_answers(raise_ticket, fields):
    # Email in passes no form values: the ticket is raised, the answers come later.
    ticket = raise_ticket()
    assert ticket.form_values == {}


def _edit_data(ticket, org, **extra):
    return {
        "version": ticket.version,
        "title": ticket.title,
        "description": ticket.description,
        "priority": ticket.priority,
        "group": org.group_x.pk,
        "category": org.hardware.pk,
        "subcategory": org.laptop.pk,
        **extra,
    }


def test_the_edit_page_shows_the_answers_and_saves_changes_to_the_history(
    raise_ticket, fields, org, personas, client_for
):
    ticket = raise_ticket(
        form_values={"asset_tag": "LT-1", "manager": personas.lead.pk, "extras": ["bag"]}
    )
    client = client_for(personas.agent)
    html = client.get(f"/tickets/{ticket.number}/edit").content.decode()
    assert 'value="LT-1"' in html and 'value="lead@example.com"' in html
    assert 'value="bag" checked' in html
    data = _edit_data(
        ticket, org,
        **{"form-asset_tag": "LT-2", "form-manager": "lead@example.com", "form-extras": ["bag"]},
    )  # fmt: skip
    assert client.post(f"/tickets/{ticket.number}/edit", data).status_code == 302
    ticket.refresh_from_db()
    assert ticket.form_values == {
        "asset_tag": "LT-2", "manager": personas.lead.pk, "extras": ["bag"],
    }  # fmt: skip
    event = TicketEvent.objects.get(field__startswith="form:")
    assert (event.field, event.old_value, event.new_value) == ("form:asset_tag", '"LT-1"', '"LT-2"')


def test_a_bad_answer_on_the_edit_page_is_a_400_and_changes_nothing(
    raise_ticket, fields, org, personas, client_for
):
    ticket = raise_ticket(form_values={"asset_tag": "LT-1"})
    data = _edit_data(ticket, org, title="Renamed", **{"form-asset_tag": "", "form-amount": "x"})
    response = client_for(personas.agent).post(f"/tickets/{ticket.number}/edit", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html and "Enter a number." in html
    ticket.refresh_from_db()
    assert (ticket.title, ticket.form_values) == ("Laptop will not start", {"asset_tag": "LT-1"})

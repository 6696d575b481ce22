"""Request forms on the ticket pages: the new-ticket fields (an htmx partial that follows the
classification like the dependent selects), reading them from a POST, and the answers
on the ticket page.

The inputs are only read here (`request_forms.from_text`); whether a value is acceptable is
decided by the one validator the services call, whose errors come back keyed by field code
and are shown under each input.
"""

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.accounts.models import User
from portal.catalog import request_forms, selectors
from portal.catalog.models import FormField
from portal.lib.http import parse_id
from portal.tickets import history
from portal.tickets.models import Ticket

PREFIX = "form-"
Type = FormField.Type


@dataclass(frozen=True)
class PageField:
    """One input of the request form as the template draws it."""

    field: FormField
    name: str
    value: str  # the text typed (or the option chosen)
    values: tuple[str, ...]  # options ticked, for several-choice fields
    error: str

    @property
    def input_id(self) -> str:
        return f"id_{self.name}"


def _raw(data, field: FormField):
    name = PREFIX + field.key
    if field.field_type == Type.MULTI_CHOICE:
        return data.getlist(name) if hasattr(data, "getlist") else data.get(name, [])
    return data.get(name, "")


def page_fields(form: request_forms.RequestForm, data=None, errors=None) -> list[PageField]:
    """The form's inputs, filled with what was typed (`data`) and the validator's `errors`."""
    data, errors = data or {}, errors or {}
    fields = []
    for field in form.fields:
        raw = _raw(data, field)
        multi = field.field_type == Type.MULTI_CHOICE
        fields.append(
            PageField(
                field=field,
                name=PREFIX + field.key,
                value="" if multi else str(raw)[:5000],
                values=tuple(raw) if multi else (),
                error=errors.get(field.key, ""),
            )
        )
    return fields


def values_from(data, form: request_forms.RequestForm) -> dict:
    """The submitted inputs as values for the validator (fields not on the form are not read)."""
    return {field.key: request_forms.from_text(field, _raw(data, field)) for field in form.fields}


def form_of(category_id, subcategory_id) -> request_forms.RequestForm:
    return request_forms.form_for(category_id, subcategory_id)


@require_GET
def new_ticket_fields(request: HttpRequest) -> HttpResponse:
    """The request form for `?category=&subcategory=` (and whatever was typed so far, so
    changing the subcategory keeps the answers its form shares). Queries: the fields (1)."""
    category_id = parse_id(request.GET.get("category"))
    subcategory_id = parse_id(request.GET.get("subcategory"))
    form = form_of(category_id, subcategory_id)
    return render(
        request,
        "tickets/_request_form.html",
        {"request_fields": page_fields(form, request.GET)},
    )


def stored_as_inputs(values: dict, form: request_forms.RequestForm) -> dict:
    """A ticket's answers as the page's inputs (`form-<code>` → text), to edit them. People
    are shown by email (one query, only when a person field is answered)."""
    values = values or {}
    ids = {
        values[f.key]
        for f in form.fields
        if f.field_type == Type.USER and isinstance(values.get(f.key), int)
    }
    emails = dict(User.objects.filter(pk__in=ids).values_list("pk", "email")) if ids else {}
    inputs: dict = {}
    for field in form.fields:
        value = values.get(field.key)
        if field.field_type == Type.USER and value is not None:
            inputs[PREFIX + field.key] = emails.get(value, str(value))
        else:
            inputs[PREFIX + field.key] = request_forms.to_text(field, value)
    return inputs


# ---------------------------------------------------------------------------------------
# The ticket page


def answers_for_page(ticket: Ticket, events: list) -> list[request_forms.Answer]:
    """The ticket's answers, and labels on its request-form history events.

    No query for a ticket without a form; otherwise its field definitions (from the
    master-data cache, else 1) and, when a person field is answered or changed, those
    people's names (1).
    """
    form_events = [event for event in events if history.form_key(event) is not None]
    if not ticket.form_values and not form_events:
        return []
    definitions = selectors.form_definitions(ticket.category_id, ticket.subcategory_id)
    ids = request_forms.user_ids(ticket.form_values, definitions)
    ids |= history.form_event_user_ids(form_events, definitions)
    people = {}
    if ids:
        people = {
            user.pk: user.full_name or user.email
            for user in User.objects.filter(pk__in=ids).only("pk", "full_name", "email")
        }
    history.attach_form_fields(form_events, definitions, people)
    return request_forms.answers(ticket.form_values, definitions, people)

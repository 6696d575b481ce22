"""Request forms: the fields a classification asks for, as one JSON Schema and one validator.

A form is the active `FormField`s of a category plus those of the chosen subcategory
(a subcategory inherits its category's fields). `RequestForm.validate` is the only place
values are checked: the ticket services call it, so the new-ticket page, the API and any
later channel accept and refuse exactly the same things. It checks the values against the
form's JSON Schema (`schema()`, also what the API publishes) and then that every person
named is an active user; problems come back keyed by field code, in words a person can act
on, and nothing is written.

Values are stored as JSON-native codes: text as strings, numbers as numbers, dates as
`YYYY-MM-DD`, choices as option codes (a list for several), yes/no as booleans and people
as user ids.
"""

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from jsonschema import Draft202012Validator

from portal.accounts.models import User
from portal.accounts.selectors import active_user_by_email
from portal.catalog.invalidation import MASTERS
from portal.catalog.models import FormField
from portal.lib.cache_versions import cached

Type = FormField.Type
TEXT_MAX = 200
LONG_TEXT_MAX = 5000
MAX_FIELDS = 100  # per form: what a person can reasonably be asked in one go
CACHE_SECONDS = 24 * 3600


class FormValuesInvalid(Exception):
    """Some values were refused; `errors` maps each field code to one message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        listed = "; ".join(f"{key}: {message}" for key, message in errors.items())
        super().__init__(f"Some form fields need attention ({listed}).")


def _number(value: Decimal | None):
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def field_schema(field: FormField) -> dict:
    """The JSON Schema of one field's value."""
    base: dict = {"title": field.label}
    if field.help_text:
        base["description"] = field.help_text
    kind = field.field_type
    if kind in (Type.TEXT, Type.LONG_TEXT):
        limit = TEXT_MAX if kind == Type.TEXT else LONG_TEXT_MAX
        return {**base, "type": "string", "minLength": 1, "maxLength": limit}
    if kind == Type.NUMBER:
        schema = {**base, "type": "number"}
        if field.min_value is not None:
            schema["minimum"] = _number(field.min_value)
        if field.max_value is not None:
            schema["maximum"] = _number(field.max_value)
        return schema
    if kind == Type.DATE:
        return {**base, "type": "string", "format": "date"}
    codes = [option["code"] for option in field.options or ()]
    if kind == Type.CHOICE:
        return {**base, "type": "string", "enum": codes, "x-options": field.options}
    if kind == Type.MULTI_CHOICE:
        return {
            **base,
            "type": "array",
            "items": {"type": "string", "enum": codes},
            "uniqueItems": True,
            "minItems": 1,
            "x-options": field.options,
        }
    if kind == Type.YES_NO:
        return {**base, "type": "boolean"}
    if kind == Type.USER:
        return {**base, "type": "integer", "minimum": 1, "description": "A user id."}
    raise ValueError(f"Unknown field type {kind!r}")


def _message(field: FormField | None, error) -> str:
    """A jsonschema error in the words of the page (the validator's own are for programmers)."""
    if field is None:
        return "This form has no such field."
    kind, rule = field.field_type, getattr(error, "validator", None)
    if rule in ("minimum", "maximum"):
        word = "least" if rule == "minimum" else "most"
        return f"Enter a number of at {word} {error.validator_value}."
    if rule == "maxLength":
        return f"Use at most {error.validator_value} characters."
    if kind == Type.NUMBER:
        return "Enter a number."
    if kind == Type.DATE:
        return "Enter a date as YYYY-MM-DD."
    if kind in (Type.CHOICE, Type.MULTI_CHOICE):
        return "Choose from the options offered."
    if kind == Type.YES_NO:
        return "Answer yes or no."
    if kind == Type.USER:
        return "Choose an active person in the organisation."
    return "Enter text."


def _normalised(values) -> dict:
    """Strings trimmed; empty answers ("" / None / []) dropped, so "empty" means "absent"."""
    if not isinstance(values, dict):
        raise FormValuesInvalid({"form_values": "Send the form's values as an object."})
    cleaned = {}
    for key, value in values.items():
        if isinstance(value, str):
            value = value.strip()
        if value in ("", None, []):
            continue
        cleaned[str(key)] = value
    return cleaned


@dataclass(frozen=True)
class RequestForm:
    """The active fields a classification asks for, in the order they are shown."""

    fields: tuple[FormField, ...]

    def __bool__(self) -> bool:
        return bool(self.fields)

    def schema(self) -> dict:
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {f.key: field_schema(f) for f in self.fields},
            "required": [f.key for f in self.fields if f.required],
            "additionalProperties": False,
        }

    def validate(self, values) -> dict:
        """The values as stored (normalised), or `FormValuesInvalid` naming every problem."""
        values = _normalised(values or {})
        by_key = {f.key: f for f in self.fields}
        validator = Draft202012Validator(
            self.schema(), format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        errors: dict[str, str] = {}
        for error in validator.iter_errors(values):
            if error.validator == "required":
                for key in error.validator_value:
                    if key not in values:
                        errors.setdefault(key, "This field is required.")
            elif error.validator == "additionalProperties":
                for key in values.keys() - by_key.keys():
                    errors.setdefault(key, "This form has no such field.")
            else:
                key = str(error.absolute_path[0]) if error.absolute_path else "form_values"
                errors.setdefault(key, _message(by_key.get(key), error))
        people = {
            key: value
            for key, value in values.items()
            if key not in errors and by_key[key].field_type == Type.USER
        }
        if people:
            active = set(
                User.objects.filter(pk__in=people.values(), is_active=True).values_list(
                    "pk", flat=True
                )
            )
            for key, value in people.items():
                if value not in active:
                    errors[key] = _message(by_key[key], None)
        if errors:
            raise FormValuesInvalid(errors)
        return values


def _fields_q(category_id: int | None, subcategory_id: int | None) -> Q:
    where = Q(category_id=category_id) if category_id else Q(pk__in=[])
    if subcategory_id:
        # Only a subcategory of that category: a mismatched pair asks the category's fields.
        where |= Q(subcategory_id=subcategory_id, subcategory__category_id=category_id)
    return where


def form_for(category_id: int | None, subcategory_id: int | None = None) -> RequestForm:
    """The form a new ticket in this classification fills in.

    One query, then the fields come from the shared cache until master data changes (form
    fields are master data: any write starts a new "masters" version, see
    catalog/invalidation.py). The new-ticket page reads the form to draw and read its
    inputs, and the service reads it again to validate: one cache read each, no query.
    """
    if not category_id:
        return RequestForm(fields=())
    fields = cached(
        MASTERS,
        ["request-form", category_id, subcategory_id or 0],
        lambda: tuple(
            FormField.objects.filter(
                _fields_q(category_id, subcategory_id), is_active=True
            ).order_by("position", "subcategory_id", "id")[:MAX_FIELDS]
        ),
        timeout=CACHE_SECONDS,
    )
    return RequestForm(fields=fields)


@dataclass(frozen=True)
class PublishedForm:
    """A form a new ticket can meet, named for the OpenAPI document."""

    name: str  # FormValues_<category id>[_<subcategory id>]
    title: str  # "Group › Category[ › Subcategory]"
    category_id: int
    subcategory_id: int | None
    form: RequestForm


def published_forms() -> list[PublishedForm]:
    """Every form of an active classification: each category with active fields of its
    own, and each subcategory with fields of its own (its category's fields included, as
    `form_for` builds it). A subcategory without fields of its own asks its category's
    form. One query for the classifications, then one per form (`form_for`, so the
    document shows exactly what the validator checks); for the API's OpenAPI document."""
    from portal.catalog.models import Category, Subcategory

    owners = (
        FormField.objects.filter(is_active=True)
        .values_list("category_id", "subcategory_id")
        .distinct()
    )
    category_ids = {c for c, _ in owners if c}
    subcategory_ids = {s for _, s in owners if s}
    found: list[PublishedForm] = []
    categories = Category.objects.filter(
        pk__in=category_ids, is_active=True, group__is_active=True
    ).select_related("group")
    for category in categories:
        found.append(PublishedForm(
            name=f"FormValues_{category.pk}",
            title=f"{category.group.name} › {category.name}",
            category_id=category.pk, subcategory_id=None, form=form_for(category.pk),
        ))  # fmt: skip
    subcategories = Subcategory.objects.filter(
        pk__in=subcategory_ids, is_active=True, category__is_active=True,
        category__group__is_active=True,
    ).select_related("category__group")  # fmt: skip
    for sub in subcategories:
        found.append(PublishedForm(
            name=f"FormValues_{sub.category_id}_{sub.pk}",
            title=f"{sub.category.group.name} › {sub.category.name} › {sub.name}",
            category_id=sub.category_id, subcategory_id=sub.pk,
            form=form_for(sub.category_id, sub.pk),
        ))  # fmt: skip
    return sorted(found, key=lambda published: published.title)


def definitions_for(category_id: int | None, subcategory_id: int | None) -> dict[str, FormField]:
    """Every field, retired ones included, a ticket in this classification may have a
    value for, by code (one query): what the ticket page and the history label with."""
    if not category_id:
        return {}
    fields = FormField.objects.filter(_fields_q(category_id, subcategory_id)).order_by(
        "position", "subcategory_id", "id"
    )
    return {f.key: f for f in fields}


# ---------------------------------------------------------------------------------------
# Reading values


def user_ids(values: dict, definitions: dict[str, FormField]) -> set[int]:
    """The people a ticket's values name, to load them in one query."""
    return {
        value
        for key, value in (values or {}).items()
        if isinstance(value, int)
        and key in definitions
        and definitions[key].field_type == Type.USER
    }


def display(field: FormField | None, value, people: dict[int, str] | None = None) -> str:
    """A stored value as a person reads it (templates escape it)."""
    if value in (None, "", []):
        return ""
    if field is None:
        return value if isinstance(value, str) else json.dumps(value)
    kind = field.field_type
    if kind == Type.CHOICE:
        return field.option_label(value)
    if kind == Type.MULTI_CHOICE:
        return ", ".join(field.option_label(code) for code in value)
    if kind == Type.YES_NO:
        return "Yes" if value else "No"
    if kind == Type.USER:
        return (people or {}).get(value, f"user #{value}")
    if kind == Type.DATE:
        try:
            return dt.date.fromisoformat(value).strftime("%-d %b %Y")
        except (TypeError, ValueError):
            return str(value)
    return str(value)


@dataclass(frozen=True)
class Answer:
    """One value of a ticket as shown: its field's label (the code when the field is gone),
    the readable value, and whether the field has been retired."""

    key: str
    label: str
    text: str
    retired: bool


def answers(
    values: dict, definitions: dict[str, FormField], people: dict[int, str]
) -> list[Answer]:
    """A ticket's values in form order; values of fields no longer defined come last."""
    values = values or {}
    shown = [
        Answer(key, field.label, display(field, values[key], people), not field.is_active)
        for key, field in definitions.items()
        if key in values
    ]
    shown += [
        Answer(key, key, display(None, value), True)
        for key, value in values.items()
        if key not in definitions
    ]
    return shown


# ---------------------------------------------------------------------------------------
# Reading the page's text inputs into values


def from_text(field: FormField, raw: str | list[str]):
    """What a page's input means as a value for the validator; input that cannot be read
    is passed on as text so the validator names the field ("Enter a number.")."""
    kind = field.field_type
    if kind == Type.MULTI_CHOICE:
        return [item for item in (raw if isinstance(raw, list) else [raw]) if item]
    raw = (raw[-1] if raw else "") if isinstance(raw, list) else (raw or "")
    raw = raw.strip()
    if not raw:
        return None
    if kind == Type.NUMBER:
        try:
            number = Decimal(raw.replace(",", ""))
        except InvalidOperation:
            return raw
        return _number(number) if number.is_finite() else raw
    if kind == Type.YES_NO:
        return {"yes": True, "no": False}.get(raw, raw)
    if kind == Type.USER:
        if raw.isdigit():
            return int(raw)
        user = active_user_by_email(raw)
        return user.pk if user else raw
    return raw


def to_text(field: FormField, value, people: dict[int, str] | None = None) -> str | list[str]:
    """The inverse of `from_text`, to fill a page's input with a stored value."""
    if value in (None, "", []):
        return [] if field.field_type == Type.MULTI_CHOICE else ""
    kind = field.field_type
    if kind == Type.MULTI_CHOICE:
        return list(value)
    if kind == Type.YES_NO:
        return "yes" if value else "no"
    return str(value)


def changed_keys(old: dict, new: dict, keys: Iterable[str]) -> list[str]:
    return [key for key in keys if (old or {}).get(key) != (new or {}).get(key)]

"""Every write to request-form fields goes through these functions (see request_forms.py).

A field's code (`key`) and type are fixed once it exists: tickets store their values under
the code, and a value of one type does not read as another. Everything else (label, help
text, required, order, options, bounds) can change at any time. Fields are retired, not
deleted, so old tickets keep their values readable.
"""

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from portal.catalog.models import Category, FormField, Subcategory
from portal.catalog.services import has_invisible_characters

Type = FormField.Type
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
CHOICE_TYPES = (Type.CHOICE, Type.MULTI_CHOICE)
MAX_OPTIONS = 100
LABEL_MAX = 120
HELP_MAX = 300


def parse_options(text: str) -> list[dict]:
    """`laptop=Laptop; monitor=Monitor` (or one `code=Label` per line) → options.

    The same text is what the admin screen and the Excel sheet show, so a round trip is
    exact. A bare `code` is its own label.
    """
    options = []
    for part in re.split(r"[;\n]", text or ""):
        part = part.strip()
        if not part:
            continue
        code, _, label = part.partition("=")
        options.append({"code": code.strip(), "label": " ".join((label or code).split())})
    return options


def format_options(options: list[dict]) -> str:
    return "; ".join(f"{o['code']}={o['label']}" for o in options or ())


def _clean_text(value: str, *, field: str, what: str, limit: int, required: bool) -> str:
    value = " ".join((value or "").split())
    if required and not value:
        raise ValidationError({field: f"Give the field {what}."})
    if has_invisible_characters(value):
        raise ValidationError({field: "Use no control or invisible characters."})
    if len(value) > limit:
        raise ValidationError({field: f"Use at most {limit} characters."})
    return value


def _clean_options(field_type: str, options: list[dict]) -> list[dict]:
    if field_type not in CHOICE_TYPES:
        if options:
            raise ValidationError({"options": "Only choice fields have options."})
        return []
    if not options:
        raise ValidationError({"options": "A choice field needs at least one option."})
    if len(options) > MAX_OPTIONS:
        raise ValidationError({"options": f"Offer at most {MAX_OPTIONS} options."})
    seen, cleaned = set(), []
    for option in options:
        code, label = option.get("code", ""), option.get("label", "")
        if not KEY_RE.match(code):
            raise ValidationError(
                {"options": f"“{code}” is not a valid option code: use a-z, 0-9 and _."}
            )
        if code in seen:
            raise ValidationError({"options": f"The option code “{code}” is used twice."})
        if ";" in label or has_invisible_characters(label) or len(label) > LABEL_MAX:
            raise ValidationError(
                {"options": f"The label of “{code}” must be under {LABEL_MAX} characters "
                 "without semicolons or invisible characters."}
            )  # fmt: skip
        seen.add(code)
        cleaned.append({"code": code, "label": label or code})
    return cleaned


def _clean_bounds(field_type: str, low: Decimal | None, high: Decimal | None):
    if field_type != Type.NUMBER:
        if low is not None or high is not None:
            raise ValidationError({"min_value": "Only number fields have bounds."})
        return None, None
    if low is not None and high is not None and low > high:
        raise ValidationError({"max_value": "The maximum must not be below the minimum."})
    return low, high


def _key_taken(key: str, *, category: Category | None, subcategory: Subcategory | None) -> bool:
    """A code is unique along the inheritance chain: a subcategory's form is its own fields
    plus its category's, so the two may not share a code."""
    if subcategory is not None:
        mine = FormField.objects.filter(subcategory=subcategory, key=key)
        inherited = FormField.objects.filter(category_id=subcategory.category_id, key=key)
        return mine.exists() or inherited.exists()
    return FormField.objects.filter(category=category, key=key).exists() or (
        FormField.objects.filter(subcategory__category=category, key=key).exists()
    )


@transaction.atomic
def form_field_create(
    *,
    key: str,
    label: str,
    field_type: str,
    category: Category | None = None,
    subcategory: Subcategory | None = None,
    help_text: str = "",
    required: bool = False,
    position: int = 0,
    options: list[dict] = (),
    min_value: Decimal | None = None,
    max_value: Decimal | None = None,
    is_active: bool = True,
) -> FormField:
    """Add a field to a category's form (inherited by its subcategories) or to one
    subcategory's."""
    if (category is None) == (subcategory is None):
        raise ValidationError({"category": "Put the field on a category or on a subcategory."})
    key = (key or "").strip()
    if not KEY_RE.match(key):
        raise ValidationError(
            {"key": "Use 1–30 lower-case letters, digits or _, starting with a letter."}
        )
    if field_type not in Type.values:
        raise ValidationError({"field_type": "Choose a field type from the list."})
    if _key_taken(key, category=category, subcategory=subcategory):
        raise ValidationError({"key": f"The code “{key}” is already used on this form."})
    field = FormField(
        category=category,
        subcategory=subcategory,
        key=key,
        field_type=field_type,
        is_active=is_active,
    )
    apply_definition(
        field, label=label, help_text=help_text, required=required, position=position,
        options=list(options), min_value=min_value, max_value=max_value,
    )  # fmt: skip
    try:
        with transaction.atomic():
            field.save()
    except IntegrityError as exc:
        raise ValidationError({"key": f"The code “{key}” is already used on this form."}) from exc
    return field


def apply_definition(
    field: FormField, *, label, help_text, required, position, options, min_value, max_value
) -> None:
    """Check a definition and set it on `field` (unsaved); the Excel import plans with it."""
    field.label = _clean_text(label, field="label", what="a label", limit=LABEL_MAX, required=True)
    field.help_text = _clean_text(
        help_text, field="help_text", what="help text", limit=HELP_MAX, required=False
    )
    field.required = bool(required)
    if not 0 <= int(position) <= 32767:
        raise ValidationError({"position": "Use an order between 0 and 32767."})
    field.position = int(position)
    field.options = _clean_options(field.field_type, options)
    field.min_value, field.max_value = _clean_bounds(field.field_type, min_value, max_value)


@transaction.atomic
def form_field_update(
    *,
    field: FormField,
    label: str,
    help_text: str = "",
    required: bool = False,
    position: int = 0,
    options: list[dict] = (),
    min_value: Decimal | None = None,
    max_value: Decimal | None = None,
) -> FormField:
    """Change how a field is asked; its code and type stay."""
    apply_definition(
        field, label=label, help_text=help_text, required=required, position=position,
        options=list(options), min_value=min_value, max_value=max_value,
    )  # fmt: skip
    field.save(
        update_fields=[
            "label", "help_text", "required", "position", "options", "min_value", "max_value",
            "updated_at",
        ]
    )  # fmt: skip
    return field


@transaction.atomic
def form_field_retire(*, field: FormField) -> None:
    """Stop asking the field on new tickets; tickets that have a value keep showing it."""
    if field.is_active:
        field.is_active = False
        field.save(update_fields=["is_active", "updated_at"])


@transaction.atomic
def form_field_reactivate(*, field: FormField) -> None:
    if not field.is_active:
        field.is_active = True
        field.save(update_fields=["is_active", "updated_at"])

"""Request forms for tests: one field of every type, and a long form for query pins."""

from decimal import Decimal

from portal.catalog import form_services


def every_type_form(*, category=None, subcategory=None) -> dict:
    """One field of each type on `category` (or `subcategory`), keyed by code."""
    owner = {"category": category, "subcategory": subcategory}
    specs = [
        {"key": "asset_tag", "label": "Asset tag", "field_type": "text", "required": True},
        {"key": "details", "label": "Details", "field_type": "long_text"},
        {
            "key": "amount", "label": "Amount", "field_type": "number",
            "min_value": Decimal("0"), "max_value": Decimal("5000"),
        },
        {"key": "needed_by", "label": "Needed by", "field_type": "date"},
        {
            "key": "cost_centre", "label": "Cost centre", "field_type": "choice",
            "options": [
                {"code": "cc100", "label": "CC-100 IT"}, {"code": "cc200", "label": "CC-200 HR"},
            ],
        },
        {
            "key": "extras", "label": "Extras", "field_type": "multi_choice",
            "options": [{"code": "dock", "label": "Dock"}, {"code": "bag", "label": "Bag"}],
        },
        {"key": "urgent", "label": "Urgent?", "field_type": "yes_no"},
        {"key": "manager", "label": "Manager", "field_type": "user"},
    ]  # fmt: skip
    return {
        spec["key"]: form_service_create(position=index, **owner, **spec)
        for index, spec in enumerate(specs)
    }


def form_service_create(**kwargs):
    return form_services.form_field_create(**kwargs)


def long_form(*, category, count: int = 20) -> list:
    """`count` text fields on `category` (the new-ticket page's query pin uses 20)."""
    return [
        form_services.form_field_create(
            category=category,
            key=f"field_{index}",
            label=f"Field {index}",
            field_type="text",
            position=index,
        )  # fmt: skip
        for index in range(count)
    ]

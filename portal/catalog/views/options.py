"""Dependent selects: `<option>` lists for htmx, available to every signed-in user.

Only active items under an active parent are offered, so a deactivated category never
appears on a new ticket. A missing parent gives just the placeholder; a malformed id
gives 400 with a plain message.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.catalog.models import Category, Subcategory
from portal.catalog.views.common import bad_request
from portal.lib.http import parse_id


def _options(request: HttpRequest, parent_param: str, placeholder: str, items_for) -> HttpResponse:
    raw_parent = request.GET.get(parent_param, "")
    raw_selected = request.GET.get("selected", "")
    parent_id = parse_id(raw_parent) if raw_parent else None
    selected = parse_id(raw_selected) if raw_selected else None
    if raw_parent and parent_id is None:
        return bad_request(f"“{parent_param}” must be a positive whole number.")
    if raw_selected and selected is None:
        return bad_request("“selected” must be a positive whole number.")
    items = list(items_for(parent_id).only("id", "name")) if parent_id else []
    return render(
        request,
        "catalog/includes/options.html",
        {"items": items, "selected": selected, "placeholder": placeholder},
    )


@require_GET
def category_options(request: HttpRequest) -> HttpResponse:
    return _options(
        request,
        "group",
        "Choose a category",
        lambda group_id: (
            Category.objects.active()
            .filter(group_id=group_id, group__is_active=True)
            .order_by("name")
        ),
    )


@require_GET
def subcategory_options(request: HttpRequest) -> HttpResponse:
    # The mapping editor offers "any subcategory"; a ticket form asks for a choice.
    any_allowed = request.GET.get("placeholder") == "any"
    return _options(
        request,
        "category",
        "Any subcategory" if any_allowed else "Choose a subcategory",
        lambda category_id: (
            Subcategory.objects.active()
            .filter(
                category_id=category_id, category__is_active=True, category__group__is_active=True
            )
            .order_by("name")
        ),
    )

"""/catalog/form: the request form a classification asks for, as the JSON Schema its values
are validated against (`portal/catalog/request_forms.py`). Tickets send their answers as
`form_values` on POST/PATCH /tickets; the same validator checks them as on the page."""

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from portal.api.problems import Problem
from portal.api.schemas import BIGINT, Input, reject_unknown_query
from portal.catalog import request_forms
from portal.catalog.models import Category

router = Router(tags=["request forms"])


class FormQuery(Input):
    category: int = Field(ge=1, le=BIGINT)
    subcategory: int | None = Field(None, ge=1, le=BIGINT)


class FormOut(Schema):
    category: int
    subcategory: int | None
    values_schema: dict[str, Any] = Field(
        description="JSON Schema (draft 2020-12) of `form_values` for this classification: "
        "one property per field code, `required`, and no other properties."
    )


@router.get(
    "/form",
    response={200: FormOut, 400: Problem, 404: Problem, 422: Problem},
    summary="The request form of a classification",
)
def form_schema(request: HttpRequest, query: Query[FormQuery]):
    """Everyone signed in reads it, as they read the catalogue to raise tickets. A
    subcategory of another category is a 404, like an unknown category."""
    reject_unknown_query(request, FormQuery)
    category = Category.objects.filter(pk=query.category).first()
    if category is None or (
        query.subcategory is not None
        and not category.subcategories.filter(pk=query.subcategory).exists()
    ):
        raise Http404
    form = request_forms.form_for(category.pk, query.subcategory)
    return {
        "category": category.pk,
        "subcategory": query.subcategory,
        "values_schema": form.schema(),
    }

"""/masters: list, create, edit, deactivate, reactivate and delete every kind of master data.

The kinds are declared once in `catalog/masters.py`; these views are shared by all of them.
"""

import re
from functools import reduce
from operator import or_

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.accounts.decorators import admin_required
from portal.catalog import coverage
from portal.catalog.masters import KINDS, STATUSES, Kind, approval_steps_of
from portal.catalog.services import usage
from portal.catalog.views.common import (
    MASTER_DATA,
    PER_PAGE,
    bad_request,
    warn_of_new_gaps,
)
from portal.lib.forms import add_service_errors
from portal.lib.http import parse_id, posted_data

ACTIONS = ("deactivate", "reactivate", "delete")
OWNER_RE = re.compile(r"[cs][0-9]{1,12}")


def _kind(slug: str) -> Kind:
    try:
        return KINDS[slug]
    except KeyError:
        raise Http404("No such kind of master data.") from None


@admin_required(reason=MASTER_DATA)
@require_GET
def masters_index(request: HttpRequest) -> HttpResponse:
    # One count per kind (six small queries) plus the coverage summary.
    sections = [(kind, kind.queryset().model.objects.count()) for kind in KINDS.values()]
    return render(
        request,
        "catalog/masters/index.html",
        {"sections": sections, "summary": coverage.summary()},
    )


@admin_required(reason=MASTER_DATA)
@require_GET
def master_list(request: HttpRequest, kind: str) -> HttpResponse:
    k = _kind(kind)
    items = k.queryset()
    query = request.GET.get("q", "").strip()[:200]
    if query:
        items = items.filter(reduce(or_, (Q(**{f"{f}__icontains": query}) for f in k.search)))

    status = request.GET.get("status", "all")
    if k.has_status:
        if status not in STATUSES:
            return bad_request("Unknown status filter: use all, active or inactive.")
        items = items.filter(**STATUSES[status])

    parent_choices, parent_id = None, None
    if k.parent is not None:
        parent_choices = k.parent.choices()
        raw = request.GET.get(k.parent.param)
        if raw:
            parent_id = parse_id(raw)
            if parent_id is None:
                return bad_request(f"The {k.parent.label.lower()} filter must be a number.")
            items = items.filter(**{k.parent.lookup: parent_id})

    page = Paginator(items, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/masters/list.html",
        {
            "kind": k,
            "page": page,
            "query": query,
            "status": status,
            "statuses": list(STATUSES),
            "parent_choices": parent_choices,
            "parent_id": parent_id,
            "row_template": f"catalog/masters/rows/{k.slug}.html",
        },
    )


def _initial_from_query(request: HttpRequest, k: Kind) -> dict:
    """Prefill from links such as the coverage report's "choose another team", or a
    category's "Add an approval step"."""
    if k.slug == "approvals":
        owner = request.GET.get("owner", "")
        return {"owner": owner} if OWNER_RE.fullmatch(owner) else {}
    if k.slug != "mappings":
        return {}
    return {
        name: value
        for name in ("group", "category", "subcategory")
        if (value := parse_id(request.GET.get(name))) is not None
    }


@admin_required(reason=MASTER_DATA)
@require_http_methods(["GET", "POST"])
def master_create(request: HttpRequest, kind: str) -> HttpResponse:
    k = _kind(kind)
    form = k.form(posted_data(request), initial=_initial_from_query(request, k))
    if request.method == "POST" and form.is_valid():
        try:
            with warn_of_new_gaps(request):
                obj = k.create(form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Saved {k.singular} “{obj}”.")
            return redirect("master-list", kind=k.slug)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "catalog/masters/form.html", {"kind": k, "form": form, "obj": None}, status=status
    )


@admin_required(reason=MASTER_DATA)
@require_http_methods(["GET", "POST"])
def master_edit(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    k = _kind(kind)
    obj = get_object_or_404(k.queryset(), pk=pk)
    form = k.form_for_edit(posted_data(request), initial=k.initial(obj))
    if request.method == "POST" and form.is_valid():
        try:
            with warn_of_new_gaps(request):
                k.update(obj, form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Saved {k.singular} “{obj}”.")
            return redirect("master-edit", kind=k.slug, pk=obj.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "catalog/masters/form.html",
        {
            "kind": k,
            "form": form,
            "obj": obj,
            "used_by": usage(obj),
            "approval_steps": approval_steps_of(obj) if "approval_steps" in k.extra else None,
            "owner_value": f"{k.extra.get('approval_steps', '')}{obj.pk}",
        },
        status=status,
    )


@admin_required(reason=MASTER_DATA)
@require_POST
def master_action(request: HttpRequest, kind: str, pk: int, action: str) -> HttpResponse:
    k = _kind(kind)
    if action not in ACTIONS or (action != "delete" and not k.has_status):
        raise Http404("No such action.")
    obj = get_object_or_404(k.queryset().model, pk=pk)
    label = str(obj)
    try:
        with warn_of_new_gaps(request):
            getattr(k, action)(obj)
    except ValidationError as exc:
        # A refused delete names what uses the item; the page shows it as an error.
        messages.error(request, " ".join(exc.messages))
        return redirect("master-edit", kind=k.slug, pk=obj.pk)
    done = {"deactivate": "Deactivated", "reactivate": "Reactivated", "delete": "Deleted"}[action]
    messages.success(request, f"{done} {k.singular} “{label}”.")
    if action == "delete":
        return redirect("master-list", kind=k.slug)
    return redirect(reverse("master-edit", kwargs={"kind": k.slug, "pk": obj.pk}))

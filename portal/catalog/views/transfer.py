"""/masters/import (upload → preview → apply) and /masters/export."""

import io
import secrets

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.accounts.decorators import admin_required
from portal.catalog.exporting import catalog_export
from portal.catalog.forms import ImportUploadForm
from portal.catalog.importing import (
    FileRefused,
    ImportConflict,
    catalog_import_apply,
    catalog_import_plan,
)
from portal.catalog.models import PendingImport
from portal.catalog.services import pending_import_create, pending_import_delete
from portal.catalog.spreadsheet import HEADERS, MAX_BYTES
from portal.catalog.views.common import MASTER_DATA

SESSION_KEY = "catalog_import_token"
PREVIEW_ROWS = 200
TOO_BIG = "The file is over 10 MB, the limit; split it and import each part."


def _render_upload(request, form, status=200, error: str = ""):
    return render(
        request,
        "catalog/masters/import.html",
        {"form": form, "headers": HEADERS.values(), "error": error},
        status=status,
    )


@admin_required(reason=MASTER_DATA)
@never_cache
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render_upload(request, ImportUploadForm())
    # RejectMalformedInputMiddleware has already parsed the multipart body (files over
    # 2.5 MB spool to a temporary file, not memory), so the limit is checked here.
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_upload(request, form, status=400)
    if form.cleaned_data["file"].size > MAX_BYTES:
        form.add_error("file", TOO_BIG)
        return _render_upload(request, form, status=400)
    upload = form.cleaned_data["file"]
    data = upload.read(MAX_BYTES + 1)
    try:
        plan = catalog_import_plan(data)
    except FileRefused as exc:
        form.add_error("file", str(exc))
        return _render_upload(request, form, status=400)

    token = None
    if not plan.errors and plan.changed:
        token = _store_pending(request, upload.name, data)
    return _render_preview(request, plan, token=token, filename=upload.name)


def _store_pending(request: HttpRequest, filename: str, data: bytes) -> str:
    """Keep the file in the database, keyed by a random token held in this session."""
    pending = pending_import_create(
        user=request.user,
        filename=filename,
        content=data,
        replaces=request.session.get(SESSION_KEY),
    )
    request.session[SESSION_KEY] = pending.token
    return pending.token


def _render_preview(request, plan, *, token, filename, status=None) -> HttpResponse:
    changed = [row for row in plan.rows if row.action != "unchanged"]
    return render(
        request,
        "catalog/masters/import_preview.html",
        {
            "plan": plan,
            "filename": filename,
            "token": token,
            "row_counts": plan.row_counts,
            "changed_rows": changed[:PREVIEW_ROWS],
            "more_rows": max(0, len(changed) - PREVIEW_ROWS),
        },
        status=status or (400 if plan.errors else 200),
    )


@admin_required(reason=MASTER_DATA)
@never_cache
@require_POST
def import_apply(request: HttpRequest) -> HttpResponse:
    token = request.POST.get("token", "")
    expected = request.session.get(SESSION_KEY)
    pending = None
    if token and expected and secrets.compare_digest(token, expected):
        pending = PendingImport.objects.filter(token=token, created_by=request.user).first()
    if pending is None:
        return _render_upload(
            request,
            ImportUploadForm(),
            status=400,
            error="This preview has expired or belongs to another session; upload the file again.",
        )
    try:
        # Validated again: the catalogue may have changed since the preview.
        plan = catalog_import_apply(bytes(pending.content))
    except (FileRefused, ImportConflict) as exc:
        status = 400 if isinstance(exc, FileRefused) else 409
        return _render_upload(request, ImportUploadForm(), status=status, error=str(exc))
    if plan.errors:
        return _render_preview(request, plan, token=None, filename=pending.filename)
    pending_import_delete(pending=pending)
    request.session.pop(SESSION_KEY, None)
    messages.success(request, f"Imported {pending.filename}.")
    return render(
        request,
        "catalog/masters/import_done.html",
        {"plan": plan, "filename": pending.filename, "row_counts": plan.row_counts},
    )


@admin_required(reason=MASTER_DATA)
@require_GET
def export_download(request: HttpRequest) -> HttpResponse:
    buffer = io.BytesIO()
    catalog_export(buffer)
    buffer.seek(0)
    name = f"catalog-{timezone.localdate():%Y-%m-%d}.xlsx"
    return FileResponse(
        buffer,
        as_attachment=True,
        filename=name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )

"""A person's data, from their page in user management: the export and the erasure."""

import logging

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from portal.accounts.decorators import admin_required
from portal.accounts.models import User
from portal.accounts.types import AuthenticatedRequest
from portal.attachments.storage import get_storage
from portal.lib.forms import add_service_errors
from portal.lib.htmx import is_htmx
from portal.lib.http import posted_data
from portal.retention import erasure_services
from portal.retention.models import ErasureRequest
from portal.retention.person_export import person_zip

security_log = logging.getLogger("portal.security")
PEOPLE = "Only admins can export or erase a person's data."


@admin_required(reason=PEOPLE)
@require_GET
def person_export(request: AuthenticatedRequest, user_id: int) -> StreamingHttpResponse:
    person = get_object_or_404(User, pk=user_id)
    now = timezone.now()
    # The export is itself an access to personal data: on record before the first byte.
    security_log.warning(
        "person data exported", extra={"user_id": person.pk, "actor_id": request.user.pk}
    )
    response = StreamingHttpResponse(
        person_zip(person, get_storage(), when=now.strftime("%Y-%m-%d %H:%M")),
        content_type="application/zip",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="person-{person.pk}-{now:%Y%m%d-%H%M}.zip"'
    )
    response["Cache-Control"] = "no-store"
    return response


class ErasureForm(forms.Form):
    confirm_email = forms.CharField(
        label="Type their email address to confirm", max_length=254, strip=True
    )

    def __init__(self, person: User, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.person = person

    def clean_confirm_email(self) -> str:
        typed = self.cleaned_data["confirm_email"]
        if typed.lower() != self.person.email.lower():
            raise ValidationError("That is not this person's email address.", code="mismatch")
        return typed


@admin_required(reason=PEOPLE)
@require_http_methods(["GET", "POST"])
def person_erase(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    """The erasure page: what happens, the confirmation, then the request's progress."""
    person = get_object_or_404(User, pk=user_id)
    form = ErasureForm(person, posted_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            asked = erasure_services.erasure_request(user=person, actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Erasure under way (request {asked.pk}): the account can no longer sign "
                "in; the worker removes the rest and this page shows how far it has got.",
            )
            return redirect("person-erase", user_id=person.pk)
    latest = ErasureRequest.objects.filter(user=person).select_related("requested_by").first()
    context = {
        "person": person,
        "form": form,
        "erased": erasure_services.is_erased(person),
        "erasure": latest,
        "phase": erasure_services.PHASE_LABELS.get(latest.phase, latest.phase) if latest else "",
    }
    if is_htmx(request) and request.method == "GET":
        return render(request, "retention/person_erase.html#progress", context)
    status = 400 if request.method == "POST" else 200
    return render(request, "retention/person_erase.html", context, status=status)

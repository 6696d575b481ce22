"""Passkeys: adding, listing and removing one's own in Settings, and using one as the
second step of a password sign-in.

Both ceremonies are two POSTs: the page's script (`static/js/passkeys.js`) asks for the
options (JSON, which keeps a challenge in the session), lets the browser talk to the
authenticator, then submits the page's form with the browser's answer in a hidden field,
so the outcome is an ordinary page: a redirect, or the form again with the reason.
"""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from portal.accounts import passkey_services, passkeys, two_factor
from portal.accounts.models import PasskeyDevice, User
from portal.accounts.two_factor_views import (
    EXPIRED,
    check_throttled,
    code_context,
    finish_sign_in,
    refused,
)
from portal.accounts.types import AuthenticatedRequest

security_log = logging.getLogger("portal.security")

PASSKEY_FAILED = (
    "That passkey did not confirm your sign-in. Try again, or use a code from your "
    "authenticator app or a recovery code."
)
NOT_ADDED = "The passkey was not added: the answer from your browser could not be checked."
SSO_ACCOUNT = (
    "Passkeys are a second step after your password, and your account signs in without "
    "one (company sign-in)."
)
WRONG_PASSWORD = "Your current password is not correct."  # noqa: S105 (a message)


def _options(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="application/json")


def _problem(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


# --- Settings: list, add, remove ------------------------------------------------------------


def _list_page(request: HttpRequest, user: User, *, status: int = 200, **extra) -> HttpResponse:
    context = {
        "passkeys": list(passkeys.passkeys_of(user)),
        "can_add": user.has_usable_password(),
        "required": two_factor.required_for(user),
        "name": "",
        **extra,
    }
    return render(request, "accounts/passkeys.html", context, status=status)


def _enrolling(request: HttpRequest) -> tuple[User, two_factor.Pending | None] | None:
    """Who is adding a passkey: the signed-in person, or someone half signed in whose
    sign-in requires a second factor they do not have yet (like the authenticator set-up
    at sign-in). None for anyone else."""
    if isinstance(request.user, User) and request.user.is_authenticated:
        return request.user, None
    pending = two_factor.pending_of(request.session)
    if pending is None or two_factor.enrolled(pending.user):
        return None
    return pending.user, pending


@login_not_required
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def passkeys_view(request: HttpRequest) -> HttpResponse:
    """GET: the person's passkeys. POST: add the one the browser just made."""
    enrolling = _enrolling(request)
    if enrolling is None:
        if request.method == "POST":
            messages.info(request, EXPIRED)
        return redirect_to_login(request.get_full_path())
    user, pending = enrolling
    if request.method == "GET":
        if pending is not None:
            return redirect("two-factor-setup")
        return _list_page(request, user)
    name = request.POST.get("name", "")
    if not user.has_usable_password():
        return _list_page(request, user, status=400, error=SSO_ACCOUNT)
    try:
        new = passkeys.verify_registration(
            request.session, user, request.POST.get("credential", "")
        )
    except passkeys.PasskeyRefused as refusal:
        security_log.warning(
            "passkey not added", extra={"user_id": user.pk, "reason": refusal.reason}
        )
        return _add_refused(request, user, pending, NOT_ADDED, name)
    try:
        device, codes = passkey_services.passkey_add(user=user, name=name, passkey=new)
    except ValidationError as error:
        return _add_refused(request, user, pending, " ".join(error.messages), name)
    if pending is not None:
        finish_sign_in(request, pending, device)
        security_log.info("two-factor ok", extra={"user_id": user.pk, "method": "passkey"})
    if codes:
        next_url = pending.next_url if pending else "/settings/two-factor/passkeys"
        return render(request, "accounts/two_factor_codes.html", {"codes": codes, "next": next_url})
    messages.success(request, f"Passkey “{device.name}” added.")
    return redirect(pending.next_url if pending else "passkeys")


def _add_refused(request, user: User, pending, error: str, name: str) -> HttpResponse:
    if pending is None:
        return _list_page(request, user, status=400, error=error, name=name)
    context = {"pending": True, "passkey_error": error, "name": name}
    return render(request, "accounts/two_factor_setup.html", context, status=400)


@login_not_required
@csrf_protect
@never_cache
@require_POST
def registration_options_view(request: HttpRequest) -> HttpResponse:
    enrolling = _enrolling(request)
    if enrolling is None:
        return _problem(EXPIRED, 400)
    user, _ = enrolling
    if not user.has_usable_password():
        return _problem(SSO_ACCOUNT, 400)
    return _options(passkeys.registration_options(request.session, user))


@sensitive_post_parameters("password")
@never_cache
@require_POST
def remove_view(request: AuthenticatedRequest, device_id: int) -> HttpResponse:
    """Removing a passkey takes the current password (a session left open is not enough);
    a wrong one counts as a failed sign-in attempt."""
    user = request.user
    device = get_object_or_404(PasskeyDevice, pk=device_id, user=user)
    password = request.POST.get("password", "")

    def check() -> PasskeyDevice | None:
        return device if password and user.check_password(password) else None

    proved, refusal = check_throttled(request, user, check)
    if proved is None:
        message = refusal.message if refusal else WRONG_PASSWORD
        status = 429 if refusal else 400
        response = _list_page(
            request, user, status=status, remove_error=message, removing=device.pk
        )
        if refusal:
            response["Retry-After"] = str(refusal.retry_after)
        return response
    try:
        turned_off = passkey_services.passkey_remove(user=user, device_id=device.pk)
    except PermissionDenied as error:
        return _list_page(request, user, status=400, remove_error=str(error), removing=device.pk)
    messages.success(
        request,
        f"Passkey “{device.name}” removed."
        + (" Two-factor is off: your password alone signs you in." if turned_off else ""),
    )
    return redirect("passkeys")


# --- Sign-in: the second step ---------------------------------------------------------------


@login_not_required
@csrf_protect
@never_cache
@require_POST
def sign_in_options_view(request: HttpRequest) -> HttpResponse:
    pending = two_factor.pending_of(request.session)
    if pending is None:
        return _problem(EXPIRED, 400)
    if not two_factor.has_passkey(pending.user):
        return _problem("No passkey is set up for this account.", 400)
    return _options(passkeys.sign_in_options(request.session, pending.user))


@login_not_required
@csrf_protect
@never_cache
@require_POST
def sign_in_view(request: HttpRequest) -> HttpResponse:
    """The browser's answer to the challenge: a good one finishes the sign-in; a bad,
    replayed or foreign one is a failed attempt on the sign-in counters."""
    pending = two_factor.pending_of(request.session)
    if pending is None:
        messages.info(request, EXPIRED)
        return redirect("login")
    user = pending.user
    credential = request.POST.get("credential", "")

    def check() -> PasskeyDevice | None:
        try:
            assertion = passkeys.verify_sign_in(request.session, user, credential)
            passkey_services.passkey_used(device=assertion.device, sign_count=assertion.sign_count)
        except passkeys.PasskeyRefused as refusal:
            security_log.warning(
                "passkey refused", extra={"user_id": user.pk, "reason": refusal.reason}
            )
            return None
        except passkey_services.StalePasskeyUse:
            security_log.warning("passkey refused", extra={"user_id": user.pk, "reason": "race"})
            return None
        return assertion.device

    device, refusal = check_throttled(request, user, check)
    if device is None:
        return refused(
            request, "accounts/two_factor_code.html", code_context(user), refusal, PASSKEY_FAILED
        )
    finish_sign_in(request, pending, device)
    security_log.info("two-factor ok", extra={"user_id": user.pk, "method": "passkey"})
    return redirect(pending.next_url)

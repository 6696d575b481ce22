"""The second step of a password sign-in, authenticator set-up and the settings page part.

Codes are counted by the same sign-in counters as passwords (`throttle.py`): a wrong code
is a failed attempt of that account from that address, so the lockout and the slowdown
hold for codes too. Every view is POST-only for changes, with the CSRF token.
"""

import logging
from base64 import b32encode
from collections.abc import Callable

import segno
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.models import Device

from portal.accounts import throttle, two_factor, two_factor_services
from portal.accounts.models import User
from portal.accounts.types import AuthenticatedRequest
from portal.lib.request_info import client_ip

security_log = logging.getLogger("portal.security")

WRONG_CODE = "That code is not right. Use the current code from your authenticator app."
EXPIRED = "Your sign-in took too long. Sign in again."


def check_throttled(request: HttpRequest, user: User, check: Callable[[], Device | None]):
    """(device, refusal): a second factor checked under the sign-in counters. `check`
    returns the device that accepted the proof (a code, a passkey's answer) or None."""
    keys = throttle._keys(user.email, client_ip(request))
    refusal = throttle.attempt_begin(keys)
    if refusal is not None:
        security_log.warning(
            f"two-factor refused: {refusal.reason}",
            extra={"user_id": user.pk, "ip": client_ip(request)},
        )
        return None, refusal
    device = check()
    if device is not None:
        throttle.attempt_succeeded(keys)
        return device, None
    security_log.warning("two-factor failed", extra={"user_id": user.pk, "ip": client_ip(request)})
    if throttle.attempt_failed(keys):
        return None, throttle.locked_refusal()
    return None, None


def _check_throttled(request: HttpRequest, user: User, code: str):
    return check_throttled(request, user, lambda: two_factor.check_code(user, code))


def refused(request, template, context, refusal, wrong=WRONG_CODE) -> HttpResponse:
    if refusal is None:
        context["error"] = wrong
        return render(request, template, context, status=400)
    context["error"] = refusal.message
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(refusal.retry_after)
    return response


def finish_sign_in(request: HttpRequest, pending: two_factor.Pending, device) -> None:
    two_factor.pending_end(request.session)
    login(request, pending.user, backend=pending.backend)
    otp_login(request, device)


@login_not_required
@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def code_view(request: HttpRequest) -> HttpResponse:
    """After the password: a code from the authenticator app, or a recovery code."""
    pending = two_factor.pending_of(request.session)
    if pending is None:
        messages.info(request, EXPIRED)
        return redirect("login")
    if not two_factor.enrolled(pending.user):
        return redirect("two-factor-setup")
    context = code_context(pending.user)
    if request.method == "POST":
        device, refusal = _check_throttled(request, pending.user, request.POST.get("code", ""))
        if device is None:
            return refused(request, "accounts/two_factor_code.html", context, refusal)
        finish_sign_in(request, pending, device)
        security_log.info("two-factor ok", extra={"user_id": pending.user.pk})
        if two_factor.is_recovery(device):
            left = two_factor.recovery_codes_left(pending.user)
            messages.warning(
                request,
                f"You used a recovery code; {left} left. Make new ones in Settings "
                "if your authenticator is lost.",
            )
        return redirect(pending.next_url)
    return render(request, "accounts/two_factor_code.html", context)


def code_context(user: User) -> dict:
    """What the code page offers: a code from the app, a passkey, a recovery code."""
    return {
        "authenticator": two_factor.enrolled_device(user) is not None,
        "passkeys": two_factor.has_passkey(user),
    }


def _qr_context(device) -> dict:
    """The set-up link as a QR code in an <img> (a data: URI: no inline SVG or style for
    the CSP to refuse), and the secret for typing in by hand."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return {
        "qr": segno.make(device.config_url, error="m").svg_data_uri(
            scale=5, border=2, light="#fff"
        ),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    }


@login_not_required
@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def setup_view(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator: during a sign-in that requires one, or from Settings.

    POST `begin` makes a new secret (GET never does), the page shows it as a QR code,
    POST `confirm` with a code from the app turns it on and shows the recovery codes once.
    """
    pending = None
    if request.user.is_authenticated:
        user = request.user
    else:
        pending = two_factor.pending_of(request.session)
        if pending is None:
            messages.info(request, EXPIRED)
            return redirect("login")
        if two_factor.enrolled(pending.user):
            return redirect("two-factor-code")
        user = pending.user
    context: dict = {"pending": pending is not None}
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "begin":
        two_factor_services.two_factor_setup_begin(user=user)
        return redirect("two-factor-setup")
    device = two_factor.unconfirmed_authenticator(user)
    if device is not None:
        context.update(_qr_context(device))
    if action == "confirm" and device is not None:
        code = request.POST.get("code", "")
        keys = throttle._keys(user.email, client_ip(request))
        refusal = throttle.attempt_begin(keys)
        codes = (
            None
            if refusal
            else two_factor_services.two_factor_setup_confirm(
                user=user, code=two_factor.normalise_code(code)
            )
        )
        if codes is None:
            if refusal is None and throttle.attempt_failed(keys):
                refusal = throttle.locked_refusal()
            return refused(request, "accounts/two_factor_setup.html", context, refusal)
        throttle.attempt_succeeded(keys)
        if pending is not None:
            finish_sign_in(request, pending, two_factor.enrolled_device(user))
        return render(
            request,
            "accounts/two_factor_codes.html",
            {"codes": codes, "next": pending.next_url if pending else "/settings/two-factor"},
        )
    if request.method == "POST":
        return HttpResponse("Unknown two-factor action.", status=400)
    return render(request, "accounts/two_factor_setup.html", context)


@never_cache
@require_http_methods(["GET"])
def settings_view(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    return render(request, "accounts/two_factor_settings.html", _settings_context(user))


def _settings_context(user: User) -> dict:
    authenticator = two_factor.enrolled_device(user) is not None
    passkeys = two_factor.passkey_count(user)
    return {
        # Asked of the database only when neither is set up (recovery codes alone).
        "enrolled": authenticator or bool(passkeys) or two_factor.enrolled(user),
        "required": two_factor.required_for(user),
        "codes_left": two_factor.recovery_codes_left(user),
        "authenticator": authenticator,
        "passkeys": passkeys,
    }


@never_cache
@require_POST
def recovery_codes_view(request: AuthenticatedRequest) -> HttpResponse:
    if not two_factor.enrolled(request.user):
        return HttpResponse("Set up an authenticator first.", status=400)
    codes = two_factor_services.two_factor_recovery_codes_renew(user=request.user)
    return render(
        request, "accounts/two_factor_codes.html", {"codes": codes, "next": "/settings/two-factor"}
    )


@sensitive_post_parameters("code")
@never_cache
@require_POST
def disable_view(request: AuthenticatedRequest) -> HttpResponse:
    """Turning it off takes a current code: a session left open is not enough."""
    if two_factor.required_for(request.user):
        messages.error(request, "Two-factor is required for your account and stays on.")
        return redirect("two-factor-settings")
    device, refusal = _check_throttled(request, request.user, request.POST.get("code", ""))
    if device is None:
        context = _settings_context(request.user)
        return refused(request, "accounts/two_factor_settings.html", context, refusal)
    two_factor_services.two_factor_disable(user=request.user, actor=request.user)
    messages.success(request, "Two-factor is off: your password alone signs you in.")
    return redirect("two-factor-settings")

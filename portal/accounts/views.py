"""Sign in and out, the user's own settings, and admin user management."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from portal.accounts import password_reset, services, throttle, two_factor, two_factor_services
from portal.accounts.decorators import admin_required
from portal.accounts.forms import (
    BAD_CREDENTIALS,
    LoginForm,
    PasswordChangeForm,
    PasswordForUserForm,
    PasswordResetRequestForm,
    ProfileForm,
    UserCreateForm,
    UserEditForm,
)
from portal.accounts.models import User
from portal.accounts.redirects import safe_next_url
from portal.accounts.sso import sso_enabled
from portal.accounts.types import AuthenticatedRequest
from portal.lib.forms import add_service_errors
from portal.lib.http import posted_data
from portal.lib.request_info import client_ip

security_log = logging.getLogger("portal.security")

USERS_PER_PAGE = 50
MANAGE_USERS = "Only admins can manage users."
SSO_ONLY = (
    "Wrong email or password, or this account signs in with the company sign-in only "
    "(password sign-in is kept for emergency admin accounts)."
)


def _tokens(count: int) -> str:
    return f"{count} API token{'s' if count != 1 else ''} {'was' if count == 1 else 'were'}"


@login_not_required
@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = safe_next_url(request.POST.get("next") or request.GET.get("next"))
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url)
    form = LoginForm(posted_data(request))
    status, retry_after = 200, None
    if request.method == "POST":
        status = 400
        if form.is_valid():
            outcome = throttle.authenticate_throttled(
                request, form.cleaned_data["email"], form.cleaned_data["password"]
            )
            if outcome.user is not None:
                if two_factor.needed(outcome.user):
                    # Not signed in yet: the code (or setting up an authenticator) first.
                    two_factor.pending_begin(
                        request.session,
                        user=outcome.user,
                        backend=getattr(
                            outcome.user, "backend", settings.AUTHENTICATION_BACKENDS[0]
                        ),
                        next_url=next_url,
                    )
                    return redirect("two-factor-code")
                login(request, outcome.user)  # rotates the session key
                return redirect(next_url)
            if outcome.refusal is not None:
                form.add_error(None, outcome.refusal.message)
                status = 429
                retry_after = outcome.refusal.retry_after
            else:
                form.add_error(None, BAD_CREDENTIALS if settings.LOCAL_LOGIN else SSO_ONLY)
    context = {
        "form": form,
        "next": next_url,
        "sso": sso_enabled(),
        "company": settings.OIDC_COMPANY_NAME,
        "local_login": settings.LOCAL_LOGIN,
    }
    response = render(request, "accounts/login.html", context, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@login_not_required
@require_http_methods(["GET", "POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    """GET asks for confirmation (a link must not sign anyone out); POST signs out."""
    if request.method == "POST":
        logout(request)  # deletes the server-side session
        messages.info(request, "You have signed out.")
        return redirect("login")
    if not request.user.is_authenticated:
        return redirect("login")
    return render(request, "accounts/logout.html")


@never_cache
@require_http_methods(["GET", "POST"])
def settings_view(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    profile_form = ProfileForm(initial={"full_name": user.full_name})
    password_form = PasswordChangeForm(user)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "profile":
            profile_form = ProfileForm(request.POST)
            if profile_form.is_valid():
                services.user_update(
                    user=user, actor=user, full_name=profile_form.cleaned_data["full_name"]
                )
                messages.success(request, "Your name has been saved.")
                return redirect("settings")
        elif action == "password":
            password_form = PasswordChangeForm(user, request.POST)
            if password_form.is_valid():
                revoked = services.user_set_password(
                    user=user,
                    password=password_form.cleaned_data["new_password"],
                    actor=user,
                    keep_session_key=request.session.session_key,
                )
                # Keeps this session valid; the hash change signs out every other one.
                from django.contrib.auth import update_session_auth_hash

                update_session_auth_hash(request, user)
                messages.success(
                    request,
                    "Your password has been changed. Other sessions were signed out"
                    + (f" and {_tokens(revoked)} revoked." if revoked else "."),
                )
                return redirect("settings")
        else:
            return HttpResponse("Unknown settings action.", status=400)
        status = 400
    else:
        status = 200
    return render(
        request,
        "accounts/settings.html",
        {"profile_form": profile_form, "password_form": password_form},
        status=status,
    )


@admin_required(reason=MANAGE_USERS)
@require_http_methods(["GET"])
def user_list(request: AuthenticatedRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    users = User.objects.order_by("full_name", "email")
    if query:
        users = users.filter(Q(email__icontains=query) | Q(full_name__icontains=query))
    page = Paginator(users, USERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "accounts/user_list.html", {"page": page, "query": query})


@admin_required(reason=MANAGE_USERS)
@require_http_methods(["GET", "POST"])
def user_create(request: AuthenticatedRequest) -> HttpResponse:
    form = UserCreateForm(posted_data(request))
    if request.method == "POST" and form.is_valid():
        user = services.user_create(
            email=form.cleaned_data["email"],
            full_name=form.cleaned_data["full_name"],
            password=form.cleaned_data["new_password"],
            is_staff=form.cleaned_data["is_staff"],
            actor=request.user,
        )
        messages.success(request, f"{user.email} can now sign in.")
        return redirect("user-edit", user_id=user.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/user_create.html", {"form": form}, status=status)


@admin_required(reason=MANAGE_USERS)
@require_http_methods(["GET", "POST"])
def user_edit(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    target = get_object_or_404(User, pk=user_id)
    form = UserEditForm.for_user(target, posted_data(request))
    if request.method == "POST" and form.is_valid():
        if target == request.user and not (
            form.cleaned_data["is_active"] and form.cleaned_data["is_staff"]
        ):
            form.add_error(None, "You cannot remove your own admin rights or deactivate yourself.")
        else:
            try:
                services.user_update(
                    user=target,
                    actor=request.user,
                    full_name=form.cleaned_data["full_name"],
                    is_active=form.cleaned_data["is_active"],
                    is_staff=form.cleaned_data["is_staff"],
                    on_triage_duty=form.cleaned_data["on_triage_duty"],
                    manager_email=form.cleaned_data["manager"],
                )
            except ValidationError as exc:
                # The last admin on triage duty while a routing gap exists: nothing saved.
                target.refresh_from_db()
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{target.email} has been saved.")
                return redirect("user-edit", user_id=target.pk)
    status = 400 if request.method == "POST" else 200
    return _user_edit_page(request, target, form=form, status=status)


def _user_edit_page(
    request: AuthenticatedRequest,
    target: User,
    *,
    form: UserEditForm | None = None,
    password_form: PasswordForUserForm | None = None,
    two_factor_error: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "accounts/user_edit.html",
        {
            "target": target,
            "form": form or UserEditForm.for_user(target),
            "password_form": password_form or PasswordForUserForm(target),
            "two_factor_enrolled": two_factor.enrolled(target),
            "recovery_codes_left": two_factor.recovery_codes_left(target),
            "two_factor_error": two_factor_error,
        },
        status=status,
    )


RESET_OWN_TWO_FACTOR = (
    "Your own two-factor is changed on your two-factor settings page, with a current code."
)


@admin_required(reason=MANAGE_USERS)
@require_POST
def user_two_factor_reset(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    """Remove someone's authenticator and recovery codes (a lost phone)."""
    target = get_object_or_404(User, pk=user_id)
    if target == request.user:
        # Turning one's own off needs a current code; a stolen admin session must not
        # get round that here.
        return _user_edit_page(request, target, two_factor_error=RESET_OWN_TWO_FACTOR, status=400)
    removed = two_factor_services.two_factor_reset(user=target, actor=request.user)
    if removed:
        messages.success(
            request,
            f"Two-factor of {target.email} has been reset: their authenticator and recovery "
            "codes no longer work.",
        )
    else:
        messages.info(request, f"{target.email} had no two-factor set up.")
    return redirect("user-edit", user_id=target.pk)


@admin_required(reason=MANAGE_USERS)
@require_POST
def user_reset_password(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    target = get_object_or_404(User, pk=user_id)
    form = PasswordForUserForm(target, request.POST)
    if form.is_valid():
        revoked = services.user_set_password(
            user=target, password=form.cleaned_data["new_password"], actor=request.user
        )
        messages.success(
            request,
            f"New password set for {target.email}; their sessions ended"
            + (f" and {_tokens(revoked)} revoked." if revoked else "."),
        )
        return redirect("user-edit", user_id=target.pk)
    return _user_edit_page(request, target, password_form=form, status=400)


RESET_SESSION_KEY = "_password_reset_token"
RESET_SENT_MESSAGE = (
    "If an account exists for that email, a link to choose a new password is on its way. "
    "It works once and expires in {minutes} minutes."
)


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def password_reset_request_view(request: HttpRequest) -> HttpResponse:
    """Same answer whether or not the email has an account: no enumeration."""
    form = PasswordResetRequestForm(posted_data(request))
    if request.method == "POST" and form.is_valid():
        password_reset.password_reset_request(
            email=form.cleaned_data["email"], ip=client_ip(request)
        )
        messages.info(
            request, RESET_SENT_MESSAGE.format(minutes=settings.PASSWORD_RESET_TIMEOUT // 60)
        )
        return redirect("login")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/password_reset_request.html", {"form": form}, status=status)


@login_not_required
@never_cache
@require_http_methods(["GET"])
def password_reset_confirm_view(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """Move the token from the URL into the session, so it cannot leak through the
    Referer header or browser history of the page where the new password is typed."""
    if password_reset.user_for_reset(uidb64, token) is None:
        return render(request, "accounts/password_reset_invalid.html", status=400)
    request.session[RESET_SESSION_KEY] = token
    return redirect("password-reset-set", uidb64=uidb64)


@login_not_required
@sensitive_post_parameters("new_password", "new_password_again")
@never_cache
@require_http_methods(["GET", "POST"])
def password_reset_set_view(request: HttpRequest, uidb64: str) -> HttpResponse:
    user = password_reset.user_for_reset(uidb64, request.session.get(RESET_SESSION_KEY, ""))
    if user is None:
        return render(request, "accounts/password_reset_invalid.html", status=400)
    form = PasswordForUserForm(user, posted_data(request))
    if request.method == "POST" and form.is_valid():
        services.user_set_password(
            user=user, password=form.cleaned_data["new_password"], actor=user
        )
        password_reset.clear_lockout(user)
        request.session.pop(RESET_SESSION_KEY, None)
        messages.success(request, "Your password has been changed. Sign in with it now.")
        return redirect("login")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/password_reset_set.html", {"form": form}, status=status)

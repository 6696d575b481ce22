"""/settings/tokens: the signed-in user lists, creates and revokes their own tokens;
/settings/users/<id>/tokens: admins list and revoke anyone's."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from portal.accounts.decorators import admin_required
from portal.accounts.models import User
from portal.api import tokens
from portal.api.forms import TokenCreateForm
from portal.lib.forms import add_service_errors
from portal.lib.http import parse_id, posted_data


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """GET lists; POST creates one and shows its secret on this response only (no redirect:
    the secret must not be stored anywhere, not even briefly in the session)."""
    form = TokenCreateForm(posted_data(request))
    created = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                created = tokens.token_create(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    expires_in_days=form.cleaned_data["expires_in_days"],
                )
            except tokens.TooManyTokens as error:  # a Conflict: before ValidationError
                add_service_errors(form, error)
                status = 409
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                status = 201
                form = TokenCreateForm()
    context = {
        "tokens": tokens.live_tokens(request.user),
        "form": form,
        "created": created,
        "max_days": tokens.max_lifetime_days(),
        "token_limit": settings.API_TOKENS_PER_USER,
    }
    return render(request, "api/tokens.html", context, status=status)


@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Only the owner's live tokens; anyone else's id is a 404 like one that does not exist."""
    if not tokens.token_revoke(user=request.user, token_id=token_id):
        raise Http404("No such token.")
    messages.success(request, "The token was revoked; it stops working now.")
    return redirect("api-tokens")


@admin_required(reason="Only admins can see or revoke other people's tokens.")
@never_cache
@require_http_methods(["GET", "HEAD"])
def user_token_list(request: HttpRequest, user_id: int) -> HttpResponse:
    """Another person's live tokens (names, prefixes, dates; never a secret), for admins."""
    owner = get_object_or_404(User, pk=user_id)
    context = {"owner": owner, "tokens": tokens.live_tokens(owner)}
    return render(request, "api/user_tokens.html", context)


@admin_required(reason="Only admins can see or revoke other people's tokens.")
@require_POST
def user_token_revoke(request: HttpRequest, user_id: int) -> HttpResponse:
    """One token (`token` posted) or, with `all`, every live token of that person."""
    owner = get_object_or_404(User, pk=user_id)
    token_id = parse_id(request.POST.get("token", ""))
    if request.POST.get("all"):
        count = tokens.token_revoke_for(actor=request.user, owner=owner)
        messages.success(request, f"{count} token{'s' if count != 1 else ''} revoked.")
    elif token_id is not None:
        if not tokens.token_revoke_for(actor=request.user, owner=owner, token_id=token_id):
            raise Http404("No such token.")
        messages.success(request, "The token was revoked; it stops working now.")
    else:
        raise Http404("No such token.")
    return redirect("api-user-tokens", user_id=owner.pk)

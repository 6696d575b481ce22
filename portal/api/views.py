"""/settings/tokens: the signed-in user lists, creates and revokes their own tokens."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from portal.api import tokens
from portal.api.forms import TokenCreateForm
from portal.lib.http import posted_data


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
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                status = 201
                form = TokenCreateForm()
    context = {"tokens": tokens.live_tokens(request.user), "form": form, "created": created}
    return render(request, "api/tokens.html", context, status=status)


@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Only the owner's live tokens; anyone else's id is a 404 like one that does not exist."""
    if not tokens.token_revoke(user=request.user, token_id=token_id):
        raise Http404("No such token.")
    messages.success(request, "The token was revoked; it stops working now.")
    return redirect("api-tokens")

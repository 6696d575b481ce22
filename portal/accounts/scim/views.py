"""The SCIM endpoints: /scim/v2/Users (list with a userName filter, create) and
/scim/v2/Users/<id> (read, PATCH, PUT, DELETE = deactivate), plus the service provider
configuration. Only a request with `Authorization: Bearer <SCIM_TOKEN>` is answered; a
signed-in browser session counts for nothing here (and CSRF does not apply: no cookie
is read).
"""

import hmac
import json
import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from portal.accounts import services
from portal.accounts.models import User
from portal.accounts.scim import resources
from portal.accounts.scim.resources import ScimError
from portal.lib.request_info import client_ip

security_log = logging.getLogger("portal.security")

CONTENT_TYPE = "application/scim+json"
MAX_PAGE = 100
MAX_BODY = 64 * 1024


def _answer(body: dict, status: int = 200, **headers) -> HttpResponse:
    response = JsonResponse(body, status=status, content_type=CONTENT_TYPE)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _error(error: ScimError) -> HttpResponse:
    response = _answer(error.body(), error.status)
    if error.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="scim"'
    return response


def _authorised(request: HttpRequest) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    expected = settings.SCIM_TOKEN
    return (
        scheme.lower() == "bearer"
        and bool(given)
        and hmac.compare_digest(given.strip().encode(), expected.encode())
    )


def _body(request: HttpRequest):
    if request.content_type not in {CONTENT_TYPE, "application/json"}:
        raise ScimError(415, f"Send {CONTENT_TYPE} or application/json.", "invalidSyntax")
    if len(request.body) > MAX_BODY:
        raise ScimError(413, "The body is too large.", "tooMany")
    try:
        return json.loads(request.body)
    except ValueError as error:
        raise ScimError(400, "The body is not JSON.", "invalidSyntax") from error


def scim_endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """404 while SCIM is off; 401 without the bearer token; ScimError → its answer."""

    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not settings.SCIM_TOKEN:
            return HttpResponse(status=404)
        if not _authorised(request):
            security_log.warning("scim refused: bad token", extra={"ip": client_ip(request)})
            return _error(ScimError(401, "A valid bearer token is required."))
        try:
            return view(request, *args, **kwargs)
        except ScimError as error:
            return _error(error)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return login_not_required(csrf_exempt(never_cache(wrapped)))


def _user(user_id: int) -> User:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise ScimError(404, "No such user.")
    return user


@scim_endpoint
@require_http_methods(["GET", "POST"])
def users_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _create(request)
    email = resources.user_name_filter(request.GET.get("filter"))
    users = User.objects.order_by("pk")
    if email is not None:
        users = users.filter(email=email)
    try:
        start = max(1, int(request.GET.get("startIndex", 1)))
        count = min(MAX_PAGE, max(0, int(request.GET.get("count", MAX_PAGE))))
    except ValueError as error:
        raise ScimError(400, "startIndex and count must be numbers.", "invalidValue") from error
    total = users.count()
    page = list(users[start - 1 : start - 1 + count]) if count else []
    return _answer(
        {
            "schemas": [resources.LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(page),
            "Resources": [resources.user_resource(user) for user in page],
        }
    )


def _create(request: HttpRequest) -> HttpResponse:
    new = resources.new_user(_body(request))
    if User.objects.filter(email=new.email).exists():
        raise ScimError(409, "A user with this userName exists.", "uniqueness")
    try:
        user = services.user_create(
            email=new.email, full_name=new.full_name, password=None, is_active=new.active
        )
    except IntegrityError as error:  # created in parallel
        raise ScimError(409, "A user with this userName exists.", "uniqueness") from error
    security_log.info("scim user created", extra={"user_id": user.pk, "active": user.is_active})
    return _answer(resources.user_resource(user), 201, Location=resources.location(user))


@scim_endpoint
@require_http_methods(["GET", "PATCH", "PUT", "DELETE"])
def user_view(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _user(user_id)
    if request.method == "GET":
        return _answer(resources.user_resource(user))
    if request.method == "DELETE":
        # The portal keeps people (their tickets and history name them): deprovisioning
        # deactivates.
        _apply(user, resources.Changes(active=False))
        return HttpResponse(status=204)
    body = _body(request)
    changes = (
        resources.patch_changes(body) if request.method == "PATCH" else resources.put_changes(body)
    )
    _apply(user, changes)
    user.refresh_from_db()
    return _answer(resources.user_resource(user))


def _apply(user: User, changes: resources.Changes) -> None:
    try:
        if changes.full_name is not None and changes.full_name != user.full_name:
            services.user_update(user=user, actor=None, full_name=changes.full_name)
        if changes.active is not None and changes.active != user.is_active:
            services.user_set_active(user=user, active=changes.active, reason="scim")
            security_log.warning(
                "scim user " + ("activated" if changes.active else "deactivated"),
                extra={"user_id": user.pk},
            )
    except ValidationError as error:
        raise ScimError(409, " ".join(error.messages), "mutability") from error


@scim_endpoint
@require_http_methods(["GET"])
def service_provider_config_view(request: HttpRequest) -> HttpResponse:
    unsupported = {"supported": False}
    return _answer(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": True},
            "bulk": {**unsupported, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": MAX_PAGE},
            "changePassword": unsupported,
            "sort": unsupported,
            "etag": unsupported,
            "authenticationSchemes": [
                {
                    "type": "oauthbearertoken",
                    "name": "Bearer token",
                    "description": "The SCIM_TOKEN the portal is configured with.",
                }
            ],
        }
    )

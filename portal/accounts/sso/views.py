"""The two views of company sign-in: start (POST from the login page) and the callback.

Both are mozilla-django-oidc views with the provider's endpoints from discovery, and
every failure turned into a message on the sign-in page and a `portal.security` line.
"""

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from portal.accounts.redirects import safe_next_url
from portal.accounts.sso import backchannel, discovery, sso_enabled
from portal.accounts.sso.claims import SsoRefused
from portal.lib.request_info import client_ip

security_log = logging.getLogger("portal.security")

UNAVAILABLE = (
    "Company sign-in is not reachable right now. Try again in a few minutes; "
    "if it stays down, an administrator can still sign in with the emergency account."
)
CANCELLED = "The company sign-in was cancelled or refused. Start again when you are ready."
REPLAYED = "That sign-in link was already used or has expired. Start again."


def _settings_or_discovery(attr, *args):
    """mozilla-django-oidc reads everything through `get_settings`; the provider's
    endpoints come from its discovery document instead of settings."""
    if attr == "OIDC_OP_AUTHORIZATION_ENDPOINT":
        return discovery.provider().authorization_endpoint
    if attr == "OIDC_OP_TOKEN_ENDPOINT":
        return discovery.provider().token_endpoint
    if attr == "LOGIN_REDIRECT_URL_FAILURE":
        return settings.LOGIN_URL
    return getattr(settings, attr, *args)


def _refuse(request: HttpRequest, code: str, message: str, **detail) -> HttpResponse:
    security_log.warning("sso refused", extra={"reason": code, "ip": client_ip(request), **detail})
    messages.error(request, message)
    return redirect("login")


@method_decorator([login_not_required, csrf_protect, never_cache], name="dispatch")
class SsoStartView(OIDCAuthenticationRequestView):
    """POST (with the CSRF token) from "Sign in with …": redirect to the provider with
    state, nonce and a PKCE challenge kept in the session."""

    http_method_names = ["post"]
    get_settings = staticmethod(_settings_or_discovery)

    def __init__(self, **kwargs):
        # The library reads the endpoint at construction; we resolve it per request.
        super(OIDCAuthenticationRequestView, self).__init__(**kwargs)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    def post(self, request: HttpRequest) -> HttpResponse:
        if not sso_enabled():
            return HttpResponseNotFound()
        try:
            endpoint = discovery.provider().authorization_endpoint
        except discovery.ProviderUnavailable as error:
            return _refuse(request, "provider-unavailable", UNAVAILABLE, error=str(error))
        issuer = urlsplit(settings.OIDC_ISSUER)
        if urlsplit(endpoint)[:2] != issuer[:2]:
            # The page's CSP allows forms to lead to the issuer's origin only.
            return _refuse(request, "provider-origin", UNAVAILABLE, endpoint=endpoint)
        self.OIDC_OP_AUTH_ENDPOINT = endpoint
        return self.get(request)


@method_decorator([login_not_required, never_cache], name="dispatch")
class SsoCallbackView(OIDCAuthenticationCallbackView):
    """The provider sends the browser back here with `code` and `state` (or `error`).
    GET by the protocol; the state (bound to this session, used once) is its CSRF check."""

    get_settings = staticmethod(_settings_or_discovery)

    @property
    def success_url(self) -> str:
        return safe_next_url(self.request.session.get("oidc_login_next"))

    def login_failure(self):
        error = self.request.GET.get("error")
        if error:
            security_log.info(
                "sso ended by provider", extra={"error": error[:100], "ip": client_ip(self.request)}
            )
            messages.info(self.request, CANCELLED)
            return redirect("login")
        return _refuse(self.request, "state-missing", REPLAYED)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso_enabled():
            return HttpResponseNotFound()
        try:
            return super().get(request)
        except SsoRefused as refusal:
            return _refuse(request, refusal.code, refusal.message, **refusal.detail)
        except discovery.ProviderUnavailable as error:
            return _refuse(request, "provider-unavailable", UNAVAILABLE, error=str(error))
        except SuspiciousOperation:
            # A state this session did not start, or one already used (a replay).
            return _refuse(request, "state-unknown", REPLAYED)


@login_not_required
@csrf_exempt  # a server-to-server POST from the provider; the signed token is the proof
@never_cache
@require_POST
def backchannel_logout_view(request: HttpRequest) -> HttpResponse:
    """OpenID Connect Back-Channel Logout: `logout_token` (form-encoded) from the provider.
    200 when the token is good (also when nobody is bound to it), 400 otherwise."""
    if not sso_enabled():
        return HttpResponseNotFound()
    try:
        claims = backchannel.verify_logout_token(request.POST.get("logout_token", ""))
    except SsoRefused as refusal:
        security_log.warning(
            "sso back-channel logout refused",
            extra={"reason": refusal.code, "ip": client_ip(request), **refusal.detail},
        )
        return JsonResponse({"error": "invalid_request"}, status=400)
    except discovery.ProviderUnavailable as error:
        # The keys could not be fetched: the provider retries or the re-check catches it.
        security_log.warning(
            "sso back-channel logout refused",
            extra={"reason": "provider-unavailable", "error": str(error)},
        )
        return JsonResponse({"error": "temporarily_unavailable"}, status=503)
    try:
        backchannel.sso_backchannel_logout(issuer=settings.OIDC_ISSUER, claims=claims)
    except SsoRefused as refusal:  # a jti acted on before
        security_log.warning(
            "sso back-channel logout refused",
            extra={"reason": refusal.code, "ip": client_ip(request), **refusal.detail},
        )
        return JsonResponse({"error": "invalid_request"}, status=400)
    return HttpResponse(status=200)

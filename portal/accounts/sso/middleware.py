"""Re-check company sign-ins with the provider, so someone disabled there loses access
within OIDC_RECHECK_MINUTES (mozilla-django-oidc's SessionRefresh, extended).

Every OIDC_RECHECK_MINUTES a session signed in through the company is checked again:

- With a refresh token (Entra ID with `offline_access`, Google with
  `access_type=offline`): the portal asks the token endpoint directly, whatever the
  request. The provider refusing (`invalid_grant`: the account was disabled, its
  sessions revoked or its password reset) ends every session of the user and revokes
  their API tokens. A provider that does not answer keeps the session and is asked
  again a minute later: an outage of the provider must not sign everybody out.
- Without one: on the next full page load (GET, not htmx) the browser goes to the
  provider with `prompt=none` and comes back signed in again, or signed out.
"""

import logging
import time

import requests
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.urls import reverse
from django.utils.deprecation import MiddlewareMixin
from mozilla_django_oidc.middleware import SessionRefresh

from portal.accounts.services import user_sign_out_everywhere
from portal.accounts.sso import discovery, sso_enabled
from portal.accounts.sso.refresh_tokens import read_refresh_token, store_refresh_token
from portal.accounts.sso.views import _settings_or_discovery

security_log = logging.getLogger("portal.security")

BACKEND = "portal.accounts.sso.backend.SsoBackend"
EXPIRY_KEY = "oidc_id_token_expiration"
RETRY_SECONDS = 60
ENDED = "Your company sign-in has ended. Sign in again."


class SsoSessionRefresh(SessionRefresh):
    get_settings = staticmethod(_settings_or_discovery)

    def __init__(self, get_response):
        # The library reads its settings (and the provider's endpoint) at start-up; here
        # they are read per request, and only for sessions that need a check.
        MiddlewareMixin.__init__(self, get_response)

    # The attributes the library's process_request reads, at call time.
    OIDC_RP_CLIENT_ID = property(lambda self: settings.OIDC_RP_CLIENT_ID)
    OIDC_RP_SCOPES = property(lambda self: settings.OIDC_RP_SCOPES)
    OIDC_STATE_SIZE = 32
    OIDC_NONCE_SIZE = 32
    OIDC_USE_NONCE = True
    OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
    OIDC_EXEMPT_URLS: list = []

    @property
    def OIDC_OP_AUTHORIZATION_ENDPOINT(self) -> str:  # noqa: N802
        return discovery.provider().authorization_endpoint

    @property
    def exempt_urls(self) -> set[str]:
        return {reverse("oidc_authentication_init"), reverse("oidc_authentication_callback")}

    def process_request(self, request):
        if not sso_enabled() or not request.user.is_authenticated:
            return None
        session = request.session
        if session.get(BACKEND_SESSION_KEY) != BACKEND or request.path in self.exempt_urls:
            return None
        if session.get(EXPIRY_KEY, 0) > time.time():
            return None
        refresh_token = read_refresh_token(session)
        if refresh_token:
            return self._check_with_refresh_token(request, refresh_token)
        if request.method != "GET" or request.headers.get("HX-Request"):
            return None  # wait for a full page load: the browser must go to the provider
        try:
            return super().process_request(request)
        except discovery.ProviderUnavailable as error:
            self._provider_down(request, error)
            return None

    def _check_with_refresh_token(self, request, refresh_token: str) -> HttpResponse | None:
        session = request.session
        try:
            response = requests.post(
                discovery.provider().token_endpoint,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": refresh_token,
                    "client_id": settings.OIDC_RP_CLIENT_ID,
                    "client_secret": settings.OIDC_RP_CLIENT_SECRET,
                },
                timeout=settings.OIDC_TIMEOUT,
            )
            answer = response.json() if response.content else {}
        except (requests.RequestException, ValueError, discovery.ProviderUnavailable) as error:
            self._provider_down(request, error)
            return None
        if response.status_code == 200 and isinstance(answer, dict):
            store_refresh_token(session, answer.get("refresh_token") or refresh_token)
            session[EXPIRY_KEY] = time.time() + settings.OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS
            return None
        if response.status_code in (400, 401) and isinstance(answer, dict):
            # RFC 6749 §5.2: invalid_grant is the provider saying "not any more".
            user = request.user
            auth.logout(request)
            user_sign_out_everywhere(user=user, reason=f"provider: {answer.get('error')}")
            messages.info(request, ENDED)
            return self._to_login(request)
        self._provider_down(request, f"token endpoint answered {response.status_code}")
        return None

    def _provider_down(self, request, error) -> None:
        security_log.warning(
            "sso recheck postponed: provider unavailable",
            extra={"user_id": request.user.pk, "error": str(error)[:200]},
        )
        request.session[EXPIRY_KEY] = time.time() + RETRY_SECONDS
        return None

    def _to_login(self, request) -> HttpResponse:
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = reverse("login")
            return response
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)

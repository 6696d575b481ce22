"""POST /auth/token: email + password → a personal access token.

The same brute-force rules as the login page (portal.accounts.throttle, counted in the
same tables, so failures on either surface add up), the same answer for an unknown email
and a wrong password, and 429 with Retry-After while the account or address is locked.
"""

import logging

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse
from django.views.decorators.debug import sensitive_variables
from ninja import Field, Router, Schema, Status

from portal.accounts import throttle
from portal.accounts.emails import normalize_email
from portal.accounts.forms import BAD_CREDENTIALS
from portal.api import tokens
from portal.api.problems import Problem, problem
from portal.api.schemas import Input
from portal.lib.request_info import client_ip

security_log = logging.getLogger("portal.security")

router = Router(tags=["auth"])


class TokenRequest(Input):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field("API token", min_length=1, max_length=tokens.NAME_MAX)
    expires_in_days: int | None = Field(30, ge=1, le=tokens.MAX_LIFETIME_DAYS)


class TokenOut(Schema):
    token: str = Field(description="Shown once: store it now.")
    id: int
    name: str
    prefix: str
    expires_at: str | None


@router.post(
    "/token",
    auth=None,
    response={201: TokenOut, 400: Problem, 422: Problem, 429: Problem},
    summary="Exchange email and password for a token",
)
@sensitive_variables("payload")
def token_exchange(request: HttpRequest, payload: TokenRequest, response: HttpResponse):
    email = normalize_email(payload.email)
    ip = client_ip(request)
    locked = problem(
        request,
        429,
        throttle.LOCKED_MESSAGE.format(minutes=throttle.lockout_minutes()),
        slug="locked-out",
        headers={"Retry-After": str(settings.LOGIN_LOCKOUT)},
    )
    if throttle.is_locked(email, ip):
        security_log.warning("api token refused: locked", extra={"email": email, "ip": ip})
        return locked
    user = authenticate(request, username=email, password=payload.password)
    if user is None:
        if throttle.record_failure(email, ip):
            return locked
        return problem(request, 400, BAD_CREDENTIALS, slug="invalid-credentials")
    throttle.record_success(email)
    new = tokens.token_create(user=user, name=payload.name, expires_in_days=payload.expires_in_days)
    security_log.info("api token issued", extra={"user_id": user.pk, "token_id": new.token.pk})
    # RFC 6749 §5.1: a response carrying a credential must not be stored by any cache.
    response["Cache-Control"] = "no-store"
    return Status(
        201,
        {
            "token": new.secret,
            "id": new.token.pk,
            "name": new.token.name,
            "prefix": new.token.prefix,
            "expires_at": new.token.expires_at.isoformat() if new.token.expires_at else None,
        },
    )

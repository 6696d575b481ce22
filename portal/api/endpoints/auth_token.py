"""POST /auth/token: email + password → a personal access token.

The same brute-force rules as the login page (portal.accounts.throttle, counted in the
same rows, so failures on either surface add up), the same answer for an unknown email
and a wrong password, and 429 with Retry-After while the account is locked at this
address, the address is locked, or the account is slowed down.
"""

import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.debug import sensitive_variables
from ninja import Field, Router, Schema, Status

from portal.accounts import throttle, two_factor
from portal.accounts.forms import BAD_CREDENTIALS
from portal.api import tokens
from portal.api.problems import Problem, problem
from portal.api.schemas import Input

TWO_FACTOR_NEEDED = (
    "This account signs in with a second factor: create a token on the portal's "
    "API tokens page instead."
)

security_log = logging.getLogger("portal.security")

router = Router(tags=["auth"])


class TokenRequest(Input):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field("API token", min_length=1, max_length=tokens.NAME_MAX)
    expires_in_days: int = Field(
        default_factory=tokens.default_lifetime_days,  # 90, or less if the maximum is less
        ge=1,
        description="Every token expires: 1 to API_TOKEN_MAX_DAYS (365 by default) days.",
    )


class TokenOut(Schema):
    token: str = Field(description="Shown once: store it now.")
    id: int
    name: str
    prefix: str
    expires_at: str


@router.post(
    "/token",
    auth=None,
    response={201: TokenOut, 400: Problem, 403: Problem, 409: Problem, 422: Problem, 429: Problem},
    summary="Exchange email and password for a token",
)
@sensitive_variables("payload")
def token_exchange(request: HttpRequest, payload: TokenRequest, response: HttpResponse):
    # A lifetime over the maximum is refused before any password is checked.
    days = tokens.check_lifetime(payload.expires_in_days)
    outcome = throttle.authenticate_throttled(request, payload.email, payload.password)
    if outcome.refusal is not None:
        return problem(
            request,
            429,
            outcome.refusal.message,
            slug="locked-out" if outcome.refusal.reason == "locked" else "slowed-down",
            headers={"Retry-After": str(outcome.refusal.retry_after)},
        )
    user = outcome.user
    if user is None:
        return problem(request, 400, BAD_CREDENTIALS, slug="invalid-credentials")
    if two_factor.needed(user):
        # A password alone is not this account's sign-in: tokens come from the settings page.
        return problem(request, 403, TWO_FACTOR_NEEDED, slug="two-factor-required")
    try:
        new = tokens.token_create(user=user, name=payload.name, expires_in_days=days)
    except tokens.TooManyTokens as error:
        return problem(request, 409, error.message, slug="too-many-tokens")
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
            "expires_at": new.token.expires_at.isoformat(),
        },
    )

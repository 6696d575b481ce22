"""The authentication backend for company sign-in (a mozilla-django-oidc backend).

The library's own checks are not enough for us, so token verification is ours:
mozilla-django-oidc does not check the audience or the issuer and accepts whatever
algorithm is configured; here only RS256 with a key from the provider's JWKS passes,
and `iss`, `aud` (and `azp`), `exp`, `iat` and the nonce are all required and checked.
"""

from dataclasses import replace

import jwt
import requests
from django.conf import settings
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import absolutify

from portal.accounts import session_user
from portal.accounts.models import SsoRoleMapping, User
from portal.accounts.sessions import OIDC_SID_SESSION_KEY
from portal.accounts.sso import discovery, graph, sso_enabled
from portal.accounts.sso.claims import SsoRefused, identity_from_claims
from portal.accounts.sso.refresh_tokens import store_refresh_token
from portal.accounts.sso.services import sso_identity_sign_in

ALGORITHMS = ["RS256"]
RETRY = "The company sign-in could not be completed. Start again from the sign-in page."


def _refused(code: str, **detail) -> SsoRefused:
    return SsoRefused(code, RETRY, **detail)


class SsoBackend(OIDCAuthenticationBackend):
    def __init__(self, *args, **kwargs):
        # The library reads every endpoint at construction; Django builds a backend for
        # each request of a signed-in user, so nothing may be fetched here.
        self.UserModel = User

    # The library's attribute names, resolved at call time (discovery is cached).
    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:  # noqa: N802
        return discovery.provider().token_endpoint

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str:  # noqa: N802
        return discovery.provider().userinfo_endpoint

    @property
    def OIDC_RP_CLIENT_ID(self) -> str:  # noqa: N802
        return settings.OIDC_RP_CLIENT_ID

    @property
    def OIDC_RP_CLIENT_SECRET(self) -> str:  # noqa: N802
        return settings.OIDC_RP_CLIENT_SECRET

    def authenticate(self, request, nonce=None, code_verifier=None, **credentials):
        """Only the callback view calls this (with the nonce of its state); a password
        sign-in carries credentials and never reaches the provider."""
        if request is None or credentials or not nonce or not sso_enabled():
            return None
        code, state = request.GET.get("code"), request.GET.get("state")
        if not code or not state:
            return None
        self.request = request
        token_request = {
            "client_id": self.OIDC_RP_CLIENT_ID,
            "client_secret": self.OIDC_RP_CLIENT_SECRET,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": absolutify(request, reverse("oidc_authentication_callback")),
        }
        if code_verifier is not None:
            token_request["code_verifier"] = code_verifier
        try:
            tokens = self.get_token(token_request)
        except requests.HTTPError as error:
            status = getattr(error.response, "status_code", None)
            raise _refused("token-request-refused", status=status) from error
        except (requests.RequestException, ValueError) as error:
            raise discovery.ProviderUnavailable(f"token endpoint: {error!r}") from error
        claims = self.verify_token(tokens.get("id_token") or "", nonce=nonce)
        identity = identity_from_claims(claims, issuer=settings.OIDC_ISSUER)
        if identity.groups is None:
            # Entra's groups overage: ask Graph about the mapped groups, before any
            # transaction opens. Unanswered, roles stay as they are.
            mapped = set(SsoRoleMapping.objects.values_list("claim_value", flat=True))
            if mapped:
                found = graph.member_groups(tokens.get("access_token") or "", mapped)
                identity = replace(identity, groups=found)
        user = sso_identity_sign_in(identity=identity)
        store_refresh_token(request.session, tokens.get("refresh_token"))
        # The provider's session id, for a back-channel logout that names only it; the
        # sign-in signal records it on the session (`UserSession.oidc_sid`).
        sid = claims.get("sid")
        request.session[OIDC_SID_SESSION_KEY] = sid if isinstance(sid, str) else ""
        return user

    def verify_token(self, token, **kwargs):
        """The ID token's claims, or SsoRefused: signature (RS256, a JWKS key), issuer,
        audience, authorised party, expiry, issue time and nonce."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise _refused("id-token-malformed") from error
        if header.get("alg") not in ALGORITHMS:
            # `none`, and HS256 signed with the public key as the "secret".
            raise _refused("id-token-algorithm", alg=header.get("alg"))
        key = self._signing_key(header)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=settings.OIDC_RP_CLIENT_ID,
                issuer=discovery.provider().issuer,
                leeway=settings.OIDC_CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise _refused("id-token-expired") from error
        except jwt.InvalidAudienceError as error:
            raise _refused("id-token-audience") from error
        except jwt.InvalidIssuerError as error:
            raise _refused("id-token-issuer") from error
        except jwt.PyJWTError as error:
            raise _refused("id-token-invalid", error=error.__class__.__name__) from error
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != settings.OIDC_RP_CLIENT_ID:
            raise _refused("id-token-audience")
        if kwargs.get("nonce") is not None and claims.get("nonce") != kwargs["nonce"]:
            raise _refused("id-token-nonce")
        return claims

    def _signing_key(self, header: dict):
        kid = header.get("kid")
        for refresh in (False, True):
            for jwk in discovery.signing_keys(refresh=refresh):
                if jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
                    continue
                if kid is not None and jwk.get("kid") != kid:
                    continue
                if jwk.get("alg", header["alg"]) != header["alg"]:
                    continue
                return jwt.PyJWK(jwk, algorithm=header["alg"])
        raise _refused("id-token-unknown-key", kid=kid)

    def get_user(self, user_id):
        # The row read with the session when it is this account (accounts/session_user.py).
        user = session_user.take(user_id) or User.objects.filter(pk=user_id).first()
        return user if user is not None and user.is_active else None

"""A real OpenID provider on loopback for the company sign-in tests.

oidc-provider-mock (authlib under Flask) runs in a thread on a free loopback port and
serves discovery, the sign-in page, the token and userinfo endpoints and its JWKS. The
authorisation code flow is the real one. A thin WSGI layer in front can replace the ID
token the token endpoint returns (`provider.forge = ...`) and publish extra keys in the
JWKS, so tests can hand the portal a token with the wrong audience, an expired one, one
signed with `none` or HS256, or with a key the provider has not published.
"""

import base64
import hashlib
import hmac
import json
import os
import socket
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from urllib.parse import urlsplit

import jwt
import pytest
import requests
import werkzeug.serving
from cryptography.hazmat.primitives.asymmetric import rsa

from portal.testing.smtp import free_port

# The mock refuses plain HTTP unless told this is a test.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

CLIENT_ID = "portal-test-client"
CLIENT_SECRET = "portal-test-secret"
Forge = Callable[[dict, dict], str]  # (claims the provider issued, header) -> the token sent


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SigningKey:
    """An RSA key of the test harness, with the JWK the provider may publish."""

    def __init__(self, kid: str):
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwk = {
            **json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key())),
            "kid": kid,
            "use": "sig",
            "alg": "RS256",
        }

    def sign(self, claims: dict, *, alg: str = "RS256") -> str:
        return jwt.encode(claims, self.private, algorithm=alg, headers={"kid": self.kid})

    def public_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def unsigned_token(claims: dict) -> str:
    """`alg: none`: a token anyone can write."""
    return jwt.encode(claims, None, algorithm="none")


def hmac_token(claims: dict, secret: bytes, *, kid: str) -> str:
    """HS256 keyed with `secret`: with the provider's public key as the secret this is
    the RS256/HS256 confusion attack (PyJWT refuses to build it, so it is built here)."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


class Provider:
    """The running provider: its URL (the issuer), users, and the forging controls."""

    def __init__(self, url: str):
        self.url = url
        self.issuer = url
        self.forge: Forge | None = None
        self.harness_key = SigningKey("harness-key")
        self.published: list[SigningKey] = [self.harness_key]
        self.jwks_requests = 0
        self.discovery_requests = 0

    # --- people at the provider --------------------------------------------------------
    def set_user(self, sub: str, **claims) -> None:
        requests.put(f"{self.url}/users/{sub}", json=claims, timeout=5).raise_for_status()

    def revoke_tokens(self, sub: str) -> None:
        """What disabling the account does at Entra ID or Google: its tokens stop working."""
        requests.post(f"{self.url}/users/{sub}/revoke-tokens", timeout=5).raise_for_status()

    def sign_in(self, authorize_url: str, sub: str) -> str:
        """Submit the provider's sign-in page as `sub`; returns where it sends the browser."""
        response = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=5)
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"]

    def deny(self, authorize_url: str) -> str:
        response = requests.post(
            authorize_url, data={"action": "deny"}, allow_redirects=False, timeout=5
        )
        return response.headers["Location"]

    # --- the WSGI layer in front of the mock -----------------------------------------------
    def wrap(self, app):
        def middleware(environ, start_response):
            path = environ.get("PATH_INFO", "")
            if path == "/.well-known/openid-configuration":
                self.discovery_requests += 1
            if path == "/jwks":
                self.jwks_requests += 1
                return self._jwks(app, environ, start_response)
            if path == "/oauth2/token" and self.forge is not None:
                return self._forged_token(app, environ, start_response)
            return app(environ, start_response)

        return middleware

    def _call(self, app, environ):
        captured = {}

        def start(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers

        body = b"".join(app(environ, start))
        return captured["status"], captured["headers"], body

    def _reply(self, start_response, status, headers, body: bytes):
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _jwks(self, app, environ, start_response):
        status, headers, body = self._call(app, environ)
        document = json.loads(body)
        document["keys"] += [key.jwk for key in self.published]
        return self._reply(start_response, status, headers, json.dumps(document).encode())

    def _forged_token(self, app, environ, start_response):
        status, headers, body = self._call(app, environ)
        answer = json.loads(body)
        if "id_token" in answer:
            issued = answer["id_token"]
            claims = jwt.decode(issued, options={"verify_signature": False})
            answer["id_token"] = self.forge(claims, jwt.get_unverified_header(issued))
        return self._reply(start_response, status, headers, json.dumps(answer).encode())


@contextmanager
def running_provider(*, users: dict[str, dict] | None = None):
    """Start the provider on 127.0.0.1 (a free port); stop it at the end."""
    import oidc_provider_mock

    port = free_port()
    provider = Provider(f"http://127.0.0.1:{port}")
    app = oidc_provider_mock.app(
        require_nonce=True,
        user_claims=[
            oidc_provider_mock.User(sub=sub, claims=claims) for sub, claims in (users or {}).items()
        ],
    )
    server = werkzeug.serving.make_server("127.0.0.1", port, provider.wrap(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def silent_server():
    """A port that accepts connections and never answers: a provider that hangs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def configure_portal(settings, issuer: str, **extra) -> None:
    """Point the portal's settings at `issuer` (and let the sign-in form lead there)."""
    from django.core.cache import cache

    settings.OIDC_ISSUER = issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_COMPANY_NAME = "Example Corp"
    settings.OIDC_ALLOWED_EMAIL_DOMAINS = ["example.com"]
    settings.OIDC_TIMEOUT = 2
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(issuer))
    settings.SECURE_CSP = {
        **settings.SECURE_CSP,
        "form-action": [*settings.SECURE_CSP["form-action"], origin],
    }
    for name, value in extra.items():
        setattr(settings, name, value)
    cache.clear()


def employee(email: str, **claims) -> dict:
    """The claims of a verified employee account at the provider."""
    name = email.partition("@")[0].title()
    return {"email": email, "email_verified": True, "name": f"{name} Employee", **claims}


@pytest.fixture
def oidc_provider(settings):
    """A running provider, with the portal's settings pointing at it."""
    with running_provider() as provider:
        configure_portal(settings, provider.issuer)
        yield provider


def now() -> int:
    return int(time.time())

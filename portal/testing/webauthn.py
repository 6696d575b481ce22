"""A software authenticator for tests: an EC P-256 key (ES256) that answers WebAuthn
ceremonies the way a browser hands them to the server — attestation "none" for
registration, a signed assertion for sign-in — built from the specification's byte
layouts (WebAuthn Level 2, §6.1 authenticator data, §6.5.4 attested credential data), so
the portal's checks run against real signatures and not against mocks of py_webauthn.
"""

import hashlib
import json
import os
import struct
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

FLAG_USER_PRESENT = 0x01
FLAG_USER_VERIFIED = 0x04
FLAG_ATTESTED_DATA = 0x40


def _b64(data: bytes) -> str:
    return bytes_to_base64url(data)


@dataclass
class SoftAuthenticator:
    """One credential on one authenticator. `counter` is its signature counter (None: an
    authenticator that keeps none and always reports 0, like many synced passkeys)."""

    counter: int | None = 0
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))

    @property
    def id(self) -> str:
        return _b64(self.credential_id)

    def _cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _auth_data(self, rp_id: str, flags: int, attested: bytes = b"") -> bytes:
        count = 0
        if self.counter is not None:
            self.counter += 1
            count = self.counter
        rp_hash = hashlib.sha256(rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", count) + attested

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
        ).encode()

    def _credential_json(self, response: dict) -> str:
        """The PublicKeyCredential a browser hands over (as JSON), around `response`: the
        authenticator's attestation (registration) or assertion (sign-in)."""
        return json.dumps(
            {
                "id": self.id,
                "rawId": self.id,
                "type": "public-key",
                "response": response,
                "authenticatorAttachment": "platform",
                "clientExtensionResults": {},
            }
        )

    def register(self, options: dict, *, origin: str, rp_id: str | None = None) -> str:
        """The browser's JSON answer to navigator.credentials.create(options)."""
        rp_id = rp_id or options["rp"]["id"]
        attested = (
            bytes(16)  # AAGUID: none given
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self._cose_public_key()
        )
        flags = FLAG_USER_PRESENT | FLAG_USER_VERIFIED | FLAG_ATTESTED_DATA
        auth_data = self._auth_data(rp_id, flags, attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return self._credential_json(
            {
                "clientDataJSON": _b64(client_data),
                "attestationObject": _b64(attestation),
                "transports": ["internal"],
            }
        )

    def sign_in(
        self, options: dict, *, origin: str, rp_id: str | None = None, user_verified: bool = True
    ) -> str:
        """The browser's JSON answer to navigator.credentials.get(options)."""
        rp_id = rp_id or options["rpId"]
        flags = FLAG_USER_PRESENT | (FLAG_USER_VERIFIED if user_verified else 0)
        auth_data = self._auth_data(rp_id, flags)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return self._credential_json(
            {
                "clientDataJSON": _b64(client_data),
                "authenticatorData": _b64(auth_data),
                "signature": _b64(signature),
            }
        )


def challenge_of(options_json: str) -> bytes:
    return base64url_to_bytes(json.loads(options_json)["challenge"])

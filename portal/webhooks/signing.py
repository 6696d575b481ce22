"""Standard Webhooks signatures (https://www.standardwebhooks.com), done by hand.

The signed content is `{webhook-id}.{webhook-timestamp}.{body}`; the key is the secret's
base64 part (after `whsec_`); the signature is HMAC-SHA256, sent as `v1,<base64>`.
The tests verify what this produces with the spec's reference package (`standardwebhooks`),
which the portal itself does not need at run time.
"""

import base64
import hashlib
import hmac

SECRET_PREFIX = "whsec_"  # noqa: S105  (the spec's marker, not a secret)


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(*, secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of the spec, for one attempt (the timestamp is the attempt's)."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(
            secret=secret, message_id=message_id, timestamp=timestamp, body=body
        ),
    }

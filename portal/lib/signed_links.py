"""Signed links sent by email: a capability for one action, readable without a database.

`django.core.signing` with a salt per kind of link and a timestamp: a forged or altered
token fails the signature, an old one fails `max_age`. Single use is the caller's job
(the action the link names refuses a second time); the payload should name the state the
link was made for, so a link for a state that has moved on acts on nothing.
"""

import datetime as dt
from typing import Any

from django.core import signing


class BadLink(Exception):
    """The link is forged, damaged or expired. `message` is for the person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def sign(payload: dict[str, Any], *, salt: str) -> str:
    return signing.dumps(payload, salt=salt, compress=True)


def unsign(token: str, *, salt: str, max_age: dt.timedelta, noun: str) -> dict[str, Any]:
    """The payload of a token this portal signed with `salt` within `max_age`, else
    `BadLink` ("This {noun} has expired." / "… is not valid.")."""
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired as error:
        raise BadLink(f"This {noun} has expired.") from error
    except signing.BadSignature as error:
        raise BadLink(f"This {noun} is not valid.") from error
    if not isinstance(data, dict):
        raise BadLink(f"This {noun} is not valid.")
    return data

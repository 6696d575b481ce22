"""SCIM 2.0 (RFC 7643/7644) Users as the portal keeps them: the JSON of a user, and the
reading of what a provider sends (a new user, PATCH operations, a list filter).

The subset: `userName` (the portal's login email), a name (`displayName`,
`name.formatted`, or given + family name) and `active`. Other attributes a provider's
mapping sends (titles, phone numbers, …) are accepted and ignored, so its provisioning
does not stall on them; `userName` and emails are not changed after creation (the
company sign-in binds accounts by subject, and an email change belongs to the person's
admin).
"""

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

from portal.accounts.emails import normalize_email, validate_login_email
from portal.accounts.models import User

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
NAME_LENGTH = 150

# The one filter providers use to find a user before creating them.
USERNAME_FILTER = re.compile(r'^\s*userName\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)


class ScimError(Exception):
    """A request the SCIM answer refuses: HTTP status, SCIM `scimType`, and a detail."""

    def __init__(self, status: int, detail: str, scim_type: str = ""):
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type

    def body(self) -> dict:
        body = {"schemas": [ERROR_SCHEMA], "status": str(self.status), "detail": self.detail}
        if self.scim_type:
            body["scimType"] = self.scim_type
        return body


def location(user: User) -> str:
    return f"{settings.APP_URL}/scim/v2/Users/{user.pk}"


def user_resource(user: User) -> dict:
    return {
        "schemas": [USER_SCHEMA],
        "id": str(user.pk),
        "userName": user.email,
        "displayName": user.full_name,
        "name": {"formatted": user.full_name},
        "emails": [{"value": user.email, "primary": True, "type": "work"}],
        "active": user.is_active,
        "meta": {
            "resourceType": "User",
            "created": user.date_joined.isoformat(),
            "location": location(user),
        },
    }


def _bool(value) -> bool:
    """SCIM booleans; Entra ID sends "True"/"False" as strings in PATCH operations."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise ScimError(400, "active must be true or false.", "invalidValue")


def _name_from(body: dict) -> str | None:
    """The full name from displayName, name.formatted or given + family name."""
    given = body.get("name")
    name: dict = given if isinstance(given, dict) else {}
    parts = (name.get("givenName"), name.get("familyName"))
    given_and_family = " ".join(part for part in parts if isinstance(part, str))
    for candidate in (body.get("displayName"), name.get("formatted"), given_and_family):
        if isinstance(candidate, str) and candidate.strip():
            return " ".join(candidate.split())[:NAME_LENGTH]
    return None


@dataclass(frozen=True)
class NewUser:
    email: str
    full_name: str
    active: bool


def new_user(body) -> NewUser:
    if not isinstance(body, dict):
        raise ScimError(400, "The body must be a JSON object.", "invalidSyntax")
    user_name = body.get("userName")
    if not isinstance(user_name, str) or not user_name.strip():
        raise ScimError(400, "userName is required.", "invalidValue")
    email = normalize_email(user_name)
    try:
        validate_login_email(email)
    except ValidationError as error:
        raise ScimError(400, f"userName: {' '.join(error.messages)}", "invalidValue") from error
    active = _bool(body["active"]) if "active" in body else True
    return NewUser(email=email, full_name=_name_from(body) or email, active=active)


@dataclass(frozen=True)
class Changes:
    full_name: str | None = None
    active: bool | None = None


def patch_changes(body) -> Changes:
    """What a PatchOp changes: `replace`/`add` of active or the name, by path or as a
    value object. Unknown attributes are ignored; `remove` of active or the name is
    refused (the portal keeps both)."""
    if not isinstance(body, dict) or not isinstance(body.get("Operations"), list):
        raise ScimError(400, "A PatchOp with Operations is expected.", "invalidSyntax")
    full_name, active = None, None
    for operation in body["Operations"]:
        if not isinstance(operation, dict):
            raise ScimError(400, "Each operation must be an object.", "invalidSyntax")
        op = str(operation.get("op", "")).lower()
        if op not in {"add", "replace", "remove"}:
            raise ScimError(400, f"Unknown op {operation.get('op')!r}.", "invalidSyntax")
        path = operation.get("path")
        value = operation.get("value")
        if path is None:
            if op == "remove" or not isinstance(value, dict):
                message = "An operation without a path needs an object value."
                raise ScimError(400, message, "noTarget")
            attributes = value
        else:
            attributes = {str(path): value}
        for attribute, given in attributes.items():
            key = attribute.lower()
            if key not in {"active", "displayname", "name.formatted", "name"}:
                continue  # an attribute the portal does not keep
            if op == "remove":
                raise ScimError(400, f"{attribute} cannot be removed.", "mutability")
            if key == "active":
                active = _bool(given)
            else:
                wrapped = {"name": given} if key == "name" else {"displayName": given}
                full_name = _name_from(wrapped) or full_name
    return Changes(full_name=full_name, active=active)


def user_name_filter(expression: str | None) -> str | None:
    """The email a `userName eq "…"` filter asks for; None without a filter."""
    if expression is None:
        return None
    match = USERNAME_FILTER.match(expression)
    if match is None:
        raise ScimError(400, 'Only the filter userName eq "…" is supported.', "invalidFilter")
    return normalize_email(re.sub(r"\\(.)", r"\1", match.group(1)))


def put_changes(body) -> Changes:
    """A whole user sent again (PUT, as Okta does): its name and active flag."""
    if not isinstance(body, dict):
        raise ScimError(400, "The body must be a JSON object.", "invalidSyntax")
    active = _bool(body["active"]) if "active" in body else None
    return Changes(full_name=_name_from(body), active=active)

"""Email addresses as login names: one normal form and RFC 5321 length limits."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit minus the angle brackets
MAX_LOCAL_PART_LENGTH = 64


def normalize_email(value: str | None) -> str:
    """Trim and lower-case the whole address so `Ann@Example.COM` and `ann@example.com` match.

    The RFC allows case-sensitive local parts, but no mail system in use honours that, and
    two accounts differing only by case would be a support nightmare.
    """
    return (value or "").strip().lower()


def validate_login_email(value: str) -> None:
    if len(value) > MAX_EMAIL_LENGTH:
        raise ValidationError(
            f"An email address can be at most {MAX_EMAIL_LENGTH} characters.", code="too_long"
        )
    local, _, _ = value.rpartition("@")
    if len(local) > MAX_LOCAL_PART_LENGTH:
        raise ValidationError(
            f"The part before @ can be at most {MAX_LOCAL_PART_LENGTH} characters.",
            code="local_too_long",
        )
    validate_email(value)

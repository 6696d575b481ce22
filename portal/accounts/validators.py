"""Password validators Django does not ship."""

import re

from django.core.exceptions import ValidationError

from portal.accounts.emails import normalize_email


class MaximumLengthValidator:
    """Caps passwords at 128 characters: generous for passphrases, bounded for hashing cost."""

    def __init__(self, max_length: int = 128):
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"This password is too long. It can be at most {self.max_length} characters.",
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return f"Your password can be at most {self.max_length} characters."


class NotMadeOfIdentityValidator:
    """Refuses a password that is mostly the user's handle or name, repeated or decorated.

    Django's `UserAttributeSimilarityValidator` compares the whole password with each
    attribute and skips attributes much shorter than the password, so `r1r1r1r1` passes for
    `r1@example.com`, and so does `annsmith1` for Ann Smith. Here every copy of the email's
    local part (and its pieces split at `.`, `_`, `-`, `+`), of the full name, its words and
    the words run together is taken out of the password (case-insensitively, longest first);
    what is left must still be at least `min_remaining` characters.
    """

    def __init__(self, min_remaining: int = 6, min_token_length: int = 2):
        self.min_remaining = min_remaining
        self.min_token_length = min_token_length

    def identity_tokens(self, user) -> list[str]:
        local = normalize_email(getattr(user, "email", "") or "").partition("@")[0]
        name = " ".join((getattr(user, "full_name", "") or "").lower().split())
        tokens = {local, *re.split(r"[._+\-]+", local), name, name.replace(" ", "")}
        tokens.update(re.split(r"\W+", name))
        usable = {t for t in tokens if len(t) >= self.min_token_length}
        return sorted(usable, key=len, reverse=True)

    def validate(self, password: str, user=None) -> None:
        if user is None:
            return
        rest = password.lower()
        found = False
        for token in self.identity_tokens(user):
            if token in rest:
                found = True
                rest = rest.replace(token, "")
        if found and len(rest) < self.min_remaining:
            raise ValidationError(
                "This password is mostly your name or email address. "
                "Choose one that does not repeat them.",
                code="password_made_of_identity",
            )

    def get_help_text(self) -> str:
        return "Your password cannot be mostly your name or email address."

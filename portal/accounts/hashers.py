"""Password hashers beyond Django's own."""

import bcrypt
from django.contrib.auth.hashers import BCryptPasswordHasher
from django.utils.crypto import constant_time_compare

# bcrypt only ever reads the first 72 bytes. The original system (bcryptjs) silently
# truncated longer passwords; the `bcrypt` package (5.x) refuses them instead.
BCRYPT_MAX_BYTES = 72


class LegacyBcryptPasswordHasher(BCryptPasswordHasher):
    """Checks `$2a$`/`$2b$` hashes imported from the original system.

    Imported hashes are stored as `bcrypt$<original hash>`. Never used for new passwords:
    it sits last in PASSWORD_HASHERS, so Django re-hashes with Argon2 on the first good login.
    """

    algorithm = "bcrypt"

    def verify(self, password: str, encoded: str) -> bool:
        algorithm, legacy_hash = encoded.split("$", 1)
        assert algorithm == self.algorithm
        candidate = password.encode()[:BCRYPT_MAX_BYTES]
        try:
            rehashed = bcrypt.hashpw(candidate, legacy_hash.encode())
        except ValueError:  # a malformed stored hash is a failed login, not a crash
            return False
        return constant_time_compare(rehashed, legacy_hash.encode())

    def must_update(self, encoded: str) -> bool:
        return True

    def harden_runtime(self, password: str, encoded: str) -> None:
        pass


def legacy_bcrypt_to_django(original_hash: str) -> str:
    """Turn a seed-system hash (`$2a$10$…`) into Django's stored form."""
    if not original_hash.startswith(("$2a$", "$2b$", "$2y$")):
        raise ValueError("not a bcrypt hash (expected it to start with $2a$, $2b$ or $2y$)")
    bcrypt.checkpw(b"", original_hash.encode())  # raises ValueError on a malformed hash
    return f"{LegacyBcryptPasswordHasher.algorithm}${original_hash}"

"""Personal access tokens and the per-user request counters behind the API's rate limit."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """A personal access token: `Authorization: Bearer <token>` acts as its user.

    Only the SHA-256 digest of the token is stored, so a leaked database (or backup) does
    not hand out working tokens; the secret is 32 random bytes, so a plain (unsalted) hash
    cannot be brute-forced and lets us look the token up by its digest in one indexed
    query. `prefix` (the first characters of the token) is kept to tell tokens apart in
    the list; it is far too short to guess the rest from.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Every token expires (API_TOKEN_MAX_DAYS at most); migration 0002 gave the tokens
    # minted before that rule an expiry.
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_time")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user_id}"

    def is_usable(self, now=None) -> bool:
        """Not revoked, not expired, and its user may still sign in."""
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now and self.user.is_active


class ApiRateWindow(models.Model):
    """How many requests one client (`key`, e.g. `user:42`) made in one fixed window.

    One row per client and minute, incremented by a single upsert per request; rows of
    past windows are pruned by `ratelimit.prune` (nothing reads them again).
    """

    key = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="apirate_key_window")
        ]
        indexes = [models.Index(fields=["window_start"], name="apirate_window")]

    def __str__(self) -> str:
        return f"{self.key} {self.window_start:%H:%M}: {self.count}"

"""Users (email is the login), their sessions, and the records behind sign-in throttling."""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django_otp.models import Device, TimestampMixin

from portal.accounts.emails import MAX_EMAIL_LENGTH, normalize_email, validate_login_email
from portal.accounts.user_by_id import get_by_id


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get(self, *args, **kwargs) -> "User":
        """The ORM's `get`; by id alone (a signed-in request's read of its user, through
        `ModelBackend.get_user`, when it was not read with the session), with the statement
        compiled once (`user_by_id`).

        Only on this manager itself: Django makes related managers (`ticket.watchers`,
        `boss.reports`) as subclasses of it, and their `get` must keep their own filter."""
        if (
            type(self) is UserManager
            and not args
            and kwargs.keys() == {"pk"}
            and type(kwargs["pk"]) is int
        ):
            return get_by_id(self.model, kwargs["pk"], self._db)
        return super().get(*args, **kwargs)

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email=normalize_email(username or ""))

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        email = normalize_email(email)
        validate_login_email(email)
        user = self.model(email=email, **fields)
        user.set_password(password)  # None makes an unusable password (invite/reset later)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


# django-stubs cannot type the reverse manager of django-otp's Device.user (an untyped
# package) for PasskeyDevice; nothing uses `user.passkeydevice_set`.
class User(AbstractBaseUser, PermissionsMixin):  # type: ignore[django-manager-missing]
    """A person who signs in. Roles are derived (see `roles.py`), never stored as text.

    `is_staff` is the *admin* role: it opens the master-data screens, user management
    and Django's admin site. `on_triage_duty` only counts for active admins (see
    `triage.py`).
    """

    email = models.EmailField(
        "email address", max_length=MAX_EMAIL_LENGTH, unique=True, validators=[validate_login_email]
    )
    full_name = models.CharField(max_length=150)
    is_active = models.BooleanField(
        "active", default=True, help_text="Inactive users cannot sign in and their sessions end."
    )
    is_staff = models.BooleanField(
        "admin", default=False, help_text="Admins manage users and master data."
    )
    on_triage_duty = models.BooleanField(
        "on triage duty",
        default=False,
        help_text=(
            "Admins on triage duty are the last step of routing: they are told about tickets "
            "no team member and no SPOC can take."
        ),
    )
    # Approves requests whose classification asks for the requester's manager
    # (docs/approvals.md). SET_NULL: a manager leaving never deletes their reports.
    manager = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        help_text="Approves this person's requests that need their manager's approval.",
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]
        constraints = [
            # The manager normalises case; this keeps a raw write from sneaking in a twin.
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]
        indexes = [
            # The few deactivated accounts, for "tickets held by someone who left"
            # (tickets.routing.nobody_able_to_act_q) without reading every account.
            models.Index(fields=["id"], name="user_inactive", condition=Q(is_active=False)),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_admin(self) -> bool:
        return self.is_active and self.is_staff


class LoginThrottle(models.Model):
    """One sign-in counter: an account from one address (`pair:<email>|<address>`), an
    address (`ip:<address>`) or an account from anywhere (`account:<email>`).

    `attempts` counts sign-in attempts inside the window, taken *before* the password is
    checked (a good password gives its attempt back), by one conditional UPDATE, so
    parallel guesses cannot slip past the limit. `blocked_until` is a lock for pairs and
    addresses, and the earliest next attempt (the slowdown) for accounts.
    See `portal.accounts.throttle`.
    """

    key = models.CharField(max_length=320, unique=True)
    attempts = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    blocked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.attempts} attempts"


class UserSession(models.Model):
    """Which server-side sessions belong to which user.

    Django's session table has no user column; this one lets a password change or a
    deactivation delete the user's other sessions at once.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=300, blank=True)
    # The provider's session id (`sid` of the ID token) for a company sign-in: a
    # back-channel logout naming only that session ends only this one.
    oidc_sid = models.CharField(max_length=255, blank=True, db_index=True)

    def __str__(self) -> str:
        return f"session of {self.user_id} since {self.created_at:%Y-%m-%d %H:%M}"


class LogoutTokenSeen(models.Model):
    """A back-channel logout token already acted on (issuer + `jti`, hashed), kept until
    the token would be refused as too old anyway, so a captured token cannot be played
    again. In the database, not a cache: flushing a cache must not reopen replays.
    Pruned by the worker (`prune_logout_tokens`)."""

    key = models.CharField(max_length=64, unique=True)  # sha256 of issuer and jti
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"logout token {self.key[:12]}… until {self.expires_at:%Y-%m-%d %H:%M}"


class PasswordResetRequest(models.Model):
    """A request for a reset link, counted for rate limiting (whether or not the email exists)."""

    email = models.CharField(max_length=MAX_EMAIL_LENGTH)
    ip_address = models.GenericIPAddressField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["email", "created_at"], name="pwreset_email_time"),
            models.Index(fields=["ip_address", "created_at"], name="pwreset_ip_time"),
        ]

    def __str__(self) -> str:
        return f"reset for {self.email} at {self.created_at:%Y-%m-%d %H:%M}"


class SsoIdentity(models.Model):
    """A company account (issuer + the provider's stable subject) bound to a portal user.

    Sign-in matches on this pair, never on the email: the email is kept only to show
    which address the account had when it was bound. A user has at most one identity per
    provider, and an identity belongs to one user. Deleting the row (Django admin) unbinds
    it; the next company sign-in binds the account again by its verified email.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sso_identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    email_at_link = models.CharField(max_length=MAX_EMAIL_LENGTH, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)
    # The admin flag came from a role mapping (not from a person): it goes with the group.
    admin_granted = models.BooleanField(default=False)

    class Meta:
        verbose_name = "company sign-in identity"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_subject"),
            models.UniqueConstraint(fields=["user", "issuer"], name="sso_identity_one_per_issuer"),
        ]

    def __str__(self) -> str:
        return f"{self.issuer} {self.subject}"


class SsoRoleMapping(models.Model):
    """A provider group or app role whose members are portal admins (edited by admins on
    the Django admin site). Without a row, no claim ever changes a role; agents, leads and
    SPOCs are master data and never mapped.
    """

    ROLE_ADMIN = "admin"
    ROLES = [(ROLE_ADMIN, "Admin")]

    claim_value = models.CharField(
        max_length=255,
        unique=True,
        help_text=(
            "As the ID token names it: Entra ID's group object id or app role value, or the "
            "group name another provider puts in its groups claim."
        ),
    )
    role = models.CharField(max_length=20, choices=ROLES, default=ROLE_ADMIN)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "company group → role mapping"

    def __str__(self) -> str:
        return f"{self.claim_value} → {self.role}"


class PasskeyDevice(TimestampMixin, Device):
    """A passkey (WebAuthn credential) as a django-otp device: a second factor of a
    password sign-in, counted by `user_has_device` like an authenticator app, so the
    two-factor policy, the lockout and the admin reset apply unchanged. `name` is the
    person's label for the key ("work laptop"). Its `verify_token` is django-otp's default
    (refuses every typed code): a passkey answers a challenge, see `passkeys.py`.
    """

    # The credential id as the browser sends it (base64url, at most 1023 bytes raw).
    credential_id = models.CharField(max_length=1400, unique=True)
    public_key = models.BinaryField()  # COSE-encoded
    # WebAuthn's signature counter is 32-bit unsigned; a value that does not grow (when
    # either side is not 0) suggests a cloned authenticator.
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    aaguid = models.CharField(max_length=36, blank=True)
    backed_up = models.BooleanField(default=False)  # a synced passkey (phone or cloud)

    class Meta(Device.Meta):
        verbose_name = "passkey"

    def __str__(self) -> str:
        return f"passkey {self.name} of {self.user_id}"


class SecurityEvent(models.Model):
    """One line of the security log, kept in the database for the admins' audit export.

    Written by the `portal.security` logger's database handler (`security_log.py`), so
    every `security_log.info/warning(...)` in the portal lands here as well as in the log
    stream: one code path, no second call to forget. `event` is the log message ("login
    failed", "user access changed"); the well-known extras get columns, the rest is kept
    in `details`. Removed after RETENTION_SECURITY_LOG_DAYS by the retention job.
    """

    created_at = models.DateTimeField(default=timezone.now)
    level = models.CharField(max_length=10)
    event = models.CharField(max_length=200)
    # No database constraint: an event may name a user whose creation is rolled back or
    # who is deleted later, and the log line must be kept all the same.
    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        db_constraint=False,
    )  # fmt: skip
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        db_constraint=False,
    )  # fmt: skip
    email = models.CharField(max_length=MAX_EMAIL_LENGTH, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The audit export and the retention job read by time.
            models.Index(fields=["created_at", "id"], name="security_event_time"),
            models.Index(fields=["user", "created_at"], name="security_event_user"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.event}"

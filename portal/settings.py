"""Settings for the ticketing portal, read from environment variables.

Every name is listed with its default in `.env.example` and documented in the README.
Defaults give the embedded set-up (SQLite, local files, mail to a folder); production
sets DATABASE_URL, SECRET_KEY, ALLOWED_HOSTS, APP_URL and the R2/SMTP variables.
"""

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from portal.accounts.emails import normalize_email
from portal.attachments import bounded as _bounded
from portal.attachments.storage import storages_from_env
from portal.lib.env import env_bool, env_int, env_list, env_str, load_env_file

BASE_DIR = Path(__file__).resolve().parent.parent
# A development checkout's git-ignored .env (written by `make install`); never overrides
# the real environment.
load_env_file(BASE_DIR / ".env")
VAR_DIR = Path(env_str("VAR_DIR") or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production needs a long random value "
            '(python -c "import secrets; print(secrets.token_urlsafe(50))"); '
            "set DEBUG=1 for local development."
        )
    SECRET_KEY = "insecure-development-key-only-used-when-DEBUG-is-on"  # noqa: S105
# Old keys while rotating SECRET_KEY (comma-separated): sessions, signed links and stored
# secrets made with them still verify or decrypt (docs/email-in.md, "Secrets at rest").
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")

# APP_URL builds links in emails; the seed called it NEXT_PUBLIC_APP_URL.
APP_URL = (env_str("APP_URL") or env_str("NEXT_PUBLIC_APP_URL") or "http://127.0.0.1:8000").rstrip(
    "/"
)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS") or [APP_URL]

INSTALLED_APPS = [
    # Before django.contrib.auth: its `changepassword` command replaces Django's (it also
    # ends sessions and revokes API tokens).
    "portal.accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ninja",
    "portal.core",
    "portal.catalog",
    "portal.sla",
    "portal.notifications",
    "portal.attachments",
    "portal.kb",
    "portal.tickets",
    "portal.replies",
    "portal.csat",
    "portal.links",
    "portal.approvals",
    "portal.mailin",
    "portal.analytics",
    "portal.api",
    "portal.webhooks",
    "portal.retention",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.lib.middleware.ExtraSecurityHeadersMiddleware",
    "portal.lib.middleware.RequestSizeLimitMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.lib.middleware.RejectMalformedInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "portal.accounts.middleware.IdleSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Re-checks company sign-ins with the provider every OIDC_RECHECK_MINUTES.
    "portal.accounts.sso.middleware.SsoSessionRefresh",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.analytics.middleware.PageViewMiddleware",
    "portal.lib.middleware.NotVisibleMiddleware",
    # Last: analytics, exports and searches may read from DATABASE_REPLICA_URL (no-op unset).
    "portal.core.replica_middleware.ReplicaReadsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.accounts.context_processors.navigation",
                "portal.notifications.context_processors.bell",
                "portal.approvals.context_processors.pending_approvals",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    # The embedded default: a SQLite file under var/ (created on first use).
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASE_URL = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside a writer; IMMEDIATE takes the write lock at BEGIN so two
    # writers queue on busy_timeout instead of failing with "database is locked" mid-way.
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests use a file too (not the in-memory default) so they run with WAL like `make run`.
    _db["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
else:
    # A restarted database server leaves dead pooled connections: check before reuse.
    # Django's PostgreSQL backend, whose check reads the socket before asking the server
    # (portal/core/postgres/base.py): no `SELECT 1` round trip on every request.
    if _db["ENGINE"] == "django.db.backends.postgresql":
        _db["ENGINE"] = "portal.core.postgres"
    _db["CONN_HEALTH_CHECKS"] = True
    _db.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    # A peer that vanished without closing (host gone, failover) is noticed by the kernel
    # on an idle connection within about 25 s, which the health check then sees.
    _KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5}
    _KEEPALIVES["keepalives_count"] = 3
    _db["OPTIONS"] = {**_KEEPALIVES, **_db["OPTIONS"]}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A streaming read replica (docs/scaling.md): analytics, exports and searches read from it
# (portal/core/db_router.py) unless it is down, lags more than REPLICA_MAX_LAG_SECONDS, or
# the person wrote something within REPLICA_READ_YOUR_WRITES_SECONDS. Everything else, and
# every write, uses DATABASE_URL.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
REPLICA_MAX_LAG_SECONDS = env_int("REPLICA_MAX_LAG_SECONDS", 5, minimum=1)
# How long one process trusts its last look at the replica (up or down, and its lag).
REPLICA_CHECK_SECONDS = env_int("REPLICA_CHECK_SECONDS", 2, minimum=1)
# After the replica could not be reached, how long until a process tries it again.
REPLICA_RETRY_SECONDS = env_int("REPLICA_RETRY_SECONDS", 10, minimum=1)
# After a write, the writer's reads stay on the primary this long. It must cover the worst
# lag the replica is used with plus one check, or a person could miss their own change.
REPLICA_READ_YOUR_WRITES_SECONDS = env_int(
    "REPLICA_READ_YOUR_WRITES_SECONDS", REPLICA_MAX_LAG_SECONDS + REPLICA_CHECK_SECONDS
)
if DATABASE_REPLICA_URL:
    if REPLICA_READ_YOUR_WRITES_SECONDS < REPLICA_MAX_LAG_SECONDS + REPLICA_CHECK_SECONDS:
        raise ImproperlyConfigured(
            "REPLICA_READ_YOUR_WRITES_SECONDS must be at least REPLICA_MAX_LAG_SECONDS + "
            f"REPLICA_CHECK_SECONDS ({REPLICA_MAX_LAG_SECONDS + REPLICA_CHECK_SECONDS})"
        )
    _replica = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=_db["CONN_MAX_AGE"])
    if _replica["ENGINE"] == "django.db.backends.postgresql":
        _replica["ENGINE"] = "portal.core.postgres"
    if _db["ENGINE"] == "django.db.backends.sqlite3" or _replica["ENGINE"] != _db["ENGINE"]:
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URL needs a PostgreSQL DATABASE_URL and must be PostgreSQL too"
        )
    _replica["CONN_HEALTH_CHECKS"] = True
    _replica["OPTIONS"] = {**_KEEPALIVES, **_replica.get("OPTIONS", {})}
    # A replica that does not answer is given up on quickly: reads go to the primary.
    _replica.setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("REPLICA_CONNECT_TIMEOUT", 2, minimum=1)
    )
    # Tests see the replica as the primary (no second test database to create).
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["portal.core.db_router.ReplicaRouter"]

# Behind pgbouncer in transaction pooling (docs/scaling.md), consecutive transactions of one
# Django connection may run on different server connections: a server-side cursor (named,
# kept across statements by .iterator()) would be lost, so they are turned off.
DB_TRANSACTION_POOLING = env_bool("DB_TRANSACTION_POOLING", False)
if DB_TRANSACTION_POOLING:
    for _alias in DATABASES.values():
        _alias["DISABLE_SERVER_SIDE_CURSORS"] = True

# Prepared statements (docs/benchmarks.md, "Prepared statements and server-side binding"):
# psycopg binds parameters on the server and prepares a statement once it has run 5 times
# on a connection (psycopg's default threshold), so PostgreSQL stops parsing
# the same statements on every page. Kept across requests by DB_CONN_MAX_AGE. Off by
# default behind pgbouncer in transaction pooling: a statement prepared on one server
# connection is unknown to the next (pgbouncer 1.22+ can track them with
# max_prepared_statements, given libpq 17+; then DB_PREPARED_STATEMENTS=1 turns them back on).
DB_PREPARED_STATEMENTS = not DB_TRANSACTION_POOLING  # the default, also when left blank
if env_str("DB_PREPARED_STATEMENTS"):
    DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS")
if DB_PREPARED_STATEMENTS and _db["ENGINE"] != "django.db.backends.sqlite3":
    for _alias in DATABASES.values():
        _alias["OPTIONS"]["server_side_binding"] = True
        _alias["OPTIONS"]["prepare_threshold"] = 5
        # Each run is still planned for its own values: a plan PostgreSQL keeps for any
        # value (its choice after five runs) read every open ticket for an agent's "my
        # open requests" (3 -> 50-75 ms at 1M tickets) and a rare word's search the whole
        # list. Preparing still saves parsing and the client's quoting of values. Reads by
        # a key, whose one plan serves every value, are planned once (portal/lib/plans.py).
        _alias["OPTIONS"]["options"] = "-c plan_cache_mode=force_custom_plan"

# --- Cache ---------------------------------------------------------------------------------
# Only for what can be recomputed (a provider's discovery document, derived counts): nothing
# that must be exact (sessions, lockouts, rate limits, idempotency keys, periodic job claims)
# is kept in it; those live in the database (tests/test_cache_holds_nothing_exact.py).
# CACHE_URL=redis://host:6379/0 shares one cache between app servers (Django's Redis cache);
# unset, each process has its own memory cache (`make run`).
CACHE_URL = env_str("CACHE_URL") or env_str("REDIS_URL")
if CACHE_URL and urlsplit(CACHE_URL).scheme not in {"redis", "rediss", "unix"}:
    raise ImproperlyConfigured(
        f"CACHE_URL must be a redis://, rediss:// or unix:// URL; got {CACHE_URL!r}"
    )
# A cache that does not answer must not hang a page: short socket timeouts.
_REDIS_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
_REDIS_CACHE = {
    # Django's RedisCache, but a Redis that is down or hung costs reads their shortcut,
    # not the page (portal/lib/redis_cache.py).
    "BACKEND": "portal.lib.redis_cache.DegradingRedisCache",
    "LOCATION": CACHE_URL,
    "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "portal"),
    "OPTIONS": _REDIS_OPTIONS,
}
CACHES = {
    "default": (
        _REDIS_CACHE
        if CACHE_URL
        else {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            # Django's default of 300 entries would churn under a ticket page's comments.
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    )
}
if CACHE_URL:
    # The same keys as the default cache's, but a version bump that Redis refuses fails
    # the change that made it (rolled back) instead of leaving stale copies current.
    CACHES["versions"] = {
        **_REDIS_CACHE,
        "OPTIONS": {**_REDIS_OPTIONS, "STRICT_WRITES": True},
    }
else:
    # The versions that make cached entries stale (portal/lib/cache_versions.py) must be
    # one for every process on the host (app server workers, the task worker): a write in
    # one process has to reach the cached master data, roles and SLA policies of all of
    # them. Memory is per process, so without CACHE_URL the versions alone live in files.
    CACHES["versions"] = {
        # Django's file cache, re-reading a file only when it changed (its inode or time).
        "BACKEND": "portal.lib.versions_cache.VersionsFileCache",
        "LOCATION": str(VAR_DIR / "cache" / "versions"),
    }
# How long the analytics page keeps one scope's figures (portal/analytics/kept.py; the page
# says "as of"); 0 computes them on every request. docs/analytics.md says why a minute.
ANALYTICS_CACHE_SECONDS = env_int("ANALYTICS_CACHE_SECONDS", 60, minimum=0)

# --- Accounts, passwords, sessions -------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/login"
LOGIN_REDIRECT_URL = "/dashboard"
LOGOUT_REDIRECT_URL = "/login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    # Verifies `$2a$`/`$2b$` hashes imported from the original system; upgraded on login.
    "portal.accounts.hashers.LegacyBcryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # Also catches short handles repeated or decorated (`r1r1r1r1` for `r1@…`).
    {"NAME": "portal.accounts.validators.NotMadeOfIdentityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "portal.accounts.validators.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Password reset links work once and expire after an hour; requests are rate-limited.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_MINUTES", 60, minimum=5) * 60
PASSWORD_RESETS_PER_ACCOUNT_HOUR = 3
PASSWORD_RESETS_PER_ADDRESS_HOUR = 20
PASSWORD_RESET_MAILER = "portal.notifications.account_mail.queue_password_reset"  # noqa: S105

# --- Company sign-in (OpenID Connect), see docs/sso.md -----------------------------------
# Off unless OIDC_ISSUER and OIDC_CLIENT_ID are set: then /login offers "Sign in with
# <OIDC_COMPANY_NAME>". Endpoints and keys come from the issuer's discovery document.
OIDC_ISSUER = env_str("OIDC_ISSUER").rstrip("/")
OIDC_RP_CLIENT_ID = env_str("OIDC_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET")
OIDC_COMPANY_NAME = env_str("OIDC_COMPANY_NAME", "your company account")
OIDC_RP_SCOPES = env_str("OIDC_SCOPES", "openid email profile")
# Extra authorisation-request parameters as a query string (Google: access_type=offline).
OIDC_AUTH_REQUEST_EXTRA_PARAMS = dict(parse_qsl(env_str("OIDC_AUTH_EXTRA_PARAMS")))
# New people are created (as requesters) only with a verified email in one of these domains.
OIDC_ALLOWED_EMAIL_DOMAINS = [d.lower() for d in env_list("OIDC_ALLOWED_EMAIL_DOMAINS")]
# Pins: Google Workspace's `hd` claim, Microsoft Entra ID's tenant (`tid`).
OIDC_GOOGLE_HOSTED_DOMAIN = env_str("OIDC_GOOGLE_HOSTED_DOMAIN").lower()
OIDC_ENTRA_TENANT_ID = env_str("OIDC_ENTRA_TENANT_ID").lower()
# Microsoft Graph, asked for group membership when Entra leaves groups out (over 200).
OIDC_ENTRA_GRAPH_URL = env_str("OIDC_ENTRA_GRAPH_URL", "https://graph.microsoft.com")
# Every call to the provider gives up after this many seconds.
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 5, minimum=1)
OIDC_DISCOVERY_CACHE_SECONDS = env_int("OIDC_DISCOVERY_CACHE_SECONDS", 3600, minimum=60)
# How often a company sign-in is re-checked with the provider (a person disabled there
# loses access within this time).
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = env_int("OIDC_RECHECK_MINUTES", 5, minimum=1) * 60
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
# Seconds of clock difference with the provider tolerated on exp/iat.
OIDC_CLOCK_SKEW_SECONDS = 60
# LOCAL_LOGIN=off: email and password work only for the break-glass admins listed here.
LOCAL_LOGIN = env_bool("LOCAL_LOGIN", True)
LOCAL_LOGIN_BREAK_GLASS = [normalize_email(e) for e in env_list("LOCAL_LOGIN_BREAK_GLASS")]
# SCIM 2.0 provisioning (/scim/v2/, docs/sso.md): off unless a bearer token is set. The
# provider (Entra ID, Okta) creates people and deactivates leavers with it.
SCIM_TOKEN = env_str("SCIM_TOKEN")
if SCIM_TOKEN and len(SCIM_TOKEN) < 32:
    raise ImproperlyConfigured("SCIM_TOKEN must be at least 32 characters (a random secret).")
# Two-factor for password sign-ins (docs/security.md): `admins` (while LOCAL_LOGIN is on),
# `everyone` or `off`. Off by default in development so `make run`'s demo admin signs in.
TWO_FACTOR_REQUIRED = env_str("TWO_FACTOR_REQUIRED", "off" if DEBUG else "admins").lower()
if TWO_FACTOR_REQUIRED not in {"admins", "everyone", "off"}:
    raise ImproperlyConfigured(
        f"TWO_FACTOR_REQUIRED must be admins, everyone or off; got {TWO_FACTOR_REQUIRED!r}"
    )
# Between a good password and the code (or the authenticator set-up).
TWO_FACTOR_PENDING_SECONDS = 600
# The name authenticator apps show for this portal.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Ticketing Portal")
# Codes are counted by the portal's sign-in counters (lockout and slowdown), not by
# django-otp's own per-device delay.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
AUTHENTICATION_BACKENDS = [
    # Django's ModelBackend, taking the user read with the session (accounts/backends.py).
    # Sessions that name ModelBackend are read as naming PasswordBackend (session_store.py).
    "portal.accounts.backends.PasswordBackend",
    "portal.accounts.sso.backend.SsoBackend",
]

# Sessions live in the database; the cookie holds only a random key.
# Django's database store, its read written once and joined to the signed-in user
# (portal/accounts/session_store.py).
SESSION_ENGINE = "portal.accounts.session_store"
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 120, minimum=1) * 60
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Flash messages: Django's cookie-then-session storage, the newest ten kept until a page
# shows them (portal/lib/flash_messages.py).
MESSAGE_STORAGE = "portal.lib.flash_messages.NewestMessagesStorage"

# Brute-force protection on the login form (and the API token exchange), see
# portal/accounts/throttle.py: failures of one account *from one address* lock that pair;
# failures from one address lock the address; the account as a whole is only slowed down
# (a wait doubling from 1 s up to the maximum), so nobody can lock the owner out.
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 5, minimum=1)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 20, minimum=1)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW_MINUTES", 15, minimum=1) * 60
LOGIN_LOCKOUT = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1) * 60
LOGIN_ACCOUNT_SLOWDOWN_AFTER = env_int("LOGIN_ACCOUNT_SLOWDOWN_AFTER", 10, minimum=1)
LOGIN_ACCOUNT_MAX_DELAY_SECONDS = env_int("LOGIN_ACCOUNT_MAX_DELAY_SECONDS", 60, minimum=1)

# --- Security headers -----------------------------------------------------------------------
HTTPS_ONLY = env_bool("HTTPS_ONLY", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS_ONLY
SECURE_REDIRECT_EXEMPT = [r"^healthz(/ready|/live)?$"]  # load balancers probe over plain HTTP
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS_ONLY else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS_ONLY)
# Preloading binds the whole registrable domain (every subdomain, for months) to HTTPS:
# a decision for the organisation, not a default. The deploy check's reminder is silenced.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# How many reverse proxies we sit behind; their X-Forwarded-* headers are trusted, no others.
NUM_PROXIES = env_int("NUM_PROXIES", 0, minimum=0)
if NUM_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=()"
SECURE_CSP: dict[str, list[str]] = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

if OIDC_ISSUER:
    # The "Sign in with …" form posts here and is redirected to the provider's sign-in
    # page; browsers hold that redirect to the page's form-action.
    _idp = urlsplit(OIDC_ISSUER)
    SECURE_CSP["form-action"] = [*SECURE_CSP["form-action"], f"{_idp.scheme}://{_idp.netloc}"]

# REST API requests allowed per user per minute, all their tokens and their session
# together (429 with Retry-After beyond).
API_RATE_LIMIT_PER_MINUTE = env_int("API_RATE_LIMIT_PER_MINUTE", 600, minimum=1)
# Personal access tokens: every one expires (90 days by default, at most this many days),
# and a user has at most API_TOKENS_PER_USER working ones.
API_TOKEN_MAX_DAYS = env_int("API_TOKEN_MAX_DAYS", 365, minimum=1)
API_TOKENS_PER_USER = env_int("API_TOKENS_PER_USER", 10, minimum=1)

# Whole request bodies over this are refused with 413 before anything reads them
# (20 attachments of 5 MB plus the form).
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 110 * 1024 * 1024, minimum=1024)
# Form fields (not files) larger than this are refused with 400 before a view sees them.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

# --- Email ---------------------------------------------------------------------------------
FROM_EMAIL = env_str("FROM_EMAIL") or env_str("GMAIL_USER") or "portal@localhost"
DEFAULT_FROM_EMAIL = FROM_EMAIL
SERVER_EMAIL = FROM_EMAIL
# Where replies to notifications go, when that is not FROM_EMAIL: the support mailbox the
# portal polls (docs/email-in.md). Blank: replies go to FROM_EMAIL.
EMAIL_REPLY_TO = env_str("EMAIL_REPLY_TO")
# Django's SMTP default is no timeout: a server that accepts and never answers would hang.
SMTP_TIMEOUT = env_int("SMTP_TIMEOUT", 15, minimum=1)
if env_str("GMAIL_USER"):
    _mailer = {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": "smtp.gmail.com",
            "port": 587,
            "use_tls": True,
            "username": env_str("GMAIL_USER"),
            "password": env_str("GMAIL_APP_PASSWORD"),
            "timeout": SMTP_TIMEOUT,
        },
    }
elif env_str("SMTP_HOST"):
    _mailer = {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": env_str("SMTP_HOST"),
            "port": env_int("SMTP_PORT", 587, minimum=1),
            "use_tls": env_bool("SMTP_TLS", True),
            "username": env_str("SMTP_USER") or None,
            "password": env_str("SMTP_PASSWORD") or None,
            "timeout": SMTP_TIMEOUT,
        },
    }
else:
    # Embedded default: each message is written to its own .eml file under var/mail/.
    _mailer = {
        "BACKEND": "portal.lib.mail_files.EmlFileBackend",
        "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
    }
MAILERS = {"default": _mailer}

# --- Background tasks ----------------------------------------------------------------------
# Mail has a queue of its own: `run_worker` gives each queue its own thread, so a mail server
# that hangs never holds back SLA escalation and the sweeps. Email in polls IMAP servers in a
# queue of its own for the same reason, and webhooks too: a receiver that hangs holds back
# only webhooks.
TASK_QUEUES = ["default", "mail", "mailin", "webhooks"]
# `database` (default): tasks are rows written in the same transaction as the data they
# concern. `redis`: a Redis stream (django-tasks-redis), enqueued once the transaction
# commits; for when polling the tasks table becomes the bottleneck (docs/scaling.md).
TASKS_BACKEND = env_str("TASKS_BACKEND", "database").lower()
if TASKS_BACKEND == "database":
    _tasks: dict[str, Any] = {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": TASK_QUEUES,
    }
elif TASKS_BACKEND == "redis":
    # Its own Redis (or one with maxmemory-policy noeviction): a cache that evicts keys
    # under memory pressure would drop queued tasks.
    TASKS_REDIS_URL = env_str("TASKS_REDIS_URL") or env_str("REDIS_URL")
    if not TASKS_REDIS_URL:
        raise ImproperlyConfigured("TASKS_BACKEND=redis needs TASKS_REDIS_URL (or REDIS_URL)")
    _tasks = {
        "BACKEND": "django_tasks_redis.RedisTaskBackend",
        "QUEUES": TASK_QUEUES,
        "OPTIONS": {
            "REDIS_URL": TASKS_REDIS_URL,
            "REDIS_KEY_PREFIX": env_str("TASKS_REDIS_KEY_PREFIX", "portal_tasks"),
            # A task a dead worker held is handed to another after this many seconds.
            "REDIS_CLAIM_TIMEOUT": env_int("TASKS_REDIS_CLAIM_SECONDS", 300, minimum=10),
            "REDIS_MAX_DELIVERIES": env_int("WORKER_TASK_MAX_ATTEMPTS", 3, minimum=1),
            "REDIS_RESULT_TTL": 7 * 86400,
        },
    }
else:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be database or redis; got {TASKS_BACKEND!r}")
TASKS: dict[str, dict[str, Any]] = {"default": _tasks}
# The worker writes a heartbeat this often; /healthz calls it stale after three misses.
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 10, minimum=1)
# While the database is unreachable the worker waits 0.5, 1, 2 … seconds up to this, then
# retries at this pace for as long as it takes; it never exits because of the database.
WORKER_DB_RETRY_MAX_SECONDS = env_int("WORKER_DB_RETRY_MAX_SECONDS", 10, minimum=1)
# A task interrupted by a lost connection or a dead worker runs again, up to this many
# times in all; then it is marked failed.
WORKER_TASK_MAX_ATTEMPTS = env_int("WORKER_TASK_MAX_ATTEMPTS", 3, minimum=1)
# /healthz fails when a task has been running longer than this ("stuck") …
WORKER_TASK_STUCK_SECONDS = env_int("WORKER_TASK_STUCK_SECONDS", 600, minimum=10)
# … or when a task has been due for longer than this without a worker taking it (backlog).
WORKER_BACKLOG_MAX_SECONDS = env_int("WORKER_BACKLOG_MAX_SECONDS", 300, minimum=10)
# Tasks the worker enqueues on a schedule: dotted path → every N seconds. However many
# workers run, each period's run is enqueued once (claimed in the database).
PERIODIC_TASKS = {
    "portal.notifications.tasks.sweep_email_outbox": 30,
    "portal.notifications.tasks.sweep_pending_notices": 30,
    "portal.api.tasks.prune_rate_windows": 300,
    "portal.accounts.tasks.prune_login_throttle": 3600,
    "portal.accounts.tasks.prune_logout_tokens": 3600,
    "portal.tickets.tasks.cleanup_orphan_attachments_task": 300,
    "portal.tickets.tasks.sweep_unrecorded_attachments_task": 86400,
    "portal.kb.tasks.cleanup_pending_images": 300,
    "portal.kb.tasks.sweep_unrecorded_images": 86400,
    "portal.tickets.tasks.escalate_sla": 60,
    "portal.mailin.tasks.poll_mailboxes": env_int("INBOUND_POLL_SECONDS", 60, minimum=5),
    "portal.mailin.tasks.cleanup_pending_raw_mail": 300,
    "portal.tickets.tasks.close_and_remind": 900,
    "portal.approvals.tasks.remind_approvers": 900,
    "portal.webhooks.tasks.sweep_webhook_outbox": 30,
    "portal.retention.tasks.run_retention": 86400,
    "portal.retention.tasks.resume_stalled_erasures": 300,
}

# Auto-close and reminders (docs/working-faster.md); 0 turns each off. A resolved ticket
# closes AUTO_CLOSE_DAYS after its resolution (default: the 7-day reopen window); one On
# hold (waiting for the requester) gets a reminder after HOLD_REMINDER_DAYS and closes
# after HOLD_CLOSE_DAYS, counted from when it was put on hold.
AUTO_CLOSE_DAYS = env_int("AUTO_CLOSE_DAYS", 7, minimum=0)
HOLD_REMINDER_DAYS = env_int("HOLD_REMINDER_DAYS", 3, minimum=0)
HOLD_CLOSE_DAYS = env_int("HOLD_CLOSE_DAYS", 10, minimum=0)
# Approvals (docs/approvals.md): the signed approve/reject links in the email work this
# many days; approvers of a step still pending after APPROVAL_REMINDER_HOURS are reminded
# once (0 turns reminders off).
APPROVAL_LINK_DAYS = env_int("APPROVAL_LINK_DAYS", 7, minimum=1)
APPROVAL_REMINDER_HOURS = env_int("APPROVAL_REMINDER_HOURS", 48, minimum=0)
# How long the signed rating links in the "How did we do?" email work (docs/working-faster.md).
CSAT_LINK_DAYS = env_int("CSAT_LINK_DAYS", 14, minimum=1)

# Webhooks (docs/webhooks.md): temporary failures retry with exponential backoff (base
# doubling per attempt, capped) for WEBHOOK_MAX_ATTEMPTS attempts; this many deliveries
# of one hook failing for good in a row switch it off and tell the admins.
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 60, minimum=1)
WEBHOOK_RETRY_MAX_SECONDS = env_int("WEBHOOK_RETRY_MAX_SECONDS", 3600, minimum=1)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 10, minimum=1)
WEBHOOK_DISABLE_AFTER = env_int("WEBHOOK_DISABLE_AFTER", 5, minimum=1)
# Connecting, sending and reading the answer, each and in all.
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
# Name resolution of a target is given this long (the system resolver alone may take minutes).
WEBHOOK_DNS_TIMEOUT_SECONDS = env_int("WEBHOOK_DNS_TIMEOUT_SECONDS", 5, minimum=1)
# PEM file of CAs trusted besides the system's, for HTTPS receivers with a private CA.
WEBHOOK_CA_FILE = env_str("WEBHOOK_CA_FILE")
WEBHOOK_STUCK_AFTER_SECONDS = env_int("WEBHOOK_STUCK_AFTER_SECONDS", 600, minimum=60)
WEBHOOK_RECORD_RETRY_SECONDS = env_int("WEBHOOK_RECORD_RETRY_SECONDS", 300, minimum=1)
# Hosts that may resolve to private addresses (receivers on the premises), besides those
# admins allow-list on /webhooks/hosts. Comma-separated host names, compared exactly.
WEBHOOK_ALLOWED_HOSTS = env_list("WEBHOOK_ALLOWED_HOSTS")

# Data retention (docs/data-retention.md): days after which the daily job deletes each kind
# of data; 0 keeps it for ever. Files of closed tickets are kept unless an admin sets it.
RETENTION_CLOSED_FILES_DAYS = env_int("RETENTION_CLOSED_FILES_DAYS", 0, minimum=0)
RETENTION_NOTIFICATION_DAYS = env_int("RETENTION_NOTIFICATION_DAYS", 365, minimum=0)
RETENTION_EMAIL_DAYS = env_int("RETENTION_EMAIL_DAYS", 180, minimum=0)
RETENTION_WEBHOOK_DAYS = env_int("RETENTION_WEBHOOK_DAYS", 90, minimum=0)
RETENTION_PAGE_VIEW_DAYS = env_int("RETENTION_PAGE_VIEW_DAYS", 730, minimum=0)
RETENTION_SECURITY_LOG_DAYS = env_int("RETENTION_SECURITY_LOG_DAYS", 365, minimum=0)
# Rows per delete (one short transaction each).
RETENTION_BATCH = env_int("RETENTION_BATCH", 1000, minimum=1)
# Erasing a person (the worker): rows per batch (one short transaction each, a window of
# primary keys per table in the rewrite) and batches per task run, after which the task
# queues its own continuation so other tasks of the queue run in between.
ERASURE_BATCH = env_int("ERASURE_BATCH", 1000, minimum=1)
ERASURE_BATCHES_PER_TASK = env_int("ERASURE_BATCHES_PER_TASK", 50, minimum=1)

# Email outbox: temporary failures retry with exponential backoff (base doubling per
# attempt, capped), for EMAIL_MAX_ATTEMPTS attempts (over two hours by default).
EMAIL_RETRY_BASE_SECONDS = env_int("EMAIL_RETRY_BASE_SECONDS", 60, minimum=1)
EMAIL_RETRY_MAX_SECONDS = env_int("EMAIL_RETRY_MAX_SECONDS", 1800, minimum=1)
EMAIL_MAX_ATTEMPTS = env_int("EMAIL_MAX_ATTEMPTS", 10, minimum=1)
# A row left "sending" this long belonged to a worker that died: it is sent again.
EMAIL_STUCK_AFTER_SECONDS = env_int("EMAIL_STUCK_AFTER_SECONDS", 600, minimum=60)
# How long the worker keeps trying to record a send (or a failure) while the database is
# unreachable; a row it could not record is sent again after EMAIL_STUCK_AFTER_SECONDS.
EMAIL_RECORD_RETRY_SECONDS = env_int("EMAIL_RECORD_RETRY_SECONDS", 300, minimum=1)
# Admins are told about mail that failed for good once per burst: the first failure after
# this many quiet seconds.
EMAIL_FAILURE_ALERT_QUIET_SECONDS = env_int("EMAIL_FAILURE_ALERT_QUIET_SECONDS", 3600, minimum=60)
# Pending notices (an event's notifications, delivered by the worker): a notice that fails
# is tried again after a wait doubling from the base up to the maximum; after
# NOTICE_MAX_ATTEMPTS failures it is kept as failed (in /healthz and the delivery log, the
# admins told) until an admin retries or discards it. By default about an hour of retries.
NOTICE_RETRY_BASE_SECONDS = env_int("NOTICE_RETRY_BASE_SECONDS", 30, minimum=1)
NOTICE_RETRY_MAX_SECONDS = env_int("NOTICE_RETRY_MAX_SECONDS", 1800, minimum=1)
NOTICE_MAX_ATTEMPTS = env_int("NOTICE_MAX_ATTEMPTS", 8, minimum=1)
# How often each worker's notice pump looks for notices events have committed (it looks
# again at once while it finds some): the most an in-app notification waits for it.
NOTICE_POLL_MS = env_int("NOTICE_POLL_MS", 500, minimum=50)

# --- Static files --------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
# Production serves the collected, hashed files (`collectstatic`); development and tests
# serve straight from the source folders.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", not DEBUG)
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# --- Attachments: local files under VAR_DIR/attachments, or a private R2 bucket when R2_* is set.
STORAGES["attachments"] = storages_from_env(VAR_DIR)
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024, minimum=1)
ATTACHMENT_DOWNLOAD_URL_SECONDS = env_int("ATTACHMENT_DOWNLOAD_URL_SECONDS", 300, minimum=1)
ATTACHMENTS_PER_TICKET = env_int("ATTACHMENTS_PER_TICKET", 20, minimum=1)
# One request's whole upload (every file, every retry): past it the person gets a 503 with
# nothing saved. At most 12 s, so the answer (with the 2 s clean-up) comes within 15 s.
ATTACHMENT_UPLOAD_SECONDS = env_int("ATTACHMENT_UPLOAD_SECONDS", 10, minimum=1)
if ATTACHMENT_UPLOAD_SECONDS > _bounded.MAX_UPLOAD_SECONDS:
    raise ImproperlyConfigured(
        f"ATTACHMENT_UPLOAD_SECONDS must be at most {_bounded.MAX_UPLOAD_SECONDS}; "
        f"got {ATTACHMENT_UPLOAD_SECONDS}"
    )
# Stored objects no row refers to are swept once this old (minutes, at least 2).
ATTACHMENT_ORPHAN_MINUTES = env_int("ATTACHMENT_ORPHAN_MINUTES", 15, minimum=2)
# Which app vouches for which stored keys when orphans are swept (cleanup_orphan_attachments).
ATTACHMENT_KEY_OWNERS = {
    "tickets/": "portal.tickets.attachment_keys.known_storage_keys",
    "kb/": "portal.kb.image_keys.known_storage_keys",
    "mail/": "portal.mailin.rawmail.known_raw_keys",  # raw mail kept by email in
}
if env_str("R2_ENDPOINT"):
    # Thumbnails redirect to short-lived presigned URLs on the storage endpoint (path-style).
    _r2 = urlsplit(env_str("R2_ENDPOINT"))
    SECURE_CSP["img-src"] = [*SECURE_CSP["img-src"], f"{_r2.scheme}://{_r2.netloc}"]

# --- Internationalisation --------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Logging ---------------------------------------------------------------------------------
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text; got {LOG_FORMAT!r}")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "portal.lib.logging.JsonFormatter"},
        "text": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"},
    },
    "filters": {
        "one_line_per_task": {"()": "portal.lib.logging.OneLinePerTask"},
        "security_at_log_level": {
            "()": "portal.lib.logging.LevelFloor",
            "logger": "portal.security",
            "level": LOG_LEVEL,
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["security_at_log_level"],
        },
        # Every security event is also a row (accounts.SecurityEvent) for the audit export.
        "security_db": {"class": "portal.accounts.security_log.DatabaseHandler"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own default config gives "django" a second, unformatted console handler
        # in development: every line (each task's among them) was printed twice. Naming the
        # logger here replaces its handlers; its records reach the root's console once.
        "django": {"level": LOG_LEVEL},
        "django.tasks": {"filters": ["one_line_per_task"]},
        # The seed's [Email], [Security] and database log prefixes, as named loggers.
        "portal.email": {"level": LOG_LEVEL},
        # INFO whatever LOG_LEVEL says: the database keeps every event; the console
        # still prints them only from LOG_LEVEL up (the security_at_log_level filter).
        "portal.security": {"level": "INFO", "handlers": ["security_db"]},
        "portal.db": {"level": LOG_LEVEL},
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- Email in (docs/email-in.md) -------------------------------------------------------------
# A first support mailbox from the environment (more are added in /admin). The portal keeps
# a mailbox row in step with these whenever it polls.
INBOUND_IMAP = {
    "HOST": env_str("INBOUND_IMAP_HOST"),
    "PORT": env_int("INBOUND_IMAP_PORT", 993, minimum=1),
    "SECURITY": env_str("INBOUND_IMAP_SECURITY", "ssl"),
    "USER": env_str("INBOUND_IMAP_USER"),
    "PASSWORD": env_str("INBOUND_IMAP_PASSWORD"),
    "ADDRESS": env_str("INBOUND_IMAP_ADDRESS"),
    "FOLDER": env_str("INBOUND_IMAP_FOLDER", "INBOX"),
    "PROCESSED_FOLDER": env_str("INBOUND_IMAP_PROCESSED_FOLDER", "Processed"),
    "GROUP": env_str("INBOUND_IMAP_GROUP"),
    "CATEGORY": env_str("INBOUND_IMAP_CATEGORY"),
    "TARGET": env_str("INBOUND_IMAP_TARGET", "classification"),
    "UNKNOWN_SENDERS": env_str("INBOUND_IMAP_UNKNOWN_SENDERS", "reply"),
    "ALLOWED_DOMAINS": env_str("INBOUND_IMAP_ALLOWED_DOMAINS"),
    # Microsoft 365: OAuth2 client credentials instead of a password (docs/email-in.md).
    "AUTH": env_str("INBOUND_IMAP_AUTH", "password"),
    "OAUTH_TENANT": env_str("INBOUND_IMAP_OAUTH_TENANT"),
    "OAUTH_CLIENT_ID": env_str("INBOUND_IMAP_OAUTH_CLIENT_ID"),
    "OAUTH_CLIENT_SECRET": env_str("INBOUND_IMAP_OAUTH_CLIENT_SECRET"),
}
if INBOUND_IMAP["SECURITY"] not in {"ssl", "starttls", "none"}:
    raise ImproperlyConfigured("INBOUND_IMAP_SECURITY must be ssl, starttls or none")
if INBOUND_IMAP["UNKNOWN_SENDERS"] not in {"reply", "refuse", "create"}:
    raise ImproperlyConfigured("INBOUND_IMAP_UNKNOWN_SENDERS must be reply, refuse or create")
if INBOUND_IMAP["TARGET"] not in {"classification", "triage"}:
    raise ImproperlyConfigured("INBOUND_IMAP_TARGET must be classification or triage")
if INBOUND_IMAP["AUTH"] not in {"password", "m365"}:
    raise ImproperlyConfigured("INBOUND_IMAP_AUTH must be password or m365")
# Every read from the IMAP server gives up after this many seconds.
INBOUND_IMAP_TIMEOUT = env_int("INBOUND_IMAP_TIMEOUT", 30, minimum=1)
# IMAP IDLE (docs/email-in.md): the task worker watches every active mailbox and reads new
# mail within seconds; the periodic poll is the fallback. The IDLE command is renewed every
# INBOUND_IDLE_SECONDS (at most 29 minutes, RFC 2177), with a poll each time; a lost
# connection is retried after 1, 2, 4 ... seconds, at most INBOUND_IDLE_BACKOFF_MAX.
INBOUND_IDLE = env_bool("INBOUND_IDLE", True)
INBOUND_IDLE_SECONDS = env_int("INBOUND_IDLE_SECONDS", 600, minimum=10)
if INBOUND_IDLE_SECONDS > 29 * 60:
    raise ImproperlyConfigured("INBOUND_IDLE_SECONDS must be at most 1740 (29 minutes, RFC 2177)")
INBOUND_IDLE_BACKOFF_MAX = env_int("INBOUND_IDLE_BACKOFF_MAX", 300, minimum=1)
# Email in by an inbound webhook (django-anymail; off unless configured, docs/email-in.md):
# Mailgun's posts are checked with its webhook signing key (HMAC of timestamp and token);
# Postmark's with HTTP basic auth, "user:password" in WEBHOOK_SECRET (also asked of
# Mailgun's posts when set). An endpoint whose secret is unset answers 404.
ANYMAIL = {
    key: value
    for key, value in {
        "MAILGUN_WEBHOOK_SIGNING_KEY": env_str("ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY"),
        "WEBHOOK_SECRET": env_str("ANYMAIL_WEBHOOK_SECRET"),
    }.items()
    if value
}
if ANYMAIL.get("WEBHOOK_SECRET") and ":" not in ANYMAIL["WEBHOOK_SECRET"]:
    raise ImproperlyConfigured("ANYMAIL_WEBHOOK_SECRET must be user:password (basic auth)")
# A message larger than this is not read (recorded as rejected, kept on the server).
INBOUND_MAX_MESSAGE_BYTES = env_int("INBOUND_MAX_MESSAGE_BYTES", 30 * 1024 * 1024, minimum=1024)
# Messages read per mailbox per poll (the rest wait for the next poll).
INBOUND_BATCH_SIZE = env_int("INBOUND_BATCH_SIZE", 200, minimum=1)
# Loop safety: mail held back (unanswered) past these many per hour from one sender, or
# turned into comments on one ticket.
INBOUND_SENDER_LIMIT_PER_HOUR = env_int("INBOUND_SENDER_LIMIT_PER_HOUR", 30, minimum=1)
INBOUND_TICKET_LIMIT_PER_HOUR = env_int("INBOUND_TICKET_LIMIT_PER_HOUR", 20, minimum=1)
# The admins are told once per outage, when this many polls of a mailbox failed in a row.
INBOUND_ALERT_AFTER_FAILURES = env_int("INBOUND_ALERT_AFTER_FAILURES", 3, minimum=1)
# An address with no account is answered at most once in this many hours.
INBOUND_UNKNOWN_REPLY_HOURS = env_int("INBOUND_UNKNOWN_REPLY_HOURS", 24, minimum=1)

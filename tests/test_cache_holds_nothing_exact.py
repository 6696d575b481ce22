"""Nothing that must be exact lives in the cache (docs/scaling.md).

With several app servers the cache is a shared Redis that may be flushed, evict keys under
memory pressure, or be replaced: sessions, sign-in lockouts, API rate limits, idempotency
keys and periodic job claims must survive that, so they live in the database. These tests
say so in two ways: which modules may use Django's cache at all (each with why losing its
entries is harmless), and what still holds after a real Redis cache is flushed
(portal/core/tests/test_redis_cache.py).
"""

import pathlib
import re

from django.conf import settings

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Module → why losing every entry it keeps is harmless. A new use of the cache goes here,
# with its reason, after checking it is a copy of something that can be recomputed.
CACHE_USERS = {
    "portal/accounts/sso/discovery.py": "the provider's public documents, fetched again",
    "portal/accounts/roles.py": "a person's roles, read again from master data",
    "portal/notifications/selectors.py": "the bell's unread count, counted again",
    "portal/approvals/access.py": "the header's count of pending approvals, counted again",
    "portal/catalog/selectors.py": (
        "filter options, master rows, mappings, SPOCs, team members' names, read again"
    ),
    "portal/catalog/request_forms.py": "request forms' fields, read again",
    "portal/catalog/approval_rules.py": "which classifications have approval rules, read again",
    "portal/sla/selectors.py": "the policy and calendar of a classification, read again",
    "portal/webhooks/services.py": "the active webhooks, read again",
    "portal/lib/cache_versions.py": "version numbers in keys: a lost one starts a new version",
    "portal/lib/markdown.py": "sanitised HTML of Markdown by digest of its input, rendered again",
    "portal/lib/redis_cache.py": "the backend itself: keeps nothing, answers misses when down",
    "portal/lib/versions_cache.py": "the versions' file backend: a file read again once changed",
    "portal/tickets/templatetags/ticket_tags.py": "rendered filter widgets, rendered again",
    # A flush loses at most a minute of page-view counts: a usage figure, never a promise.
    "portal/analytics/tracking.py": "page views not yet written (at most a minute's worth)",
    "portal/analytics/kept.py": "one scope's analytics figures for a minute, computed again",
}

# Where the exact things live; none of them may touch a cache.
EXACT_MODULES = [
    "portal/accounts/throttle.py",  # sign-in lockouts and slow-down
    "portal/accounts/password_reset.py",  # reset request limits, one-use links
    "portal/api/ratelimit.py",  # API requests per minute
    "portal/api/auth.py",  # token checks (a revoked token stops at once)
    "portal/tickets/services.py",  # idempotency keys of ticket creation
    "portal/core/periodic.py",  # each periodic run claimed once
    "portal/core/worker.py",  # task claims
    "portal/mailin/tasks.py",  # inbound loop limits
]

# Importing Django's cache (`cache`, `caches`) or a cache backend.
USES_CACHE = re.compile(r"^\s*(from|import)\s+django\.core\.cache\b|django\.core\.cache\.", re.M)


def _sources():
    for path in sorted((ROOT / "portal").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/tests/" in relative or relative.startswith("portal/testing/"):
            continue
        yield relative, path.read_text(encoding="utf-8")


def test_only_listed_modules_use_the_cache():
    users = {relative for relative, text in _sources() if USES_CACHE.search(text)}
    unlisted = sorted(users - set(CACHE_USERS) - {"portal/settings.py"})
    assert not unlisted, (
        "These modules use Django's cache; anything there may vanish (a flush, eviction, a "
        f"restart). Keep only recomputable copies there and list them in CACHE_USERS: {unlisted}"
    )


def test_the_modules_that_must_be_exact_do_not_use_the_cache():
    for relative in EXACT_MODULES:
        text = (ROOT / relative).read_text(encoding="utf-8")
        assert not USES_CACHE.search(text), relative


def test_sessions_are_kept_in_the_database_not_the_cache():
    from django.contrib.sessions.backends import cache as cached_sessions
    from django.contrib.sessions.backends import cached_db
    from django.contrib.sessions.backends import db as database_sessions
    from django.utils.module_loading import import_string

    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    assert issubclass(store, database_sessions.SessionStore)
    assert not issubclass(store, cached_sessions.SessionStore | cached_db.SessionStore)

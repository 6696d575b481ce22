"""Housekeeping of accounts (run by the task worker's periodic schedule)."""

from django.tasks import task

from portal.accounts import throttle
from portal.accounts.sso.services import logout_tokens_prune


@task()
def prune_login_throttle() -> int:
    """Drop sign-in counters untouched for a day (and not locking anything); idempotent."""
    return throttle.prune()


@task()
def prune_logout_tokens() -> int:
    """Forget back-channel logout tokens too old to be accepted again; idempotent."""
    return logout_tokens_prune()

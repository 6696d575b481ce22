"""Parallel guesses never get more password checks than the limit.

Real concurrent requests: each thread has its own database connection (committed data,
so `transaction=True`), all released at once by a barrier. Password checks are counted
through Django's `user_login_failed` signal, sent once per failed `authenticate()`.
"""

import datetime as dt
import threading

import pytest
from django.contrib.auth.signals import user_login_failed
from django.test import Client
from django.utils import timezone

from portal.accounts import throttle
from portal.testing.concurrency import run_together
from portal.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 12


@pytest.fixture
def password_checks():
    checks = []
    lock = threading.Lock()

    def count(sender, credentials, **kwargs):
        with lock:
            checks.append(credentials.get("username"))

    user_login_failed.connect(count, dispatch_uid="count-password-checks")
    yield checks
    user_login_failed.disconnect(dispatch_uid="count-password-checks")


def test_parallel_guesses_at_one_account_get_at_most_the_limit_of_checks(
    personas, password_checks, settings
):
    def guess(n: int) -> int:
        return (
            Client()
            .post(
                "/login",
                {"email": "requester@example.com", "password": f"guess {n}"},
                REMOTE_ADDR="203.0.113.66",
            )
            .status_code
        )

    statuses = run_together(guess, THREADS)
    assert len(password_checks) <= settings.LOGIN_FAILURES_PER_ACCOUNT
    assert statuses.count(429) >= THREADS - settings.LOGIN_FAILURES_PER_ACCOUNT
    # The owner, elsewhere, is not locked out by it.
    owner = Client().post(
        "/login", {"email": "requester@example.com", "password": PASSWORD}, REMOTE_ADDR="10.0.0.7"
    )
    assert owner.status_code == 302


def test_parallel_guesses_from_one_address_get_at_most_its_limit_of_checks(
    personas, password_checks, settings
):
    settings.LOGIN_FAILURES_PER_ADDRESS = 4

    def guess(n: int) -> int:
        body = {"email": f"user{n}@example.com", "password": "guess"}
        return Client().post("/login", body, REMOTE_ADDR="203.0.113.66").status_code

    statuses = run_together(guess, THREADS)
    assert len(password_checks) <= 4
    assert statuses.count(429) >= THREADS - 4


def test_parallel_token_exchanges_get_at_most_the_limit_of_checks(
    personas, password_checks, settings
):
    def guess(n: int) -> int:
        return (
            Client()
            .post(
                "/api/v1/auth/token",
                {"email": "agent@example.com", "password": f"guess {n}"},
                content_type="application/json",
                REMOTE_ADDR="203.0.113.66",
            )
            .status_code
        )

    statuses = run_together(guess, THREADS)
    assert len(password_checks) <= settings.LOGIN_FAILURES_PER_ACCOUNT
    assert statuses.count(429) >= THREADS - settings.LOGIN_FAILURES_PER_ACCOUNT


def test_parallel_guesses_from_many_addresses_take_one_slowed_slot_each(personas, settings):
    """The account-wide slowdown: at one instant, only the attempts before the wait
    starts get through, however many addresses guess at once."""
    settings.LOGIN_ACCOUNT_SLOWDOWN_AFTER = 3
    now = timezone.now()

    def begin(n: int) -> bool:
        keys = throttle._keys("lead@example.com", f"198.51.100.{n + 1}")
        return throttle.attempt_begin(keys, now=now) is None

    allowed = run_together(begin, THREADS)
    assert allowed.count(True) == 3
    # A second later the next slot opens, for one attempt only.
    later = now + dt.timedelta(seconds=1)

    def begin_later(n: int) -> bool:
        keys = throttle._keys("lead@example.com", f"198.51.100.{n + 100}")
        return throttle.attempt_begin(keys, now=later) is None

    allowed = run_together(begin_later, THREADS)
    assert allowed.count(True) == 1

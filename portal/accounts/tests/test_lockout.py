"""Brute-force protection: 5 failures per account or 20 per address in 15 minutes."""

import datetime as dt

import pytest
from django.utils import timezone

from portal.accounts.models import LoginLockout
from portal.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-in attempts"


def attempt(client, email, password="wrong password", ip="10.0.0.1"):
    return client.post("/login", {"email": email, "password": password}, REMOTE_ADDR=ip)


def test_fifth_failure_locks_the_account_even_for_the_right_password(client, personas):
    for _ in range(4):
        assert attempt(client, "requester@example.com").status_code == 400
    fifth = attempt(client, "requester@example.com")
    assert fifth.status_code == 429
    assert LOCKED in fifth.content.decode()
    right = attempt(client, "requester@example.com", PASSWORD)
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lock_is_per_account_so_others_still_sign_in(client, personas):
    for _ in range(5):
        attempt(client, "requester@example.com", ip="10.0.0.1")
    assert attempt(client, "agent@example.com", PASSWORD, ip="10.0.0.2").status_code == 302


def test_unknown_email_locks_the_same_way_as_a_known_one(client, personas):
    for _ in range(4):
        attempt(client, "ghost@example.com")
    assert attempt(client, "ghost@example.com").status_code == 429


def test_twenty_failures_from_one_address_lock_that_address(client, personas):
    for i in range(19):
        assert attempt(client, f"user{i}@example.com", ip="10.9.9.9").status_code == 400
    assert attempt(client, "user19@example.com", ip="10.9.9.9").status_code == 429
    # The address is locked for every account, the accounts themselves are not.
    assert attempt(client, "agent@example.com", PASSWORD, ip="10.9.9.9").status_code == 429
    assert attempt(client, "agent@example.com", PASSWORD, ip="10.1.1.1").status_code == 302


def test_lock_expires_after_its_time(client, personas):
    for _ in range(5):
        attempt(client, "requester@example.com")
    LoginLockout.objects.update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    assert attempt(client, "requester@example.com", PASSWORD).status_code == 302


def test_old_failures_outside_the_window_do_not_count(client, personas):
    from portal.accounts.models import LoginFailure

    for _ in range(4):
        attempt(client, "requester@example.com")
    LoginFailure.objects.update(created_at=timezone.now() - dt.timedelta(minutes=16))
    assert attempt(client, "requester@example.com").status_code == 400


def test_a_good_sign_in_clears_the_account_count(client, personas):
    for _ in range(4):
        attempt(client, "requester@example.com")
    assert attempt(client, "requester@example.com", PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(4):
        assert attempt(client, "requester@example.com").status_code == 400


def test_lockout_is_logged_on_the_security_logger(client, personas, caplog):
    caplog.set_level("INFO", logger="portal.security")
    for _ in range(6):
        attempt(client, "requester@example.com")
    messages = [r.getMessage() for r in caplog.records if r.name == "portal.security"]
    assert "login locked" in messages
    assert "login refused: locked" in messages

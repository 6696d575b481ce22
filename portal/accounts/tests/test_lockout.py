"""Brute-force protection (OWASP ASVS 5.0 V6): 5 failures lock an account *at one address*,
20 lock an address, and the account as a whole is only slowed down, never locked."""

import datetime as dt

import pytest
from django.utils import timezone

from portal.accounts.forms import BAD_CREDENTIALS
from portal.accounts.models import LoginThrottle
from portal.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-in attempts"
SLOWED = "Too many sign-in attempts for this account. Wait"


def attempt(client, email, password="wrong password", ip="10.0.0.1"):
    return client.post("/login", {"email": email, "password": password}, REMOTE_ADDR=ip)


def test_fifth_failure_locks_the_account_at_that_address_even_for_the_right_password(
    client, personas
):
    for _ in range(4):
        assert attempt(client, "requester@example.com").status_code == 400
    fifth = attempt(client, "requester@example.com")
    assert fifth.status_code == 429
    assert LOCKED in fifth.content.decode()
    assert fifth["Retry-After"] == "900"
    right = attempt(client, "requester@example.com", PASSWORD)
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_owner_signs_in_from_another_address_while_an_attackers_address_is_locked(
    client, personas
):
    for _ in range(5):
        attempt(client, "requester@example.com", ip="203.0.113.66")
    assert attempt(client, "requester@example.com", PASSWORD, ip="203.0.113.66").status_code == 429
    owner = attempt(client, "requester@example.com", PASSWORD, ip="10.0.0.7")
    assert owner.status_code == 302
    assert client.session["_auth_user_id"] == str(personas.requester.pk)


def test_an_ipv6_attacker_cannot_dodge_the_lock_by_changing_the_last_64_bits(client, personas):
    for host in range(1, 6):
        attempt(client, "requester@example.com", ip=f"2001:db8:1:2::{host}")
    refused = attempt(client, "requester@example.com", PASSWORD, ip="2001:db8:1:2::99")
    assert refused.status_code == 429
    assert attempt(client, "requester@example.com", PASSWORD, ip="2001:db8:9::1").status_code == 302


def test_lock_is_per_account_so_others_still_sign_in_from_the_same_address(client, personas):
    for _ in range(5):
        attempt(client, "requester@example.com", ip="10.0.0.1")
    assert attempt(client, "agent@example.com", PASSWORD, ip="10.0.0.1").status_code == 302


def test_unknown_email_locks_the_same_way_as_a_known_one(client, personas):
    def answers(email):
        return [
            (r.status_code, LOCKED in r.content.decode(), BAD_CREDENTIALS in r.content.decode())
            for r in (attempt(client, email) for _ in range(6))
        ]

    assert answers("ghost@example.com") == answers("agent@example.com")
    assert answers("ghost2@example.com")[-1] == (429, True, False)


def test_twenty_failures_from_one_address_lock_that_address(client, personas):
    for i in range(19):
        assert attempt(client, f"user{i}@example.com", ip="10.9.9.9").status_code == 400
    assert attempt(client, "user19@example.com", ip="10.9.9.9").status_code == 429
    # The address is locked for every account, the accounts themselves are not.
    assert attempt(client, "agent@example.com", PASSWORD, ip="10.9.9.9").status_code == 429
    assert attempt(client, "agent@example.com", PASSWORD, ip="10.1.1.1").status_code == 302


def test_retrying_a_locked_account_does_not_lock_a_shared_address_for_everyone(client, personas):
    for _ in range(25):
        attempt(client, "requester@example.com", ip="10.0.0.1")
    assert attempt(client, "requester@example.com", PASSWORD, ip="10.0.0.1").status_code == 429
    assert attempt(client, "agent@example.com", PASSWORD, ip="10.0.0.1").status_code == 302


def test_good_sign_ins_from_a_shared_address_do_not_use_up_its_limit(
    client_for, personas, settings
):
    settings.LOGIN_FAILURES_PER_ADDRESS = 3
    for _ in range(5):
        for persona in ("requester", "agent", "lead"):
            response = attempt(client_for(None), f"{persona}@example.com", PASSWORD, "10.5.5.5")
            assert response.status_code == 302


def test_lock_expires_after_its_time(client, personas):
    for _ in range(5):
        attempt(client, "requester@example.com")
    LoginThrottle.objects.filter(blocked_until__isnull=False).update(
        blocked_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert attempt(client, "requester@example.com", PASSWORD).status_code == 302


def test_old_failures_outside_the_window_do_not_count(client, personas):
    for _ in range(4):
        attempt(client, "requester@example.com")
    LoginThrottle.objects.update(window_start=timezone.now() - dt.timedelta(minutes=16))
    for _ in range(4):
        assert attempt(client, "requester@example.com").status_code == 400


def test_a_good_sign_in_clears_the_count_at_that_address(client, personas):
    for _ in range(4):
        attempt(client, "requester@example.com")
    assert attempt(client, "requester@example.com", PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(4):
        assert attempt(client, "requester@example.com").status_code == 400


# --- the account as a whole: slowed down, never locked ---------------------------------------


def _spread_failures(client, email: str, count: int) -> None:
    """`count` failures, each from its own address (a botnet), so no pair or address locks."""
    for n in range(count):
        assert attempt(client, email, ip=f"198.51.100.{n + 1}").status_code == 400


def _account(email: str) -> LoginThrottle:
    return LoginThrottle.objects.get(key=f"account:{email}")


def _wait_for(email: str, seconds: int) -> None:
    """Instead of sleeping: move the account's next allowed attempt (past: the wait is over)."""
    LoginThrottle.objects.filter(key=f"account:{email}").update(
        blocked_until=timezone.now() + dt.timedelta(seconds=seconds)
    )


def test_failures_from_many_addresses_slow_the_account_down_instead_of_locking_it(
    client, personas, settings
):
    settings.LOGIN_ACCOUNT_SLOWDOWN_AFTER = 10
    _spread_failures(client, "requester@example.com", 9)
    assert _account("requester@example.com").blocked_until is None
    _spread_failures(client, "requester@example.com", 1)
    row = _account("requester@example.com")
    assert row.blocked_until - row.last_attempt_at == dt.timedelta(seconds=1)

    _wait_for("requester@example.com", 30)  # a wait in progress, without racing the clock
    slowed = attempt(client, "requester@example.com", PASSWORD, ip="10.0.0.7")
    assert slowed.status_code == 429
    assert SLOWED in slowed.content.decode()
    assert slowed["Retry-After"] in {"29", "30"}
    _wait_for("requester@example.com", -1)
    assert attempt(client, "requester@example.com", PASSWORD, ip="10.0.0.7").status_code == 302


def test_the_accounts_wait_doubles_with_each_further_failure_up_to_the_maximum(
    client, personas, settings
):
    settings.LOGIN_ACCOUNT_SLOWDOWN_AFTER = 2
    settings.LOGIN_ACCOUNT_MAX_DELAY_SECONDS = 5
    waits = []
    for n in range(6):
        _wait_for("agent@example.com", -1)
        response = attempt(client, "agent@example.com", ip=f"198.51.100.{n + 1}")
        assert response.status_code == 400  # every attempt after its wait is checked
        row = _account("agent@example.com")
        waits.append(row.blocked_until and (row.blocked_until - row.last_attempt_at).seconds)
    assert waits == [None, 1, 2, 4, 5, 5]


def test_waiting_out_a_slowdown_does_not_lock_the_owners_address(client, personas, settings):
    settings.LOGIN_ACCOUNT_SLOWDOWN_AFTER = 3
    _spread_failures(client, "requester@example.com", 3)
    _wait_for("requester@example.com", 60)
    # The owner keeps trying while the account is slowed: those refusals do not count
    # against their own address or pair, so they are not locked out when the wait ends.
    for _ in range(10):
        assert attempt(client, "requester@example.com", PASSWORD, ip="10.0.0.7").status_code == 429
    _wait_for("requester@example.com", -1)
    assert attempt(client, "requester@example.com", PASSWORD, ip="10.0.0.7").status_code == 302


def test_a_locked_out_guesser_does_not_use_up_the_accounts_slots(client, personas, settings):
    settings.LOGIN_ACCOUNT_SLOWDOWN_AFTER = 6
    for _ in range(30):
        attempt(client, "requester@example.com", ip="203.0.113.66")
    assert attempt(client, "requester@example.com", PASSWORD, ip="10.0.0.7").status_code == 302


def test_a_reset_link_lifts_the_accounts_locks_and_slowdown(personas):
    from portal.accounts import password_reset

    LoginThrottle.objects.create(key="pair:requester@example.com|10.0.0.1", attempts=5)
    LoginThrottle.objects.create(key="account:requester@example.com", attempts=50)
    LoginThrottle.objects.create(key="pair:agent@example.com|10.0.0.1", attempts=5)
    password_reset.clear_lockout(personas.requester)
    assert list(LoginThrottle.objects.values_list("key", flat=True)) == [
        "pair:agent@example.com|10.0.0.1"
    ]


def test_old_counters_are_pruned_by_the_periodic_task(personas):
    from portal.accounts.tasks import prune_login_throttle

    old = timezone.now() - dt.timedelta(days=2)
    LoginThrottle.objects.create(key="ip:10.0.0.1", attempts=3, last_attempt_at=old)
    LoginThrottle.objects.create(key="ip:10.0.0.2", attempts=3)
    assert prune_login_throttle.call() == 1
    assert list(LoginThrottle.objects.values_list("key", flat=True)) == ["ip:10.0.0.2"]


def test_lockout_is_logged_on_the_security_logger(client, personas, caplog):
    caplog.set_level("INFO", logger="portal.security")
    for _ in range(6):
        attempt(client, "requester@example.com")
    messages = [r.getMessage() for r in caplog.records if r.name == "portal.security"]
    assert "login locked" in messages
    assert "login refused: locked" in messages

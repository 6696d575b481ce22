"""Every `portal.security` event is also a row, whatever the console's LOG_LEVEL."""

import logging

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from portal.accounts.models import SecurityEvent
from portal.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db
security_log = logging.getLogger("portal.security")


def _login(email, password):
    return Client(REMOTE_ADDR="203.0.113.9").post("/login", {"email": email, "password": password})


def test_a_failed_sign_in_is_stored_with_the_address_typed_and_where_from(personas):
    _login("requester@example.com", "wrong password")
    event = SecurityEvent.objects.get(event="login failed")
    assert event.level == "warning"
    assert event.email == "requester@example.com"
    assert event.ip_address == "203.0.113.9"


def test_an_info_event_is_stored_although_the_console_shows_warnings_only(personas, settings):
    assert settings.LOG_LEVEL == "WARNING"  # the test environment's
    assert _login("requester@example.com", PASSWORD).status_code == 302
    event = SecurityEvent.objects.get(event="login ok")
    assert (event.level, event.user_id) == ("info", personas.requester.pk)


def test_extras_without_a_column_are_kept_as_details(personas):
    security_log.info(
        "user access changed",
        extra={"user_id": personas.agent.pk, "actor_id": personas.admin.pk, "changed": ["x"]},
    )
    event = SecurityEvent.objects.get()
    assert (event.user_id, event.actor_id) == (personas.agent.pk, personas.admin.pk)
    assert event.details == {"changed": ["x"]}


def test_an_event_inside_a_rolled_back_change_goes_with_it(personas):
    with pytest.raises(RuntimeError), transaction.atomic():
        security_log.warning("user signed out everywhere", extra={"user_id": personas.agent.pk})
        raise RuntimeError("the change failed")
    assert not SecurityEvent.objects.exists()


def test_a_broken_transaction_loses_the_row_not_the_request(personas, capsys):
    with transaction.atomic():
        try:
            with transaction.atomic(savepoint=False):
                personas.agent.__class__.objects.create(email="agent@example.com", full_name="x")
        except IntegrityError:
            pass
        security_log.warning("login locked", extra={"email": "x@example.com"})  # no raise
    assert "event not stored" in capsys.readouterr().err

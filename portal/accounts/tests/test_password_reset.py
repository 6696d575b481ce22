"""Password reset by email through the outbox and a real SMTP server."""

import re

import pytest
from django.test import Client

from portal.accounts.models import LoginThrottle, PasswordResetRequest
from portal.notifications import delivery
from portal.notifications.models import EmailDelivery
from portal.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a fresh passphrase for reset 9"
SENT = "If an account exists for that email"


def request_reset(client, email, ip="10.0.0.1"):
    return client.post("/password-reset", {"email": email}, REMOTE_ADDR=ip, follow=True)


def reset_link(smtp_server, email) -> str:
    delivery.sweep()
    [message] = smtp_server.messages_to(email)
    text = message.get_body(("plain",)).get_content()
    return re.search(r"http://127\.0\.0\.1:8000(/password-reset/\S+)", text).group(1)


def test_known_and_unknown_emails_get_the_same_answer_and_only_one_gets_mail(
    client, personas, smtp_server
):
    known = request_reset(client, "Requester@Example.com")
    unknown = request_reset(client, "nobody@example.com")
    assert SENT in known.content.decode() and SENT in unknown.content.decode()
    assert known.status_code == unknown.status_code == 200
    delivery.sweep()
    assert [r.rcpt_tos for r in smtp_server.received] == [["requester@example.com"]]


def test_the_link_sets_a_new_password_once_and_ends_sessions(client, personas, smtp_server):
    elsewhere = Client()
    elsewhere.post("/login", {"email": "requester@example.com", "password": PASSWORD})
    request_reset(client, "requester@example.com")
    link = reset_link(smtp_server, "requester@example.com")

    response = client.get(link)
    # The token leaves the address bar before the password is typed.
    assert response.status_code == 302
    assert response["Location"].endswith("/set-password")
    response = client.post(
        response["Location"], {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    )
    assert response.status_code == 302
    personas.requester.refresh_from_db()
    assert personas.requester.check_password(NEW_PASSWORD)
    assert elsewhere.get("/dashboard").status_code == 302

    # Used once: the same link is now refused.
    again = Client().get(link)
    assert again.status_code == 400
    assert "does not work any more" in again.content.decode()


def test_an_expired_link_is_refused(client, personas, smtp_server, settings):
    request_reset(client, "requester@example.com")
    link = reset_link(smtp_server, "requester@example.com")
    settings.PASSWORD_RESET_TIMEOUT = -1
    assert client.get(link).status_code == 400


def test_a_forged_token_is_refused(client, personas):
    assert client.get("/password-reset/MQ/abc-123").status_code == 400
    assert client.get("/password-reset/zzz/set-password").status_code == 400


def test_reset_requests_are_rate_limited_per_account(client, personas, smtp_server):
    for _ in range(5):
        response = request_reset(client, "requester@example.com")
        assert SENT in response.content.decode()  # the answer never changes
    # Three requests were accepted; the rest were refused before anything was queued.
    # (Links made in the same second are identical, so the outbox holds one message.)
    assert PasswordResetRequest.objects.count() == 3
    assert EmailDelivery.objects.count() >= 1


def test_reset_lifts_a_sign_in_lockout(client, personas, smtp_server):
    for _ in range(5):
        client.post("/login", {"email": "requester@example.com", "password": "wrong"})
    assert LoginThrottle.objects.filter(blocked_until__isnull=False).exists()
    request_reset(client, "requester@example.com")
    link = reset_link(smtp_server, "requester@example.com")
    location = client.get(link)["Location"]
    client.post(location, {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
    response = client.post("/login", {"email": "requester@example.com", "password": NEW_PASSWORD})
    assert response.status_code == 302


def test_weak_new_password_is_refused_on_the_reset_page(client, personas, smtp_server):
    request_reset(client, "requester@example.com")
    location = client.get(reset_link(smtp_server, "requester@example.com"))["Location"]
    response = client.post(location, {"new_password": "short", "new_password_again": "short"})
    assert response.status_code == 400
    personas.requester.refresh_from_db()
    assert personas.requester.check_password(PASSWORD)


def test_reset_email_is_not_optional_and_has_no_in_app_twin(client, personas, smtp_server):
    from portal.notifications.models import EmailPreference, Notification

    EmailPreference.objects.create(user=personas.requester, kind="password_reset", email=False)
    request_reset(client, "requester@example.com")
    delivery.sweep()
    assert len(smtp_server.messages_to("requester@example.com")) == 1
    assert not Notification.objects.exists()

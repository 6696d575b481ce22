"""Mailbox secrets encrypted at rest (and key rotation), and senders with no account on a
mailbox that creates requester accounts for allowed domains."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from portal.mailin.models import InboundMessage, Mailbox
from portal.mailin.tests import fixtures
from portal.mailin.tests.conftest import outcomes
from portal.notifications.models import EmailDelivery
from portal.tickets import access
from portal.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def stored_password(mailbox) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM mailin_mailbox WHERE id = %s", [mailbox.pk])
        return cursor.fetchone()[0]


def test_the_password_is_encrypted_in_the_database_and_the_mailbox_still_signs_in(
    personas, mailbox, imap_server, poll
):
    stored = stored_password(mailbox)
    assert stored.startswith("fernet:") and imap_server.password not in stored
    imap_server.append(fixtures.plain("requester@example.com", "Mouse", "It drifts."))
    assert poll().error == "" and outcomes() == ["ticket"]


def test_a_rotated_secret_key_still_reads_the_password_and_the_command_re_encrypts_it(
    personas, mailbox, imap_server, poll, settings
):
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-" + "x" * 50, [old_key]
    assert Mailbox.objects.get().password == imap_server.password  # read with the fallback
    before = stored_password(mailbox)
    call_command("reencrypt_secrets")
    assert stored_password(mailbox) != before
    settings.SECRET_KEY_FALLBACKS = []  # the old key is gone: the new one alone reads it
    assert Mailbox.objects.get().password == imap_server.password
    assert poll().error == ""


def test_a_secret_key_changed_without_a_fallback_says_so_instead_of_using_garbage(
    personas, mailbox, settings
):
    settings.SECRET_KEY = "another-key-" + "y" * 50
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY_FALLBACKS"):
        Mailbox.objects.get()


def test_a_password_stored_before_encryption_is_still_read(personas, mailbox):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mailin_mailbox SET password = 'plain-old' WHERE id = %s", [mailbox.pk]
        )
    assert Mailbox.objects.get().password == "plain-old"


@pytest.fixture
def creating(mailbox):
    mailbox.unknown_senders = Mailbox.UnknownSenders.CREATE
    mailbox.allowed_domains = "example.com, subsidiary.example"
    mailbox.save()
    return mailbox


def test_a_sender_of_an_allowed_domain_gets_a_requester_account_and_a_ticket(
    personas, creating, imap_server, poll
):
    from django.contrib.auth import get_user_model

    imap_server.append(
        fixtures.plain("Nina New <nina@subsidiary.example>", "Badge lost", "Lost it today.")
    )
    poll()
    nina = get_user_model().objects.get(email="nina@subsidiary.example")
    assert nina.full_name == "Nina New" and nina.is_active and not nina.has_usable_password()
    assert not nina.is_staff
    ticket = access.system_read(Ticket).get()
    assert ticket.requester == nina and ticket.title == "Badge lost"
    assert InboundMessage.objects.get().detail == "new ticket (requester account created)"


def test_other_domains_and_subdomains_get_the_polite_answer_and_no_account(
    personas, creating, imap_server, poll
):
    from django.contrib.auth import get_user_model

    imap_server.append(
        fixtures.plain("x@elsewhere.example", "Hello", "Hi."),
        fixtures.plain("y@eu.subsidiary.example", "Hello", "Hi."),
    )
    poll()
    assert outcomes() == ["unknown_sender", "unknown_sender"]
    assert (
        not get_user_model()
        .objects.filter(email__in=["x@elsewhere.example", "y@eu.subsidiary.example"])
        .exists()
    )
    assert EmailDelivery.objects.filter(kind="mailin_unknown_sender").count() == 2
    assert access.system_read(Ticket).count() == 0


def test_a_deactivated_account_is_never_revived_by_mail(personas, creating, imap_server, poll):
    personas.outsider.is_active = False
    personas.outsider.save()
    imap_server.append(fixtures.plain(personas.outsider.email, "Let me in", "Please."))
    poll()
    personas.outsider.refresh_from_db()
    assert not personas.outsider.is_active and outcomes() == ["unknown_sender"]


def test_the_admin_form_keeps_secrets_write_only_and_checks_what_each_sign_in_needs(
    personas, mailbox, client_for, org
):
    client = client_for(personas.admin)
    url = f"/admin/mailin/mailbox/{mailbox.pk}/change/"
    form = {
        "name": "Support", "address": mailbox.address, "transport": "imap", "host": "127.0.0.1",
        "port": mailbox.port, "security": "none", "auth": "m365", "username": mailbox.username,
        "password": "", "oauth_tenant": "", "oauth_client_id": "", "oauth_client_secret": "",
        "oauth_authority": "", "folder": "INBOX", "processed_folder": "Processed",
        "target": "classification", "group": org.group_x.pk, "category": org.hardware.pk,
        "subcategory": "",
        "unknown_senders": "create", "allowed_domains": "not a domain!", "is_active": "on",
    }  # fmt: skip
    response = client.post(url, form)
    assert response.status_code == 200  # the form again, with its errors
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"oauth_tenant", "oauth_client_id", "oauth_client_secret",
                           "allowed_domains"}  # fmt: skip
    mailbox.refresh_from_db()
    assert mailbox.auth == "password"  # nothing half-written
    form.update(auth="password", unknown_senders="create", allowed_domains="@Example.com")
    assert client.post(url, form).status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.password == "imap-test-password"  # blank kept it
    assert mailbox.allowed_domains == "example.com"

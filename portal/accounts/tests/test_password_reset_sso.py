"""Password reset and company accounts: an account bound to a company identity gets no
local password by a reset link while company sign-in is configured (a leaver disabled at
the provider must not keep a second way in), except the break-glass admins. The answer
on the page never changes, so nobody learns which accounts are company accounts."""

import logging

import pytest

from portal.accounts.models import SsoIdentity
from portal.accounts.tests.test_password_reset import SENT, request_reset, reset_link
from portal.notifications import delivery

pytestmark = pytest.mark.django_db

ISSUER = "https://login.example.com"


@pytest.fixture
def company_sign_in(settings):
    settings.OIDC_ISSUER = ISSUER
    settings.OIDC_RP_CLIENT_ID = "portal"
    settings.LOCAL_LOGIN = True
    return settings


def bind(user):
    SsoIdentity.objects.create(user=user, issuer=ISSUER, subject=f"sub-{user.pk}")


def test_a_company_account_gets_the_same_answer_but_no_link_and_it_is_logged(
    client, personas, smtp_server, company_sign_in, caplog
):
    bind(personas.requester)
    with caplog.at_level(logging.WARNING, logger="portal.security"):
        response = request_reset(client, "requester@example.com")
    assert response.status_code == 200 and SENT in response.content.decode()
    delivery.sweep()
    assert smtp_server.messages_to("requester@example.com") == []
    [record] = [r for r in caplog.records if r.name == "portal.security"]
    assert record.getMessage() == "password reset refused: company account"
    assert record.user_id == personas.requester.pk


def test_a_local_account_still_resets_while_company_sign_in_is_on(
    client, personas, smtp_server, company_sign_in
):
    request_reset(client, "requester@example.com")
    assert reset_link(smtp_server, "requester@example.com")


def test_a_break_glass_admin_bound_to_a_company_identity_still_resets(
    client, personas, smtp_server, company_sign_in
):
    bind(personas.admin)
    company_sign_in.LOCAL_LOGIN_BREAK_GLASS = [personas.admin.email]
    request_reset(client, personas.admin.email)
    assert reset_link(smtp_server, personas.admin.email)


def test_an_admin_not_named_break_glass_is_a_company_account_like_any_other(
    client, personas, smtp_server, company_sign_in
):
    bind(personas.admin)
    company_sign_in.LOCAL_LOGIN_BREAK_GLASS = []
    request_reset(client, personas.admin.email)
    delivery.sweep()
    assert smtp_server.messages_to(personas.admin.email) == []


def test_with_company_sign_in_switched_off_bound_accounts_reset_so_nobody_is_stranded(
    client, personas, smtp_server, settings
):
    settings.OIDC_ISSUER = ""
    bind(personas.requester)
    request_reset(client, "requester@example.com")
    assert reset_link(smtp_server, "requester@example.com")


def test_a_link_sent_before_the_account_was_bound_stops_working(
    client, personas, smtp_server, company_sign_in
):
    request_reset(client, "requester@example.com")
    link = reset_link(smtp_server, "requester@example.com")
    bind(personas.requester)
    response = client.get(link)
    assert response.status_code == 400
    assert "does not work any more" in response.content.decode()

"""Microsoft 365 mailboxes: a token from the identity platform (msal, client credentials,
against a loopback HTTPS token endpoint), XOAUTH2 on a real IMAP server, the token cached
on the mailbox until shortly before it expires, refusals recorded for the health page."""

import datetime as dt
import json
import ssl
import urllib.parse

import pytest
import trustme
from django.utils import timezone
from pytest_httpserver import HTTPServer

from portal.mailin import poller
from portal.mailin.models import Mailbox
from portal.mailin.oauth import RENEW_BEFORE
from portal.mailin.tests import fixtures
from portal.mailin.tests.conftest import outcomes
from portal.testing.imap import BEARER_TOKEN
from portal.tickets import access
from portal.tickets.models import Ticket

pytestmark = pytest.mark.django_db
TENANT = "contoso-tenant"


@pytest.fixture
def identity_platform(tmp_path, monkeypatch):
    """An HTTPS server on loopback answering like login.microsoftonline.com: the tenant's
    OpenID configuration and a token endpoint (client credentials). Its certificate comes
    from a private CA the HTTP client is told to trust (REQUESTS_CA_BUNDLE)."""
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    base = f"https://127.0.0.1:{server.port}/{TENANT}"
    server.expect_request(f"/{TENANT}/v2.0/.well-known/openid-configuration").respond_with_json(
        {
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
        }
    )
    server.base = base
    yield server
    server.clear()
    server.stop()


def token_requests(server) -> list[dict]:
    return [
        dict(urllib.parse.parse_qsl(request.get_data(as_text=True)))
        for request, _ in server.log
        if request.path.endswith("/oauth2/v2.0/token")
    ]


def grant_tokens(server, token=BEARER_TOKEN, expires_in=3599) -> None:
    server.expect_request(f"/{TENANT}/oauth2/v2.0/token", method="POST").respond_with_json(
        {"token_type": "Bearer", "expires_in": expires_in, "access_token": token}
    )


@pytest.fixture
def m365_mailbox(imap_oauth_server, identity_platform, org, files_storage):
    return Mailbox.objects.create(
        name="Support (M365)", address="support@example.com", host="127.0.0.1",
        port=imap_oauth_server.port, security=Mailbox.Security.NONE,
        username=imap_oauth_server.user, auth=Mailbox.Auth.M365, oauth_tenant=TENANT,
        oauth_client_id="11111111-2222-3333-4444-555555555555",
        oauth_client_secret="client-secret-value", oauth_authority=identity_platform.base,
        group=org.group_x, category=org.hardware,
    )  # fmt: skip


def poll(mailbox, now=None):
    mailbox.refresh_from_db()
    return poller.poll(mailbox, now=now)


def test_a_microsoft_365_mailbox_signs_in_with_xoauth2_and_a_client_credentials_token(
    personas, m365_mailbox, imap_oauth_server, identity_platform
):
    grant_tokens(identity_platform)
    imap_oauth_server.append(fixtures.plain("requester@example.com", "VPN", "It drops."))
    before = timezone.now()
    result = poll(m365_mailbox)
    assert result.error == "" and outcomes() == ["ticket"]
    assert access.system_read(Ticket).get().title == "VPN"
    [asked] = token_requests(identity_platform)
    assert asked["grant_type"] == "client_credentials"
    assert asked["client_id"] == m365_mailbox.oauth_client_id
    assert asked["client_secret"] == "client-secret-value"
    assert asked["scope"].split() == ["https://outlook.office365.com/.default"]
    m365_mailbox.refresh_from_db()
    assert m365_mailbox.access_token == BEARER_TOKEN  # cached, encrypted at rest
    expected = before + dt.timedelta(seconds=3599)
    assert abs((m365_mailbox.token_expires_at - expected).total_seconds()) < 60


def test_the_token_is_reused_until_shortly_before_it_expires_then_renewed(
    personas, m365_mailbox, identity_platform
):
    grant_tokens(identity_platform)
    assert poll(m365_mailbox).error == ""
    m365_mailbox.refresh_from_db()
    expires = m365_mailbox.token_expires_at
    # Still good for more than RENEW_BEFORE: every worker reuses the stored token.
    assert poll(m365_mailbox, now=expires - RENEW_BEFORE - dt.timedelta(seconds=1)).error == ""
    assert len(token_requests(identity_platform)) == 1
    # Within RENEW_BEFORE of its expiry: a new one first.
    assert poll(m365_mailbox, now=expires - RENEW_BEFORE).error == ""
    assert len(token_requests(identity_platform)) == 2


def test_a_refused_client_secret_is_recorded_for_the_health_page_and_no_imap_sign_in(
    personas, m365_mailbox, identity_platform, client_for
):
    identity_platform.expect_request(f"/{TENANT}/oauth2/v2.0/token").respond_with_data(
        json.dumps({"error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.\nTrace"}),
        status=401, content_type="application/json",
    )  # fmt: skip
    result = poll(m365_mailbox)
    assert result.error.startswith("No Microsoft 365 token: invalid_client: AADSTS7000215")
    m365_mailbox.refresh_from_db()
    assert m365_mailbox.failures_in_a_row == 1 and m365_mailbox.access_token == ""
    page = client_for(personas.admin).get("/mailboxes").content.decode()
    assert "AADSTS7000215" in page and "token not fetched yet" in page


def test_a_token_the_imap_server_refuses_is_forgotten_and_the_next_poll_gets_a_new_one(
    personas, m365_mailbox, identity_platform, imap_oauth_server
):
    grant_tokens(identity_platform)
    m365_mailbox.access_token = "revoked-token"
    m365_mailbox.token_expires_at = timezone.now() + dt.timedelta(minutes=50)
    m365_mailbox.save()
    result = poll(m365_mailbox)
    assert "AUTHENTICATIONFAILED" in result.error and not token_requests(identity_platform)
    m365_mailbox.refresh_from_db()
    assert m365_mailbox.access_token == "" and m365_mailbox.token_expires_at is None
    imap_oauth_server.append(fixtures.plain("requester@example.com", "Mouse", "It drifts."))
    assert poll(m365_mailbox).error == "" and outcomes() == ["ticket"]
    assert len(token_requests(identity_platform)) == 1

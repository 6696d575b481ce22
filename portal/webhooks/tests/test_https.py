"""HTTPS delivery to a real TLS receiver on 127.0.0.1 (pytest-httpserver with a certificate
from a test CA made by trustme): the certificate is checked against the host name."""

import ssl

import pytest
import trustme
from pytest_httpserver import HTTPServer

from portal.testing.smtp import free_port
from portal.webhooks import delivery
from portal.webhooks.models import AllowedHost, Event, WebhookDelivery

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status


@pytest.fixture
def ca(tmp_path, settings):
    """A test CA the worker trusts through WEBHOOK_CA_FILE (as for a private CA)."""
    authority = trustme.CA()
    path = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    settings.WEBHOOK_CA_FILE = str(path)
    return authority


def _tls_receiver(authority, *names):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(*names).configure_cert(context)
    server = HTTPServer(host="127.0.0.1", port=free_port(), ssl_context=context)
    server.start()
    return server


@pytest.fixture
def tls_receiver(ca, personas):
    AllowedHost.objects.create(host="localhost", note="test receiver")
    server = _tls_receiver(ca, "localhost")
    yield server
    server.clear()
    server.stop()


def _hook_at(make_hook, server, host="localhost"):
    return make_hook(f"https://{host}:{server.port}/hook", events=[Event.TICKET_CREATED])


def test_a_receiver_with_a_certificate_for_its_name_gets_the_event(
    tls_receiver, make_hook, raise_ticket
):
    tls_receiver.expect_request("/hook", method="POST").respond_with_data("thanks")
    _hook_at(make_hook, tls_receiver)
    raise_ticket()
    assert delivery.sweep() == {Status.SENT: 1}
    [(request, _)] = tls_receiver.log
    assert request.scheme == "https"
    assert request.headers["webhook-id"] == WebhookDelivery.objects.get().message_id


def test_a_certificate_for_another_host_is_refused_and_nothing_is_posted(
    ca, personas, make_hook, raise_ticket
):
    AllowedHost.objects.create(host="localhost", note="test receiver")
    server = _tls_receiver(ca, "other.example")
    try:
        server.expect_request("/hook").respond_with_data("thanks")
        _hook_at(make_hook, server)
        raise_ticket()
        assert delivery.sweep() == {Status.QUEUED: 1}  # retried later, never sent
        row = WebhookDelivery.objects.get()
        assert "certificate" in row.last_error.lower()
        assert "localhost" in row.last_error
        assert server.log == []  # the handshake failed before any request
    finally:
        server.stop()


def test_a_certificate_from_an_untrusted_ca_is_refused(personas, make_hook, raise_ticket):
    AllowedHost.objects.create(host="localhost", note="test receiver")
    server = _tls_receiver(trustme.CA(), "localhost")  # WEBHOOK_CA_FILE not set
    try:
        _hook_at(make_hook, server)
        raise_ticket()
        assert delivery.sweep() == {Status.QUEUED: 1}
        assert "certificate verify failed" in WebhookDelivery.objects.get().last_error
        assert server.log == []
    finally:
        server.stop()

"""A webhook receiver on loopback (pytest-httpserver) and hooks pointing at it."""

import pytest
from pytest_httpserver import HTTPServer

from portal.testing.smtp import free_port
from portal.tickets import services as tickets
from portal.webhooks import services
from portal.webhooks.models import AllowedHost, Event


@pytest.fixture
def receiver():
    """A real HTTP server on 127.0.0.1 (threaded: a hanging answer holds up no other)."""
    server = HTTPServer(host="127.0.0.1", port=free_port(), threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def loopback_allowed(personas):
    """The receiver is on loopback: an admin allow-lists it, as for an on-premises host."""
    return AllowedHost.objects.create(host="127.0.0.1", note="test receiver")


@pytest.fixture
def make_hook(personas):
    def make(url, *, events=tuple(Event.values), **kwargs):
        return services.webhook_create(
            actor=personas.admin, name="Ops", url=url, events=list(events), **kwargs
        )

    return make


@pytest.fixture
def raise_ticket(org, personas):
    def make(title="Laptop will not start", **extra):
        return tickets.ticket_create(
            requester=personas.requester,
            title=title,
            description="It beeps three times.",
            group=org.group_x,
            category=org.hardware,
            **extra,
        )

    return make

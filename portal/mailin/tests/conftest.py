"""Email-in fixtures: a real IMAP server on loopback and a mailbox pointing at it."""

import pytest

from portal.mailin import poller
from portal.mailin.models import InboundMessage, Mailbox
from portal.mailin.tests.fixtures import SUPPORT
from portal.tickets.tests import attachment_fixtures

files_storage = attachment_fixtures.files_storage


@pytest.fixture
def mailbox(imap_server, org, files_storage):
    return Mailbox.objects.create(
        name="Support",
        address=SUPPORT,
        host="127.0.0.1",
        port=imap_server.port,
        security=Mailbox.Security.NONE,
        username=imap_server.user,
        password=imap_server.password,
        group=org.group_x,
        category=org.hardware,
        subcategory=org.laptop,
    )


@pytest.fixture
def poll(mailbox):
    """Poll the mailbox once, as the periodic task does; returns the PollResult."""

    def run():
        mailbox.refresh_from_db()
        return poller.poll(mailbox)

    return run


def outcomes() -> list[str]:
    return list(InboundMessage.objects.order_by("id").values_list("outcome", flat=True))


@pytest.fixture
def ticket(personas, org):
    """A ticket the requester raised on the page (routed to team A), notifications queued."""
    from portal.tickets import services

    return services.ticket_create(
        requester=personas.requester,
        title="Laptop will not start",
        description="It beeps three times.",
        group=org.group_x,
        category=org.hardware,
        subcategory=org.laptop,
    )

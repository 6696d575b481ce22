"""Rating fixtures: the tickets app's ticket fixtures, and a resolved ticket."""

import pytest

from portal.tickets import services
from portal.tickets.models import Status, Ticket
from portal.tickets.tests.conftest import (  # noqa: F401 - fixtures shared with the tickets tests
    other_ticket,
    raise_ticket,
    ticket,
)


@pytest.fixture
def resolve(personas):
    def make(open_ticket, actor=None):
        services.ticket_change_status(
            actor=actor or open_ticket.assignee or personas.admin,
            ticket=open_ticket,
            status=Status.RESOLVED,
        )
        return Ticket.objects.get(pk=open_ticket.pk)

    return make


@pytest.fixture
def resolved(ticket, resolve):  # noqa: F811 - the imported fixture, requested by name
    """The requester's ticket (team A, assigned to the agent), resolved by the agent."""
    return resolve(ticket)

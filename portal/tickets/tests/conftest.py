"""Ticket fixtures on top of the shared personas and organisation.

`raise_ticket(...)` creates tickets through the service, as people do, so every test starts
from a ticket with real routing and history.
"""

import pytest

from portal.tickets import services


@pytest.fixture
def raise_ticket(personas, org):
    def make(requester=None, **fields):
        defaults = {
            "title": "Laptop will not start",
            "description": "It beeps three times.",
            "group": org.group_x,
            "category": org.hardware,
            "subcategory": org.laptop,
        }
        defaults.update(fields)
        return services.ticket_create(requester=requester or personas.requester, **defaults)

    return make


@pytest.fixture
def ticket(raise_ticket):
    """A ticket from the requester, routed to team A (the agent has the fewest tickets)."""
    return raise_ticket()


@pytest.fixture
def other_ticket(raise_ticket, personas):
    """A ticket of group X raised by the outsider: visible to team A, SPOC and admin only."""
    return raise_ticket(requester=personas.outsider, title="Printer jam")


@pytest.fixture
def group_y_ticket(raise_ticket, personas, org):
    """A ticket in group Y (no mapping, no SPOC among the personas): admin and requester."""
    return raise_ticket(group=org.group_y, category=org.payroll, subcategory=None)


@pytest.fixture
def watcher(ticket):
    """Someone with no role anywhere who watches `ticket`, as the requester of a ticket
    merged into it is made to: they see it and its public side (access.WATCHER)."""
    from portal.accounts.models import User

    user = User.objects.create_user("watcher@example.com", "x", full_name="Wanda Watcher")
    ticket.watchers.add(user)
    return user


@pytest.fixture
def people(personas, watcher) -> dict:
    """The personas by name, with the watcher of `ticket` beside them (the matrices)."""
    return {**personas.all(), "watcher": watcher}

"""Canned-reply fixtures: the tickets app's ticket fixtures and a few replies."""

import pytest

from portal.replies import services
from portal.tickets.tests.conftest import (  # noqa: F401 - fixtures shared with the tickets tests
    other_ticket,
    raise_ticket,
    ticket,
)


@pytest.fixture
def replies(personas, org):
    """The agent's personal reply, the lead's personal reply, a team A reply (by the lead)
    and a team B reply (by an admin)."""

    class Replies:
        agent_own = services.canned_reply_create(
            actor=personas.agent, title="Restart first", body="Hi {requester.first_name}, restart."
        )
        lead_own = services.canned_reply_create(
            actor=personas.lead, title="Lead's note", body="Lead here."
        )
        team_a = services.canned_reply_create(
            actor=personas.lead,
            title="Laptop swap",
            body="{ticket.number}: we swap the laptop. — {agent.name}",
            team=org.team_a,
        )
        team_b = services.canned_reply_create(
            actor=personas.admin, title="Payroll cut-off", body="Cut-off is the 20th.",
            team=org.team_b,
        )  # fmt: skip

    return Replies

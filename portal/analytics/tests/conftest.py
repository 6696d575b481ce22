"""A small known data set for the figures, built the way people build it.

Tickets are raised and worked through `portal.tickets.services` (so routing and history
are real), then their timestamps are moved with QuerySet.update to give known durations.
`updated_at` stays "now", later than every other timestamp, as the services keep it.

    ticket  group  created      1st response  resolved          status now     assignee
    t1      X      10 days ago  +1 h          +5 h              resolved       agent
    t2      X      5 days ago   +2 h          +10 h             resolved       agent
    t3      X      3 days ago   +3 h          –                 in progress    agent (high)
    t4      X      2 days ago   +4 h          –                 in progress    agent
    t5      X      12 h ago     +10 h         –                 in progress    lead
    t6      Y      40 days ago  –             –                 new            nobody, no team
    t7      X      20 days ago  +5 h          (reopened today)  in progress    lead
    t8      X      15 days ago  –  (answered +6 h)  +30 h       resolved       lead
    t9      Y      30 h ago     –             –                 new            nobody, no team

Over the last 30 days an admin sees: created 8 (all but t6), resolved 3 (t1 t2 t8), open 6,
ages [1, 3, 1, 1, 0]; first response over t1 t2 t3 t4 t5 t7 t8 = 1 2 3 4 10 5 6 h
→ median 4 h, p90 6 + 0.4·4 = 7.6 h; resolution over 5 10 30 h → median 10 h,
p90 10 + 0.8·20 = 26 h; resolutions today 4 (t1 t2 t7 t8), reopened 1 (t7): 25 %.
"""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from portal.analytics import rollup
from portal.catalog.models import Priority
from portal.tickets import services
from portal.tickets.models import Status, Ticket

H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


@pytest.fixture
def dataset(personas, org):
    now = timezone.now()

    def raise_ticket(group="x", **extra):
        fields = (
            {"group": org.group_x, "category": org.hardware, "subcategory": org.laptop}
            if group == "x"
            else {"group": org.group_y, "category": org.payroll, "subcategory": None}
        )
        return services.ticket_create(
            requester=personas.requester, title="Something broke", description="Help.",
            **fields, **extra,
        )  # fmt: skip

    t = SimpleNamespace(now=now)
    t.t1, t.t2, t.t3, t.t4, t.t5 = (raise_ticket() for _ in range(5))
    t.t6 = raise_ticket("y")
    t.t7, t.t8 = raise_ticket(), raise_ticket()
    t.t9 = raise_ticket("y")
    for ticket in (t.t3, t.t4, t.t5, t.t7):
        services.ticket_change_status(actor=personas.lead, ticket=ticket, status=Status.IN_PROGRESS)
    for ticket in (t.t1, t.t2, t.t7, t.t8):
        services.ticket_change_status(actor=personas.lead, ticket=ticket, status=Status.RESOLVED)
    # The requester is not satisfied with t7 (within the reopen window): a reopen event.
    services.ticket_change_status(actor=personas.requester, ticket=t.t7, status=Status.IN_PROGRESS)

    def shape(ticket, created_ago, response=None, resolved=None, **fields):
        created = now - created_ago
        Ticket.objects.filter(pk=ticket.pk).update(
            created_at=created,
            first_response_at=created + response if response else None,
            resolved_at=created + resolved if resolved else None,
            updated_at=now,
            **fields,
        )

    agent, lead = personas.agent, personas.lead
    shape(t.t1, 10 * D, 1 * H, 5 * H, assignee=agent)
    shape(t.t2, 5 * D, 2 * H, 10 * H, assignee=agent)
    shape(t.t3, 3 * D, 3 * H, assignee=agent, priority=Priority.HIGH)
    shape(t.t4, 2 * D, 4 * H, assignee=agent)
    shape(t.t5, 12 * H, 10 * H, assignee=lead)
    shape(t.t6, 40 * D)
    shape(t.t7, 20 * D, 5 * H, assignee=lead)
    shape(t.t8, 15 * D, 6 * H, 30 * H, assignee=lead)
    shape(t.t9, 30 * H)
    # The timestamps were moved behind the services' back (QuerySet.update), as a data
    # load would: rebuild the rollup, as a data load must.
    rollup.rebuild()
    return t


@pytest.fixture
def warm(client_for):
    """A signed-in client whose once-a-minute session refresh has already happened."""

    def make(user):
        client = client_for(user)
        client.get("/tickets/new")
        return client

    return make

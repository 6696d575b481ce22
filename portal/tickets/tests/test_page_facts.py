"""The ticket page asks in its read of the ticket whether each part has rows at all
(portal/tickets/page_facts.py), and reads a part only when it has; its "assign to" list
comes from a cache that follows memberships and people's names."""

import re
from html import unescape

import pytest
from django.db.models import Q
from django.utils import timezone

from portal.accounts import services as accounts_services
from portal.accounts.models import User
from portal.catalog.invalidation import PEOPLE
from portal.catalog.models import TeamMember
from portal.csat.models import Rating
from portal.lib.cache_versions import version
from portal.links.models import TicketLink
from portal.mailin.models import InboundMessage
from portal.tickets import page_facts
from portal.tickets.models import Attachment, Ticket
from portal.tickets.tests.attachment_fixtures import file_row

pytestmark = pytest.mark.django_db

# Each fact as the ORM would ask it.
TRUTH = {
    "files": lambda t: Attachment.objects.filter(ticket=t),
    "family": lambda t: Ticket.objects.filter(Q(merged_into=t) | Q(parent=t)),
    "links": lambda t: TicketLink.objects.filter(Q(source=t) | Q(target=t)),
    "ratings": lambda t: Rating.objects.filter(ticket=t),
    "mail": lambda t: InboundMessage.objects.filter(ticket=t).exclude(raw_key=""),
}


def _facts(ticket):
    row = Ticket.objects.annotate(**page_facts.annotations()).get(pk=ticket.pk)
    return {name: getattr(row, page_facts.PREFIX + name) for name in TRUTH}


def test_every_part_of_the_page_registers_a_fact():
    assert set(page_facts.annotations()) == {page_facts.PREFIX + name for name in TRUTH}


def test_each_fact_says_what_the_orm_says(raise_ticket, personas):
    first, second, third = (raise_ticket(title=f"Ticket {n}") for n in range(3))
    assert _facts(first) == dict.fromkeys(TRUTH, False)
    now = timezone.now()
    TicketLink.objects.create(source=first, target=second, kind="relates", created_at=now)
    Ticket.objects.filter(pk=third.pk).update(parent=first)
    Ticket.objects.filter(pk=second.pk).update(merged_into=third)
    file_row(second, personas.requester, "a.png", content_type="image/png")
    Rating.objects.create(
        ticket=third, resolved_at=now, score="good", rated_by=personas.requester, created_at=now
    )
    for ticket in (first, second, third):
        truth = {name: read(ticket).exists() for name, read in TRUTH.items()}
        assert _facts(ticket) == truth, ticket.title
    assert _facts(first)["links"] and _facts(second)["links"]  # either end of a link
    assert _facts(first)["family"] and _facts(third)["family"]  # a child, a merged ticket
    assert not _facts(first)["files"] and _facts(second)["files"]


def test_a_ticket_page_shows_the_parts_it_has(raise_ticket, personas, client_for):
    ticket, other = raise_ticket(title="Main"), raise_ticket(title="Other end")
    now = timezone.now()
    TicketLink.objects.create(source=other, target=ticket, kind="blocks", created_at=now)
    Ticket.objects.filter(pk=other.pk).update(parent=ticket)
    html = client_for(personas.admin).get(f"/tickets/{ticket.number}").content.decode()
    assert "Linked tickets" in html and other.number in html and "Other end" in html
    assert "Child tickets" in html


def _assignees(html: str) -> dict[int, str]:
    """The people the page's "assign to" select offers, by id (names unescaped)."""
    body = re.search(r'<select [^>]*id="id_assign_assignee"[^>]*>(.*?)</select>', html, re.S)
    assert body is not None
    options = re.findall(r'<option value="(\d+)"(?: selected)?>([^<]*)</option>', body.group(1))
    return {int(value): unescape(label) for value, label in options}


def test_the_assign_list_follows_names_memberships_and_deactivations(
    ticket, personas, org, client_for
):
    client = client_for(personas.admin)

    def choices():
        return _assignees(client.get(f"/tickets/{ticket.number}").content.decode())

    assert choices()[personas.agent.pk] == str(personas.agent)
    accounts_services.user_update(user=personas.agent, actor=None, full_name="Agent Renamed")
    assert choices()[personas.agent.pk] == "Agent Renamed"
    membership = TeamMember.objects.get(team=org.team_a, user=personas.lead)
    membership.is_active = False
    membership.save()
    assert personas.lead.pk not in choices()
    accounts_services.user_update(user=personas.agent, actor=None, full_name="x", is_active=False)
    assert personas.agent.pk not in choices()


def test_signing_in_leaves_the_cached_lists_of_people(personas, client):
    before = version(PEOPLE)
    client.force_login(personas.agent)  # saves the sign-in time only
    assert version(PEOPLE) == before


def test_a_new_account_leaves_the_cached_lists_of_people(org):
    """A new account is in no list yet: mail-in, sign-in with the company and SCIM create
    accounts all day, and each would empty every group's and team's list."""
    before = version(PEOPLE)
    User.objects.create_user(email="new.sender@example.com")
    assert version(PEOPLE) == before


def test_a_member_added_to_the_team_is_offered_at_once(ticket, personas, org, client_for):
    client = client_for(personas.admin)

    def choices():
        return _assignees(client.get(f"/tickets/{ticket.number}").content.decode())

    newcomer = User.objects.create_user(email="newcomer@example.com", full_name="Newcomer")
    assert newcomer.pk not in choices()  # the list is now cached
    TeamMember.objects.create(team=ticket.team, user=newcomer)
    assert choices()[newcomer.pk] == "Newcomer"


def test_a_fact_never_shows_the_viewer_what_they_may_not_see(raise_ticket, personas, client_for):
    """The facts say rows exist, not what the viewer may see of them: the requester's
    page has an internal note's file, a child ticket and a linked ticket of someone else,
    and shows none of them (each part still reads through the access layer)."""
    from portal.tickets.models import Comment

    ticket = raise_ticket(title="Mine")
    hidden = raise_ticket(requester=personas.outsider, title="Someone else's secret")
    now = timezone.now()
    TicketLink.objects.create(source=ticket, target=hidden, kind="relates", created_at=now)
    child = raise_ticket(requester=personas.outsider, title="A hidden child")
    Ticket.objects.filter(pk=child.pk).update(parent=ticket)
    note = Comment.objects.create(
        ticket=ticket, author=personas.agent, body="Internal only", is_internal=True
    )
    file_row(
        ticket, personas.agent, "internal-findings.png", comment=note, content_type="image/png"
    )
    assert _facts(ticket) | {"ratings": True, "mail": True} == dict.fromkeys(TRUTH, True)
    html = client_for(personas.requester).get(f"/tickets/{ticket.number}").content.decode()
    for secret in ("Someone else", hidden.number, "A hidden child", child.number):
        assert secret not in html
    assert "internal-findings.png" not in html and "Internal only" not in html
    assert "Child tickets" not in html and "Linked tickets" not in html
    # The same page for the agent shows them: the test's rows are there to be seen.
    worker_html = client_for(personas.agent).get(f"/tickets/{ticket.number}").content.decode()
    assert "internal-findings.png" in worker_html and "Child tickets" in worker_html

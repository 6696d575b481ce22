"""A ticket with more comments or history than the page shows at once (a long incident, a
mail loop): the page shows the newest ones, says how many earlier ones there are, and shows
the whole part on request. What the viewer may read is decided as before: internal rows a
requester may not see are neither shown nor counted."""

import datetime as dt

import pytest
from django.utils import timezone

from portal.tickets import access
from portal.tickets.models import Comment, Ticket, TicketEvent
from portal.tickets.views import NEWEST_SHOWN

pytestmark = pytest.mark.django_db


def _comments(ticket, author, count, *, internal=False, start=0):
    """`count` comments, a minute apart, numbered from `start` (written directly: a
    hundred through the service would cost the suite seconds and test nothing more)."""
    base = timezone.now() - dt.timedelta(days=3)
    Comment.objects.bulk_create(
        Comment(
            ticket=ticket,
            author=author,
            body=f"Comment number {n:03d}",
            is_internal=internal,
            created_at=base + dt.timedelta(minutes=n),
        )
        for n in range(start, start + count)
    )


def _edits(ticket, actor, count, *, start=0):
    base = timezone.now() - dt.timedelta(days=2)
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket=ticket,
            actor=actor,
            kind=TicketEvent.Kind.EDITED,
            field="title",
            old_value=f"Title {n:03d}",
            new_value=f"Title {n + 1:03d}",
            version=ticket.version,
            created_at=base + dt.timedelta(minutes=n),
        )
        for n in range(start, start + count)
    )


def _age_history(ticket):
    """The ticket's own events (raised, routed) a week back, before what a test adds."""
    TicketEvent.objects.filter(ticket=ticket).update(
        created_at=timezone.now() - dt.timedelta(days=7)
    )


def _bodies(response) -> list[str]:
    return [comment.body for comment in response.context["comments"]]


def test_a_long_thread_shows_its_newest_comments_in_order_and_counts_the_earlier_ones(
    client_for, ticket, personas
):
    _comments(ticket, personas.agent, NEWEST_SHOWN + 3)
    response = client_for(personas.requester).get(f"/tickets/{ticket.number}")
    assert response.status_code == 200
    expected = [f"Comment number {n:03d}" for n in range(3, NEWEST_SHOWN + 3)]
    assert _bodies(response) == expected
    page = response.content.decode()
    assert "Comment number 002" not in page
    assert f"Comment number {NEWEST_SHOWN + 2:03d}" in page
    assert f"3 earlier comments not shown; these are the newest {NEWEST_SHOWN}." in page
    assert f'href="/tickets/{ticket.number}?comments=all#comments-heading"' in page


def test_show_all_comments_shows_the_whole_thread(client_for, ticket, personas):
    _comments(ticket, personas.agent, NEWEST_SHOWN + 3)
    response = client_for(personas.requester).get(f"/tickets/{ticket.number}?comments=all")
    assert _bodies(response) == [f"Comment number {n:03d}" for n in range(NEWEST_SHOWN + 3)]
    assert "earlier comments not shown" not in response.content.decode()


@pytest.mark.parametrize("value", ["everything", "ALL", "", "1"])
def test_only_all_asks_for_the_whole_thread(client_for, ticket, personas, value):
    _comments(ticket, personas.agent, NEWEST_SHOWN + 1)
    response = client_for(personas.requester).get(f"/tickets/{ticket.number}?comments={value}")
    assert response.status_code == 200
    assert len(response.context["comments"]) == NEWEST_SHOWN
    assert response.context["earlier_comments"] == 1


def test_internal_comments_a_requester_may_not_read_are_neither_shown_nor_counted(
    client_for, ticket, personas
):
    # The five oldest are internal notes: the agent's page leaves them out as earlier
    # rows; the requester's page has exactly the public hundred and nothing earlier.
    _comments(ticket, personas.agent, 5, internal=True)
    _comments(ticket, personas.agent, NEWEST_SHOWN, start=5)
    agent = client_for(personas.agent).get(f"/tickets/{ticket.number}")
    assert agent.context["earlier_comments"] == 5
    requester = client_for(personas.requester).get(f"/tickets/{ticket.number}")
    assert requester.context["earlier_comments"] == 0
    assert len(requester.context["comments"]) == NEWEST_SHOWN
    assert not any(comment.is_internal for comment in requester.context["comments"])
    assert "earlier comment" not in requester.content.decode()
    whole = client_for(personas.requester).get(f"/tickets/{ticket.number}?comments=all")
    assert len(whole.context["comments"]) == NEWEST_SHOWN


def test_a_long_history_shows_its_newest_changes_and_the_whole_on_request(
    client_for, ticket, personas
):
    _age_history(ticket)
    created = TicketEvent.objects.filter(ticket=ticket).exclude(kind="commented").count()
    _edits(ticket, personas.agent, NEWEST_SHOWN)
    _comments(ticket, personas.agent, NEWEST_SHOWN + 1)
    client = client_for(personas.agent)
    page = client.get(f"/tickets/{ticket.number}")
    events = page.context["events"]
    assert len(events) == NEWEST_SHOWN
    assert events[-1].new_value == f"Title {NEWEST_SHOWN:03d}"
    assert [e.created_at for e in events] == sorted(e.created_at for e in events)
    assert page.context["earlier_events"] == created
    assert f"{created} earlier change" in page.content.decode()
    assert f'href="/tickets/{ticket.number}?history=all#history-heading"' in page.content.decode()
    whole = client.get(f"/tickets/{ticket.number}?history=all")
    assert len(whole.context["events"]) == created + NEWEST_SHOWN
    assert whole.context["earlier_events"] == 0
    # Showing one part whole keeps the other's link asking for both.
    both = f'href="/tickets/{ticket.number}?comments=all&amp;history=all#comments-heading"'
    assert both in whole.content.decode()


def test_waiting_for_survives_a_routing_older_than_the_newest_history(
    client_for, raise_ticket, personas, org
):
    """An unassigned ticket waits for someone named by its last routing event; a hundred
    later changes must not hide whom it waits for, nor bring the whole history back."""
    ticket = raise_ticket()
    Ticket.objects.filter(pk=ticket.pk).update(assignee=None)
    _age_history(ticket)
    TicketEvent.objects.create(
        ticket=ticket,
        kind=TicketEvent.Kind.WAITING,
        field="assignee",
        new_value="the SPOC of Group X",
        version=ticket.version,
        created_at=timezone.now() - dt.timedelta(days=5),
    )
    _edits(ticket, personas.agent, NEWEST_SHOWN + 1)
    client = client_for(personas.admin)
    short = raise_ticket()
    base = _statements(client, f"/tickets/{short.number}")
    # The newest rows, their count, and the one routing event the rows do not hold.
    assert _statements(client, f"/tickets/{ticket.number}") == base + 2
    page = client.get(f"/tickets/{ticket.number}")
    assert "Nobody yet: waiting for the SPOC of Group X" in page.content.decode()
    assert len(page.context["events"]) == NEWEST_SHOWN


def test_the_earlier_count_of_a_requester_leaves_internal_rows_out(client_for, ticket, personas):
    """Internal notes among the earliest comments: the people working the ticket count them
    among the earlier ones; the requester neither sees nor counts them."""
    base = timezone.now() - dt.timedelta(days=3)
    total = NEWEST_SHOWN + 10
    Comment.objects.bulk_create(
        Comment(
            ticket=ticket,
            author=personas.agent,
            body=f"Comment number {n:03d}",
            is_internal=n < 10 and n % 2 == 1,  # 1, 3, 5, 7, 9
            created_at=base + dt.timedelta(minutes=n),
        )
        for n in range(total)
    )
    agent = client_for(personas.agent).get(f"/tickets/{ticket.number}")
    assert agent.context["earlier_comments"] == 10
    # The requester's 105 public comments: the newest hundred are 10…109, before them
    # 0, 2, 4, 6 and 8; counting every row before 10 would say 10.
    requester = client_for(personas.requester).get(f"/tickets/{ticket.number}")
    assert requester.context["earlier_comments"] == 5
    assert _bodies(requester)[0] == "Comment number 010"
    assert not any(c.is_internal for c in requester.context["comments"])
    assert "5 earlier comments not shown" in requester.content.decode()
    part = access.page_comments(personas.requester, ticket, newest=NEWEST_SHOWN)
    assert part.earlier == 5


def test_the_show_all_link_after_a_refused_comment_leads_to_the_ticket_page(
    client_for, ticket, personas
):
    """A refused post shows the page at the form's address (POST only): the link must be
    the ticket page's."""
    _comments(ticket, personas.agent, NEWEST_SHOWN + 2)
    client = client_for(personas.requester)
    refused = client.post(f"/tickets/{ticket.number}/comments", {"body": ""})
    assert refused.status_code == 400
    link = f"/tickets/{ticket.number}?comments=all#comments-heading"
    assert f'href="{link}"' in refused.content.decode()
    whole = client.get(link.split("#")[0])
    assert whole.status_code == 200
    assert len(whole.context["comments"]) == NEWEST_SHOWN + 2


def test_the_read_of_the_newest_rows_is_the_access_layers(ticket, personas):
    """`newest` narrows what the viewer may read, never widens it: an outsider reads
    nothing and counts nothing."""
    _comments(ticket, personas.agent, NEWEST_SHOWN + 2)
    part = access.page_comments(personas.outsider, ticket, newest=NEWEST_SHOWN)
    assert part.rows == [] and part.earlier == 0
    # The limit is part of the statement kept per process: one for a hundred, another for ten.
    assert len(access.page_comments(personas.requester, ticket, newest=NEWEST_SHOWN).rows) == 100
    part = access.page_comments(personas.requester, ticket, newest=10)
    assert [c.body for c in part.rows] == [
        f"Comment number {n:03d}" for n in range(NEWEST_SHOWN - 8, NEWEST_SHOWN + 2)
    ]
    assert part.earlier == NEWEST_SHOWN - 8


def _statements(client, path) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # warm: the session refresh, the caches
    with CaptureQueriesContext(connection) as sent:
        assert client.get(path).status_code == 200
    return len(sent.captured_queries)

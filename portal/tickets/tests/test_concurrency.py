"""Real concurrent requests on PostgreSQL: threads with their own connections.

SQLite takes its write lock at BEGIN (IMMEDIATE), so writers there queue by construction;
these tests need a server that lets transactions overlap.
"""

import threading
import uuid

import pytest
from django.db import close_old_connections, connection

from portal.tickets import services
from portal.tickets.errors import EditConflict
from portal.tickets.models import Ticket

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs overlapping transactions (PostgreSQL)"
    ),
]

THREADS = 8


def _run_together(target, count=THREADS):
    """Start `count` threads released at the same moment; collect results and errors."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker(index):
        try:
            barrier.wait(timeout=10)
            results.append(target(index))
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


def _fields(org):
    return {
        "description": "Concurrent",
        "group": org.group_x,
        "category": org.hardware,
        "subcategory": org.laptop,
    }


def test_ticket_numbers_stay_unique_when_created_at_the_same_moment(personas, org):
    results, errors = _run_together(
        lambda i: (
            services.ticket_create(
                requester=personas.requester, title=f"Ticket {i}", **_fields(org)
            ).number
        )
    )
    assert errors == []
    assert len(results) == THREADS
    assert len(set(results)) == THREADS


def test_a_form_submitted_many_times_at_once_creates_one_ticket(personas, org):
    key = uuid.uuid4()
    results, errors = _run_together(
        lambda i: (
            services.ticket_create(
                requester=personas.requester, title="Once", idempotency_key=key, **_fields(org)
            ).pk
        )
    )
    assert errors == []
    assert len(set(results)) == 1
    assert Ticket.objects.filter(title="Once").count() == 1


@pytest.mark.parametrize("count", [2, THREADS])
def test_a_comment_posted_many_times_at_once_with_one_key_is_written_once(personas, org, count):
    from portal.tickets.models import Comment

    ticket = services.ticket_create(requester=personas.requester, title="Once", **_fields(org))
    key = uuid.uuid4()
    results, errors = _run_together(
        lambda i: (
            services.comment_add(
                actor=personas.requester, ticket=ticket, body="Sent twice", idempotency_key=key
            ).pk
        ),
        count=count,
    )
    assert errors == []
    assert len(results) == count and len(set(results)) == 1
    assert Comment.objects.filter(ticket=ticket).count() == 1


def test_two_simultaneous_edits_of_the_same_version_let_exactly_one_win(personas, org):
    ticket = services.ticket_create(requester=personas.requester, title="Start", **_fields(org))
    editors = [personas.agent, personas.lead]
    results, errors = _run_together(
        lambda i: (
            services.ticket_update(
                actor=editors[i], ticket=ticket, expected_version=ticket.version, title=f"By {i}"
            ).title
        ),
        count=2,
    )
    assert len(results) == 1
    assert len(errors) == 1 and isinstance(errors[0], EditConflict)
    ticket.refresh_from_db()
    assert ticket.title == results[0]
    assert ticket.version == 2

"""A worker killed in the middle of an erasure: a second worker finishes it, and every row
is done exactly once (docs/data-retention.md, "Erasure of a departed person").

No timing: the test holds a lock on one comment the erasure must rewrite, so the first
worker is stopped inside a batch transaction, deterministically; it is killed there
(SIGKILL: no clean-up), which rolls that batch back, and a second worker takes over.
"""

import signal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from portal.accounts.models import User
from portal.notifications.models import Notification
from portal.notifications.tests.test_worker_crash import start_worker, wait_for
from portal.retention.erasure_services import erasure_request, pseudonym
from portal.retention.models import ErasureRequest
from portal.tickets.models import Comment, Ticket

pytestmark = [
    pytest.mark.fault,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads pg_stat_activity"),
]
NAME, EMAIL = "Requester Persona", "requester@example.com"
COMMENTS = 40
NOTICES = 12


def _waiting_on_a_lock() -> bool:
    """Whether a statement on comments waits for a lock: the erasure's rewrite waiting
    for the comment this test holds. Not any lock wait: the worker's mail thread, which
    writes and sends the new ticket's messages meanwhile, can wait a moment for the
    erasure's own batch deleting the person's outbox rows."""
    with connection.cursor() as cursor:
        # Statistics views keep one snapshot per transaction; this test asks inside one.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE '%%tickets_comment%%'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_erasure_is_finished_by_another_without_doubles_or_gaps(
    personas, raise_ticket, smtp_server
):
    person = personas.requester
    ticket = raise_ticket(requester=person)
    now = timezone.now()
    Comment.objects.bulk_create(
        Comment(ticket=ticket, author=personas.agent, body=f"Rang {NAME} about it ({n})",
                created_at=now)
        for n in range(COMMENTS)
    )  # fmt: skip
    Notification.objects.bulk_create(
        Notification(recipient=person, kind="test_event", text=f"For you {n}", link="/",
                     created_at=now)
        for n in range(NOTICES)
    )  # fmt: skip
    mentions = list(
        Comment.objects.filter(body__contains=NAME).order_by("pk").values_list("pk", flat=True)
    )
    notices = Notification.objects.filter(recipient=person).count()  # and the ticket's
    request = erasure_request(user=person, actor=personas.admin)
    env = {"ERASURE_BATCH": "5", "ERASURE_BATCHES_PER_TASK": "1000",
           "WORKER_HEARTBEAT_SECONDS": "1"}  # fmt: skip

    with transaction.atomic():
        # A comment past the middle, locked: the worker's batch that rewrites it waits.
        Comment.objects.select_for_update().get(pk=mentions[COMMENTS * 2 // 3])
        first = start_worker(smtp_server.port, **env)
        try:
            wait_for(_waiting_on_a_lock)
            first.send_signal(signal.SIGKILL)  # inside the batch transaction
            first.wait(timeout=10)
        finally:
            first.kill()
    halfway = ErasureRequest.objects.get(pk=request.pk)
    assert halfway.state == "running" and halfway.phase == "rewrite"
    assert halfway.cursor_model == "tickets.Comment"
    done_before = halfway.counts["rewritten"]["tickets.Comment"]
    assert 0 < done_before < COMMENTS  # batches committed before the kill count …
    assert Comment.objects.filter(body__contains=NAME).count() == COMMENTS - done_before

    second = start_worker(smtp_server.port, **env)
    try:
        # The task the dead worker held is handed on once its heartbeat is stale.
        wait_for(lambda: ErasureRequest.objects.get(pk=request.pk).state == "done")
    finally:
        second.terminate()
        second.wait(timeout=10)

    finished = ErasureRequest.objects.get(pk=request.pk)
    # … and nothing was counted (or done) twice, nothing missed.
    assert finished.counts["rewritten"]["tickets.Comment"] == COMMENTS
    assert finished.counts["deleted"]["notifications.Notification"] == notices
    alias = pseudonym(person)
    assert Comment.objects.filter(body__startswith=f"Rang {alias} about it").count() == COMMENTS
    assert not Comment.objects.filter(body__icontains=NAME).exists()
    assert not Notification.objects.filter(recipient=person).exists()
    erased = User.objects.get(pk=person.pk)
    assert erased.full_name == alias and not erased.is_active
    assert Ticket.objects.get(pk=ticket.pk).requester_id == person.pk

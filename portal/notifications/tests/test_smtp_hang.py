"""A mail server that hangs slows mail only: the worker's other jobs carry on beside it."""

import pytest
from django_tasks_db.models import DBTaskResult

from portal.notifications.models import EmailDelivery
from portal.notifications.services import notify
from portal.notifications.tests.test_worker_crash import start_worker, wait_for
from portal.testing.notices import deliver_pending
from portal.tickets.tasks import escalate_sla

pytestmark = pytest.mark.fault


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_that_never_greets_holds_back_no_other_job(personas, smtp_server):
    smtp_server.hang = "greeting"
    notify(
        recipients=[personas.requester],
        # A kind the worker process knows: the tests' own kind exists in this one only.
        kind="mail_failed",
        text="Event 1",
        link="/dashboard",
        context={"text": "Event 1"},
        event_key="hang:1",
    )
    # Its outbox row queued before the worker starts (what the worker's default queue does
    # first): the test times the mail thread's hang against the sweeps, as it always has.
    deliver_pending()
    mail_tasks = DBTaskResult.objects.filter(task_path__endswith=".deliver_emails")
    worker = start_worker(smtp_server.port, SMTP_TIMEOUT="30")
    try:
        wait_for(lambda: mail_tasks.filter(status="RUNNING").exists(), timeout=30)

        # SLA escalation runs while the mail task waits for a greeting that never comes.
        job = escalate_sla.enqueue()
        escalation = DBTaskResult.objects.filter(pk=job.id)
        wait_for(lambda: escalation.filter(status="SUCCESSFUL").exists(), timeout=15)
        assert mail_tasks.filter(status="RUNNING").exists()
        assert smtp_server.received == []

        smtp_server.hang = None  # the server recovers: the waiting message goes out
        wait_for(lambda: EmailDelivery.objects.filter(status="sent").count() == 1, timeout=30)
        assert worker.poll() is None
    finally:
        smtp_server.hang = None
        worker.kill()
        worker.wait(timeout=10)
    assert [m["Subject"] for m in smtp_server.messages_to("requester@example.com")] == ["Event 1"]

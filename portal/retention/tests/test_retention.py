"""Retention deletes what outlived its period, in batches, and nothing an open ticket needs."""

import datetime as dt

import pytest
from django.utils import timezone

from portal.analytics.models import PageView
from portal.attachments.cleanup import delete_pending
from portal.attachments.tests.files import pdf
from portal.notifications.models import EmailDelivery, Notification
from portal.retention.models import RetentionRun
from portal.retention.services import retention_run
from portal.tickets import attachment_services
from portal.tickets import services as tickets
from portal.tickets.attachment_keys import known_storage_keys
from portal.tickets.models import Attachment, Status, Ticket
from portal.tickets.tests import attachment_fixtures
from portal.tickets.tests.attachment_fixtures import stored_keys, upload
from portal.webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db
files_storage = attachment_fixtures.files_storage  # the fixture, for this module
DAY = dt.timedelta(days=1)


@pytest.fixture
def now():
    return timezone.now()


def _notification(user, age):
    return Notification.objects.create(
        recipient=user, kind="k", text="t", created_at=timezone.now() - age
    )


def _email(user, age, status, n):
    return EmailDelivery.objects.create(
        recipient=user, to_address=user.email, kind="k", event_key=f"e{n}", subject="s",
        body_text="b", body_html="b", message_id=f"<{n}@x>", status=status,
        created_at=timezone.now() - age,
    )  # fmt: skip


def test_old_notifications_and_finished_mail_go_and_recent_or_queued_stay(personas, settings, now):
    settings.RETENTION_NOTIFICATION_DAYS = 30
    settings.RETENTION_EMAIL_DAYS = 30
    _notification(personas.requester, 40 * DAY)
    new_note = _notification(personas.requester, 10 * DAY)
    sent = _email(personas.requester, 40 * DAY, EmailDelivery.Status.SENT, 1)
    failed = _email(personas.requester, 40 * DAY, EmailDelivery.Status.FAILED, 2)
    queued = _email(personas.requester, 40 * DAY, EmailDelivery.Status.QUEUED, 3)
    recent = _email(personas.requester, 10 * DAY, EmailDelivery.Status.SENT, 4)
    run = retention_run(now=now)
    assert set(Notification.objects.all()) == {new_note}
    assert set(EmailDelivery.objects.all()) == {queued, recent}  # never mail still to send
    assert run.counts["notifications"] == 1 and run.counts["email_deliveries"] == 2
    assert sent.pk not in EmailDelivery.objects.values_list("pk", flat=True)
    assert failed.pk not in EmailDelivery.objects.values_list("pk", flat=True)


def test_deletes_run_in_batches_until_nothing_is_left(personas, settings, now):
    settings.RETENTION_NOTIFICATION_DAYS = 30
    settings.RETENTION_BATCH = 3
    for _ in range(8):
        _notification(personas.agent, 40 * DAY)
    assert retention_run(now=now).counts["notifications"] == 8
    assert not Notification.objects.exists()


def test_page_views_and_webhook_log_expire(personas, settings, now):
    settings.RETENTION_PAGE_VIEW_DAYS = 365
    settings.RETENTION_WEBHOOK_DAYS = 30
    PageView.objects.create(day=(now - 400 * DAY).date(), section="tickets", views=5)
    kept_view = PageView.objects.create(day=(now - 100 * DAY).date(), section="tickets", views=2)
    hook = Webhook.objects.create(name="h", url="https://example.com/", events=["ticket.created"])
    rows = {
        status: WebhookDelivery.objects.create(
            webhook=hook,
            event="ticket.created",
            event_key=status,
            message_id=f"msg_{status}",
            body="{}",
            status=status,
            created_at=now - 40 * DAY,
        )  # fmt: skip
        for status in ("sent", "failed", "queued")
    }
    counts = retention_run(now=now).counts
    assert list(PageView.objects.all()) == [kept_view]
    assert list(WebhookDelivery.objects.all()) == [rows["queued"]]
    assert (counts["page_views"], counts["webhook_deliveries"]) == (1, 2)


def test_zero_days_keeps_everything(personas, settings, now):
    settings.RETENTION_NOTIFICATION_DAYS = 0
    _notification(personas.agent, 4000 * DAY)
    assert "notifications" not in retention_run(now=now).counts
    assert Notification.objects.count() == 1


def test_files_of_long_closed_tickets_go_from_database_and_storage_open_tickets_keep_theirs(
    personas, raise_ticket, files_storage, settings, now
):
    settings.RETENTION_CLOSED_FILES_DAYS = 90
    closed, reopened_later, still_open = (raise_ticket(title=t) for t in ("a", "b", "c"))
    for ticket in (closed, reopened_later, still_open):
        attachment_services.attachment_add(
            actor=personas.requester, ticket=ticket, files=[upload("scan.pdf", pdf())]
        )
    for ticket in (closed, reopened_later):
        tickets.ticket_change_status(actor=personas.admin, ticket=ticket, status=Status.CLOSED)
    Ticket.objects.filter(pk=closed.pk).update(closed_at=now - 100 * DAY)  # closed long ago
    Ticket.objects.filter(pk=still_open.pk).update(created_at=now - 400 * DAY)  # old but open
    before = stored_keys(files_storage)
    run = retention_run(now=now)
    assert run.counts["closed_ticket_files"] == 1
    assert set(Attachment.objects.values_list("ticket_id", flat=True)) == {
        reopened_later.pk,
        still_open.pk,
    }
    # The object goes with the next sweep of the pending ledger (no storage call in the run).
    sweep_time = now + dt.timedelta(minutes=5)
    delete_pending(files_storage, "tickets/", known=known_storage_keys, now=sweep_time)
    after = stored_keys(files_storage)
    assert len(before) == 3 and len(after) == 2
    assert set(after) == set(Attachment.objects.values_list("storage_key", flat=True))


def test_each_run_is_recorded_with_its_counts(personas, settings, now):
    settings.RETENTION_NOTIFICATION_DAYS = 30
    _notification(personas.agent, 40 * DAY)
    retention_run(now=now)
    [run] = RetentionRun.objects.all()
    assert run.finished_at is not None and run.counts["notifications"] == 1


# (GET, POST): the page only reads; admins only.
EXPECTED = {
    **{p: (403, 403) for p in ["requester", "agent", "lead", "spoc", "outsider"]},
    "admin": (200, 405),
    "anonymous": (302, 302),
}


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_retention_page_permission_matrix(client_for, personas, persona):
    user = None if persona == "anonymous" else getattr(personas, persona)
    client = client_for(user)
    got = (client.get("/retention").status_code, client.post("/retention").status_code)
    assert got == EXPECTED[persona]


def test_retention_page_shows_periods_and_counts(client_for, personas, settings, now):
    settings.RETENTION_NOTIFICATION_DAYS = 30
    _notification(personas.agent, 40 * DAY)
    retention_run(now=now)
    page = client_for(personas.admin).get("/retention").content.decode()
    assert "In-app notifications" in page and "30 days" in page
    assert "In-app notifications: 1" in page


def test_security_events_older_than_their_period_go(personas, settings, now):
    import logging

    from portal.accounts.models import SecurityEvent

    settings.RETENTION_SECURITY_LOG_DAYS = 30
    for _ in range(2):
        logging.getLogger("portal.security").warning("login failed", extra={"email": "a@b.c"})
    old, recent = SecurityEvent.objects.order_by("id")
    SecurityEvent.objects.filter(pk=old.pk).update(created_at=now - 40 * DAY)
    run = retention_run(now=now)
    assert list(SecurityEvent.objects.all()) == [recent]
    assert run.counts["security_log"] == 1

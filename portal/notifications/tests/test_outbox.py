"""The email outbox against a real SMTP server on loopback."""

import datetime as dt

import pytest
from django.utils import timezone

from portal.lib.emails import signed_thread_id
from portal.notifications import delivery
from portal.notifications.models import EmailDelivery, EmailPreference, Notification
from portal.notifications.services import notify
from portal.notifications.tasks import deliver_emails
from portal.testing.notices import deliver_pending

pytestmark = pytest.mark.django_db
Status = EmailDelivery.Status


def event(personas, n=1, **overrides):
    kwargs = {
        "recipients": [personas.requester, personas.agent],
        "kind": "test_event",
        "text": f"Ticket TKT-00000{n} was updated",
        "link": f"/tickets/TKT-00000{n}",
        "context": {"text": f"Ticket TKT-00000{n} was updated", "body": "Details"},
        "event_key": f"ticket:{n}:update",
        "thread_key": f"ticket-{n}",
    }
    kwargs.update(overrides)
    notify(**kwargs)
    # The worker delivers the event's pending notice within seconds: its outbox rows.
    deliver_pending()


def run_worker_once():
    """What the worker does: send everything due (and deliver the notices that sending
    raised, such as the admins' alert about mail that failed for good)."""
    counts = delivery.sweep()
    deliver_pending()
    return counts


def test_event_writes_notifications_and_queued_emails_in_one_go(personas, smtp_server):
    event(personas)
    assert Notification.objects.filter(recipient=personas.requester).count() == 1
    assert {d.to_address for d in EmailDelivery.objects.all()} == {
        "requester@example.com",
        "agent@example.com",
    }
    assert all(d.status == Status.QUEUED for d in EmailDelivery.objects.all())
    assert smtp_server.received == []  # nothing is sent on the caller's path


def test_worker_sends_each_message_to_its_recipient(personas, smtp_server):
    event(personas)
    assert run_worker_once() == {Status.SENT: 2}
    [message] = smtp_server.messages_to("requester@example.com")
    assert message["Subject"] == "Ticket TKT-000001 was updated"
    assert message["To"] == "requester@example.com"
    assert "http://127.0.0.1:8000/tickets/TKT-000001" in message.get_body(("plain",)).get_content()
    assert set(EmailDelivery.objects.values_list("status", flat=True)) == {Status.SENT}


def test_the_task_sends_the_events_messages(personas, smtp_server):
    event(personas)
    counts = deliver_emails.call([str(d.pk) for d in EmailDelivery.objects.all()])
    assert counts == {Status.SENT: 2}
    assert len(smtp_server.received) == 2


def test_actor_and_inactive_users_are_not_told_and_duplicates_collapse(personas, smtp_server):
    personas.lead.is_active = False
    personas.lead.save()
    event(
        personas,
        recipients=[personas.requester, personas.requester, personas.agent, personas.lead],
        actor=personas.agent,
    )
    assert list(Notification.objects.values_list("recipient__email", flat=True)) == [
        "requester@example.com"
    ]
    assert list(EmailDelivery.objects.values_list("to_address", flat=True)) == [
        "requester@example.com"
    ]


def test_the_same_event_never_queues_a_second_message(personas, smtp_server):
    event(personas)
    event(personas)
    run_worker_once()
    run_worker_once()
    assert len(smtp_server.messages_to("requester@example.com")) == 1


def test_messages_about_one_ticket_thread_together(personas, smtp_server):
    event(personas, event_key="ticket:1:a")
    event(personas, event_key="ticket:1:b")
    run_worker_once()
    first, second = smtp_server.messages_to("requester@example.com")
    assert first["Message-ID"] != second["Message-ID"]
    root = signed_thread_id("ticket-1", "localhost")
    assert first["In-Reply-To"] == second["In-Reply-To"] == root
    assert first["References"] == root


def test_header_injection_in_a_title_gives_one_clean_subject_and_no_extra_recipient(
    personas, smtp_server
):
    title = "Printer\r\nBcc: x@evil.example"
    event(personas, recipients=[personas.requester], text=title, context={"text": title})
    assert run_worker_once() == {Status.SENT: 1}
    [received] = smtp_server.received
    assert received.rcpt_tos == ["requester@example.com"]
    assert received.message["Subject"] == "Printer Bcc: x@evil.example"
    assert received.message["Bcc"] is None


def test_user_content_is_escaped_in_the_html_body(personas, smtp_server):
    payload = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    event(personas, recipients=[personas.requester], context={"text": payload, "body": payload})
    run_worker_once()
    [message] = smtp_server.messages_to("requester@example.com")
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_user_who_muted_the_kind_gets_in_app_only(personas, smtp_server):
    EmailPreference.objects.create(user=personas.requester, kind="test_event", email=False)
    event(personas)
    run_worker_once()
    assert smtp_server.messages_to("requester@example.com") == []
    assert Notification.objects.filter(recipient=personas.requester).exists()
    assert len(smtp_server.messages_to("agent@example.com")) == 1


def test_rolled_back_event_leaves_no_notification_email_or_task(personas, smtp_server):
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    with pytest.raises(RuntimeError), transaction.atomic():
        event(personas)
        raise RuntimeError("the ticket write failed")
    assert not Notification.objects.exists()
    assert not EmailDelivery.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_one_refused_recipient_does_not_stop_the_others(personas, smtp_server):
    smtp_server.refuse.add("requester@example.com")
    event(personas)
    assert run_worker_once() == {Status.FAILED: 1, Status.SENT: 1}
    failed = EmailDelivery.objects.get(to_address="requester@example.com")
    assert failed.status == Status.FAILED
    assert "550" in failed.last_error
    assert len(smtp_server.messages_to("agent@example.com")) == 1
    # ... and the in-app notification is there regardless.
    assert Notification.objects.filter(recipient=personas.requester).exists()


def test_an_outage_costs_one_attempt_per_sweep_and_recovery_sends_everything_at_once(
    personas, smtp_server
):
    smtp_server.stop()
    for n in range(50):
        event(personas, n=n, recipients=[personas.requester])
    # The first refused connection opens the circuit: the other 49 are not tried at all.
    assert run_worker_once() == {Status.QUEUED: 1}
    tried = EmailDelivery.objects.get(attempts=1)
    assert "Connection refused" in tried.last_error
    assert tried.next_attempt_at >= timezone.now() + dt.timedelta(seconds=50)
    assert EmailDelivery.objects.filter(status=Status.QUEUED, attempts=0).count() == 49

    smtp_server.start()
    # The first success releases the deferred message as well: all 50 go in one sweep.
    assert run_worker_once() == {Status.SENT: 50}
    assert delivery.sweep(now=timezone.now() + dt.timedelta(hours=1)) == {}
    subjects = [m["Subject"] for m in smtp_server.messages_to("requester@example.com")]
    assert len(subjects) == len(set(subjects)) == 50


def test_deferred_mail_goes_out_at_the_first_sweep_after_recovery_not_its_retry_time(
    personas, smtp_server
):
    smtp_server.stop()
    for n in range(3):
        event(personas, n=n, recipients=[personas.requester])
    for _ in range(3):
        run_worker_once()  # one attempt per sweep while the server is down
    assert set(EmailDelivery.objects.values_list("attempts", flat=True)) == {1}
    retry_times = dict(EmailDelivery.objects.values_list("pk", "next_attempt_at"))

    # Nothing is due: the sweep probes the oldest deferred message, free of charge.
    assert run_worker_once() == {Status.QUEUED: 1}
    assert set(EmailDelivery.objects.values_list("attempts", flat=True)) == {1}
    assert dict(EmailDelivery.objects.values_list("pk", "next_attempt_at")) == retry_times

    smtp_server.start()
    assert run_worker_once() == {Status.SENT: 3}  # minutes before any retry was due
    assert len(smtp_server.messages_to("requester@example.com")) == 3


def test_temporary_failures_give_up_after_the_configured_attempts(personas, smtp_server, settings):
    settings.EMAIL_MAX_ATTEMPTS = 3
    smtp_server.stop()
    event(personas, recipients=[personas.requester])
    now = timezone.now()
    for hour in range(3):
        delivery.sweep(now=now + dt.timedelta(hours=hour))
    row = EmailDelivery.objects.get(kind="test_event")
    assert row.status == Status.FAILED and row.attempts == 3


def test_mail_that_fails_for_good_tells_the_admins_once_per_burst(personas, smtp_server):
    smtp_server.refuse = {"requester@example.com", "agent@example.com"}
    event(personas, n=1)  # to the requester and the agent: two 550s
    assert run_worker_once() == {Status.FAILED: 2}
    [alert] = Notification.objects.filter(kind="mail_failed")
    assert alert.recipient == personas.admin
    assert alert.link == "/notifications/deliveries?status=failed"
    assert "could not be delivered" in alert.text
    # The admin hears of it by email too.
    assert run_worker_once() == {Status.SENT: 1}
    [message] = smtp_server.messages_to("admin@example.com")
    assert "could not be delivered" in message["Subject"]

    event(personas, n=2, recipients=[personas.requester])  # same burst: no new alert
    run_worker_once()
    assert Notification.objects.filter(kind="mail_failed").count() == 1

    # A quiet hour later, the next failure starts a new burst.
    EmailDelivery.objects.filter(status=Status.FAILED).update(
        claimed_at=timezone.now() - dt.timedelta(hours=2)
    )
    event(personas, n=3, recipients=[personas.requester])
    run_worker_once()
    assert Notification.objects.filter(kind="mail_failed").count() == 2


def test_backoff_doubles_and_is_capped():
    assert [delivery.backoff(n).total_seconds() for n in range(1, 8)] == [
        60,
        120,
        240,
        480,
        960,
        1800,
        1800,
    ]
    total = sum(delivery.backoff(n).total_seconds() for n in range(1, 10))
    assert total >= 3600  # retried for at least an hour


def test_a_row_left_sending_by_a_dead_worker_is_sent_again_with_the_same_message_id(
    personas, smtp_server
):
    event(personas, recipients=[personas.requester])
    row = EmailDelivery.objects.get()
    EmailDelivery.objects.filter(pk=row.pk).update(
        status=Status.SENDING, claimed_at=timezone.now() - dt.timedelta(minutes=11), attempts=1
    )
    assert delivery.sweep() == {Status.SENT: 1}
    [message] = smtp_server.received
    assert message.message["Message-ID"] == row.message_id


def test_a_row_being_sent_right_now_is_not_taken_by_a_second_worker(personas, smtp_server):
    event(personas, recipients=[personas.requester])
    row = EmailDelivery.objects.get()
    assert delivery.claim(row.pk, now=timezone.now()) is True
    assert delivery.deliver(row.pk) == "skipped"
    assert smtp_server.received == []


def test_a_server_that_accepts_and_never_answers_times_out(personas, settings):
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts connections, never says a word
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": listener.getsockname()[1], "timeout": 1},
        }
    }
    try:
        event(personas, recipients=[personas.requester])
        assert delivery.sweep() == {Status.QUEUED: 1}
    finally:
        listener.close()
    assert "timed out" in EmailDelivery.objects.get().last_error


def test_while_emails_are_paused_people_are_told_in_app_and_no_email_or_task_is_queued(personas):
    from django_tasks_db.models import DBTaskResult

    from portal.notifications.services import email_user, emails_paused

    with emails_paused():
        event(personas, n=1)
        email_user(user=personas.agent, kind="test_event", context={}, event_key="direct:1")
    assert Notification.objects.count() == 2
    assert not EmailDelivery.objects.exists()
    # The notice's delivery task ran (event() delivered it); no mail task was queued.
    assert not DBTaskResult.objects.filter(task_path=deliver_emails.module_path).exists()
    # The pause ends with the block.
    event(personas, n=2)
    assert EmailDelivery.objects.count() == 2

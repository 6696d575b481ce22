"""An event's notices are one durable row written in its transaction (`PendingNotice`); the
worker expands it into in-app notifications and outbox rows. Nothing is lost (a rollback
leaves nothing, a lost task is swept), nothing doubled (two workers, a task and the
sweep), the actor is never told, and a failure is retried and reported."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from portal.notifications import notice_services
from portal.notifications.kinds import Kind, register_kind
from portal.notifications.models import EmailDelivery, Notification, PendingNotice
from portal.notifications.services import Message, notify_many
from portal.notifications.tasks import expand_notices, sweep_pending_notices
from portal.testing.concurrency import run_contested
from portal.testing.notices import deliver_pending


def message(recipients, *, key="a", actor=None, kind="test_event") -> Message:
    return Message(
        recipients=recipients,
        kind=kind,
        text=f"Ticket TKT-000001: {key}",
        link="/tickets/TKT-000001",
        context={"text": f"Ticket TKT-000001: {key}", "body": "Details"},
        event_key=f"ticket:1:{key}",
        actor=actor,
        thread_key="tkt-1",
        thread_tag="TKT-000001",
    )


@pytest.mark.django_db
def test_the_event_writes_one_notice_and_no_task_and_the_worker_pump_writes_the_rows(personas):
    notice = notify_many([message([personas.agent, personas.lead])])
    assert PendingNotice.objects.get() == notice
    assert not Notification.objects.exists() and not EmailDelivery.objects.exists()
    assert not DBTaskResult.objects.exists()  # the pump finds it: no task row per event

    assert notice_services.notices_pump() == {"expanded": 1, "failed": 0}
    assert {n.recipient for n in Notification.objects.all()} == {personas.agent, personas.lead}
    assert set(EmailDelivery.objects.values_list("to_address", flat=True)) == {
        personas.agent.email,
        personas.lead.email,
    }
    assert not PendingNotice.objects.exists()


@pytest.mark.django_db
def test_a_notification_is_dated_when_the_event_happened_not_when_it_was_delivered(personas):
    notice = notify_many([message([personas.agent])])
    PendingNotice.objects.update(created_at=timezone.now() - dt.timedelta(minutes=5))
    notice.refresh_from_db()
    deliver_pending()
    assert Notification.objects.get().created_at == notice.created_at


@pytest.mark.django_db
def test_the_actor_is_never_told_even_when_listed(personas):
    notify_many([message([personas.agent, personas.lead], actor=personas.agent)])
    deliver_pending()
    assert [n.recipient for n in Notification.objects.all()] == [personas.lead]
    assert list(EmailDelivery.objects.values_list("to_address", flat=True)) == [personas.lead.email]


@pytest.mark.django_db
def test_nobody_to_tell_writes_nothing(personas):
    assert notify_many([message([personas.agent], actor=personas.agent)]) is None
    assert not PendingNotice.objects.exists() and not DBTaskResult.objects.exists()


@pytest.mark.django_db
def test_an_event_rolled_back_leaves_no_notice_and_no_task(personas):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify_many([message([personas.agent])])
        raise RuntimeError("the event fails after telling")
    assert not PendingNotice.objects.exists() and not DBTaskResult.objects.exists()
    deliver_pending()
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_someone_deactivated_before_delivery_is_skipped(personas):
    notify_many([message([personas.agent, personas.lead])])
    personas.lead.is_active = False
    personas.lead.save(update_fields=["is_active"])
    deliver_pending()
    assert [n.recipient for n in Notification.objects.all()] == [personas.agent]


@pytest.mark.django_db
def test_a_context_that_is_not_plain_json_is_refused_in_the_event_itself(personas):
    bad = Message(
        recipients=[personas.agent],
        kind="test_event",
        text="x",
        link="",
        context={"when": timezone.now()},
        event_key="bad",
    )
    with pytest.raises(TypeError, match="plain JSON"):
        notify_many([bad])
    assert not PendingNotice.objects.exists()


@pytest.mark.django_db
def test_delivering_twice_tells_nobody_twice(personas):
    notice = notify_many([message([personas.agent])])
    assert notice_services.notices_expand([notice.pk]) == {"expanded": 1, "failed": 0}
    assert notice_services.notices_expand([notice.pk]) == {"expanded": 0, "failed": 0}
    assert Notification.objects.count() == 1 and EmailDelivery.objects.count() == 1


@pytest.mark.django_db
def test_the_sweep_delivers_a_notice_the_pumps_missed_and_leaves_young_ones_to_them(
    personas,
):
    lost = notify_many([message([personas.agent], key="lost")])
    young = notify_many([message([personas.lead], key="young")])
    # Missed: no worker's pump ran for longer than SWEEP_AFTER.
    PendingNotice.objects.filter(pk=lost.pk).update(
        created_at=timezone.now() - notice_services.SWEEP_AFTER - dt.timedelta(seconds=1)
    )
    assert sweep_pending_notices.call() == {"expanded": 1, "failed": 0}
    assert [n.recipient for n in Notification.objects.all()] == [personas.agent]
    assert list(PendingNotice.objects.all()) == [young]


@pytest.mark.django_db
def test_a_failed_notice_stays_with_its_error_is_reported_and_does_not_stop_the_others(
    personas, kind_registry
):
    register_kind(
        Kind(
            name="test_gone",
            label="A kind removed before delivery",
            email_template="notice",
            sample_context=lambda: {"text": "x", "body": "y"},
        )
    )
    bad = notify_many([message([personas.agent], kind="test_gone", key="bad")])
    good = notify_many([message([personas.lead], key="good")])
    del kind_registry["test_gone"]
    with pytest.raises(notice_services.NoticeNotDelivered):
        expand_notices.call([bad.pk, good.pk])  # a task an earlier version queued
    assert [n.recipient for n in Notification.objects.all()] == [personas.lead]
    failed = PendingNotice.objects.get()
    assert failed.pk == bad.pk and failed.attempts == 1 and "test_gone" in failed.last_error


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs overlapping transactions (PostgreSQL)"
)
def test_two_workers_expanding_the_same_notices_tell_each_person_once(personas):
    notices = [
        notify_many([message([personas.agent, personas.lead], key=str(n))]) for n in range(3)
    ]
    ids = [notice.pk for notice in notices]
    # Both read the pending row (or none, when the other holds its lock) at the same moment.
    results = run_contested(
        lambda: notice_services.notices_expand(ids),
        module=notice_services,
        reader="_claim",
        count=2,
    )
    assert sum(result["expanded"] for result in results) == 3
    assert Notification.objects.count() == 6
    assert EmailDelivery.objects.count() == 6
    assert not PendingNotice.objects.exists()


@pytest.mark.django_db
def test_the_pump_takes_what_is_due_oldest_first_and_leaves_waiting_and_failed_notices(
    personas,
):
    waiting = notify_many([message([personas.agent], key="waiting")])
    failed = notify_many([message([personas.agent], key="failed")])
    due = notify_many([message([personas.lead], key="due")])
    now = timezone.now()
    PendingNotice.objects.filter(pk=waiting.pk).update(retry_at=now + dt.timedelta(minutes=1))
    PendingNotice.objects.filter(pk=failed.pk).update(failed_at=now)
    assert notice_services.notices_pump(now=now) == {"expanded": 1, "failed": 0}
    assert [n.recipient for n in Notification.objects.all()] == [personas.lead]
    nothing = {"expanded": 0, "failed": 0}
    assert notice_services.notices_pump(now=now) == nothing  # nothing due: the pump waits
    assert set(PendingNotice.objects.all()) == {waiting, failed}
    # The sweep leaves the waiting one to the pumps until it is SWEEP_AFTER late.
    past_wait = now + dt.timedelta(minutes=1, seconds=1)
    assert notice_services.notices_sweep(now=past_wait) == nothing
    # Once its wait is over, the waiting one is the pump's again.
    assert notice_services.notices_pump(now=past_wait) == {"expanded": 1, "failed": 0}
    assert list(PendingNotice.objects.all()) == [failed]
    assert due.pk not in PendingNotice.objects.values_list("pk", flat=True)

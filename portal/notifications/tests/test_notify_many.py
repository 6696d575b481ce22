"""One event telling several groups of people (a new ticket: its holder, the SPOCs, the
requester) is written together: the same rules per message, one write of each kind of row."""

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from portal.lib.emails import signed_thread_id
from portal.notifications import delivery
from portal.notifications.kinds import Kind, get_kind, register_kind
from portal.notifications.models import EmailDelivery, EmailPreference, Notification
from portal.notifications.services import Message, notify_many
from portal.notifications.tests.conftest import PROCESS_KINDS
from portal.testing.notices import deliver_pending

pytestmark = pytest.mark.django_db
Status = EmailDelivery.Status


@pytest.fixture(autouse=True)
def other_kinds(kind_registry):
    # Registered in this test's copy of the registry (conftest): gone after it.
    for name, mutable in (("test_other", True), ("test_must", False)):
        register_kind(
            Kind(
                name=name,
                label=name,
                email_template="notice",
                sample_context=lambda: {"text": "Sample", "body": "Sample"},
                user_can_mute_email=mutable,
            )
        )


def message(recipients, *, kind="test_event", key="a", **overrides) -> Message:
    values = {
        "recipients": recipients,
        "kind": kind,
        "text": f"Ticket TKT-000001: {key}",
        "link": "/tickets/TKT-000001",
        "context": {"text": f"Ticket TKT-000001: {key}", "body": "Details"},
        "event_key": f"ticket:1:{key}",
        "thread_key": "ticket-1",
        "thread_tag": "TKT-000001",
        **overrides,
    }
    return Message(**values)


def test_three_messages_cost_one_write_of_each_row_and_one_task(
    personas, smtp_server, django_assert_num_queries
):
    # In the event's request: the pending notice, whatever the batch holds (no task: the
    # worker's pump finds it).
    with django_assert_num_queries(1):
        notify_many(
            [
                message([personas.agent], key="assigned"),
                message([personas.spoc, personas.lead], kind="test_other", key="created"),
                message([personas.requester], kind="test_must", key="received"),
            ]
        )
    assert not DBTaskResult.objects.exists()
    # The worker: one insert of notifications, one read of preferences, one insert of
    # deliveries, one task row for their mail (and the notice's claim, its people and its
    # delete).
    deliver_pending()
    assert [(n.recipient, n.kind) for n in Notification.objects.order_by("pk")] == [
        (personas.agent, "test_event"),
        (personas.spoc, "test_other"),
        (personas.lead, "test_other"),
        (personas.requester, "test_must"),
    ]
    deliveries = list(EmailDelivery.objects.all())
    assert sorted((d.kind, d.to_address) for d in deliveries) == [
        ("test_event", "agent@example.com"),
        ("test_must", "requester@example.com"),
        ("test_other", "lead@example.com"),
        ("test_other", "spoc@example.com"),
    ]
    [task] = DBTaskResult.objects.all()
    assert sorted(task.args_kwargs["args"][0]) == sorted(str(d.pk) for d in deliveries)
    assert delivery.sweep() == {Status.SENT: 4}
    # Each message keeps its own subject, event and thread.
    [received] = smtp_server.messages_to("requester@example.com")
    assert received["Subject"] == "[TKT-000001] Ticket TKT-000001: received"
    assert received["In-Reply-To"] == signed_thread_id("ticket-1", "localhost")
    [assigned] = smtp_server.messages_to("agent@example.com")
    assert assigned["Message-ID"] != received["Message-ID"]


def test_preferences_are_read_per_kind_within_one_batch(personas, smtp_server):
    EmailPreference.objects.create(user=personas.requester, kind="test_event", email=False)
    EmailPreference.objects.create(user=personas.requester, kind="test_must", email=False)
    EmailPreference.objects.create(user=personas.agent, kind="test_other", email=False)
    notify_many(
        [
            message([personas.requester, personas.agent], key="one"),
            message([personas.requester, personas.agent], kind="test_other", key="two"),
            message([personas.requester], kind="test_must", key="three"),
        ]
    )
    deliver_pending()
    sent = set(EmailDelivery.objects.values_list("to_address", "kind"))
    assert sent == {
        ("agent@example.com", "test_event"),
        ("requester@example.com", "test_other"),
        # A kind that cannot be muted is mailed whatever the row says.
        ("requester@example.com", "test_must"),
    }
    assert Notification.objects.count() == 5  # in-app is always on


def test_each_message_has_its_own_actor_and_skips_inactive_and_repeated_people(personas):
    personas.lead.is_active = False
    personas.lead.save()
    notify_many(
        [
            message([personas.agent, personas.requester, personas.requester], actor=personas.agent),
            # The actor of the first message is told here: this one is not their action.
            message([personas.agent, personas.lead], kind="test_other", key="b"),
        ]
    )
    deliver_pending()
    assert sorted(Notification.objects.values_list("recipient__email", "kind")) == [
        ("agent@example.com", "test_other"),
        ("requester@example.com", "test_event"),
    ]


def test_one_address_is_mailed_once_per_event_key_within_a_batch_and_on_a_repeat(
    personas, smtp_server
):
    batch = [message([personas.requester], key="same"), message([personas.requester], key="same")]
    notify_many(batch)
    notify_many(batch)
    deliver_pending()
    assert EmailDelivery.objects.count() == 1
    delivery.sweep()
    assert len(smtp_server.messages_to("requester@example.com")) == 1


def test_a_rolled_back_batch_leaves_no_notification_email_or_task(personas):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify_many([message([personas.requester]), message([personas.agent], key="b")])
        raise RuntimeError("the event failed")
    deliver_pending()
    assert not Notification.objects.exists()
    assert not EmailDelivery.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_nobody_to_tell_writes_nothing(personas, django_assert_num_queries):
    with django_assert_num_queries(0):
        notice = notify_many([message([personas.agent], actor=personas.agent), message([])])
    assert notice is None


def test_the_kinds_these_tests_register_stay_out_of_the_process_registry():
    """Other tests (the preferences page, the template previews) list every kind: these
    exist only in each test's copy of the registry."""
    assert get_kind("test_other") and get_kind("test_must")
    assert not {"test_other", "test_must", "test_event"} & set(PROCESS_KINDS)

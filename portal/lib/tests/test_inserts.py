"""Inserts written once per process (`portal.lib.inserts`) store what `bulk_create` stores:
the same columns read back (times, JSON, UUIDs, nulls, foreign keys set after the related
row was saved), ids read back in order, conflicts skipped, on every backend."""

import datetime as dt
import uuid

import pytest
from django.db import IntegrityError
from django.utils import timezone

from portal.accounts.models import User
from portal.lib import inserts
from portal.notifications.models import EmailDelivery, Notification
from portal.tickets.models import Ticket, TicketEvent

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def _columns(row) -> dict:
    return {
        field.attname: getattr(row, field.attname)
        for field in type(row)._meta.concrete_fields
        if not field.primary_key
    }


def _people(n: int) -> list[User]:
    return [
        User.objects.create_user(f"i{i}@example.com", "x", full_name=f"I {i}") for i in range(n)
    ]


def test_notifications_inserted_read_back_as_bulk_create_stores_them_with_their_ids_in_order():
    people = _people(3)
    when = timezone.now() - dt.timedelta(days=2)
    for n in (1, 3, 2, 3):  # statements of several sizes, and one used twice
        made = [
            Notification(recipient=person, kind="k", text=f"t {n} {i}", link="/x", created_at=when)
            for i, person in enumerate(people[:n])
        ]
        expected = Notification.objects.bulk_create(
            [
                Notification(recipient=p, kind="k", text=f"t {n} {i}", link="/x", created_at=when)
                for i, p in enumerate(people[:n])
            ]
        )
        inserts.insert(made)
        assert all(row.pk is not None and not row._state.adding for row in made)
        assert [Notification.objects.get(pk=row.pk).text for row in made] == [
            row.text for row in made
        ]
        for mine, theirs in zip(made, expected, strict=True):
            assert _columns(Notification.objects.get(pk=mine.pk)) == _columns(
                Notification.objects.get(pk=theirs.pk)
            )


def test_outbox_rows_keep_uuid_json_and_skip_a_repeat_of_the_same_event_and_address():
    [person] = _people(1)
    context = {"context": {"title": 'Tom\'s "VPN"', "n": 3, "ok": True, "none": None}}

    def row(key: str) -> EmailDelivery:
        return EmailDelivery(
            recipient=person,
            to_address=person.email,
            kind="ticket_comment",
            event_key=key,
            pending=context,
            message_id=f"<{uuid.uuid4()}@example.com>",
        )

    first = row("e:1")
    inserts.insert([first], ignore_conflicts=True)
    stored = EmailDelivery.objects.get(pk=first.pk)
    assert stored.pending == context
    assert stored.status == EmailDelivery.Status.QUEUED and stored.attempts == 0
    assert stored.next_attempt_at == first.next_attempt_at

    again, other = row("e:1"), row("e:2")
    inserts.insert([again, other], ignore_conflicts=True)
    assert not EmailDelivery.objects.filter(pk=again.pk).exists()
    assert EmailDelivery.objects.filter(event_key="e:2", pk=other.pk).exists()
    assert EmailDelivery.objects.count() == 2

    with pytest.raises(IntegrityError):
        inserts.insert([row("e:1")])


def test_history_events_take_the_id_of_a_ticket_saved_after_they_were_made(personas, org):
    ticket = Ticket(
        title="T",
        description="D",
        requester=personas.requester,
        group=org.group_x,
        category=org.hardware,
        status="new",
        priority="medium",
    )
    event = TicketEvent(ticket=ticket, actor=None, kind=TicketEvent.Kind.CREATED, new_value="T")
    ticket.save(force_insert=True)
    inserts.insert([event])
    assert TicketEvent.objects.get(pk=event.pk).ticket_id == ticket.pk


def test_a_batch_beyond_the_parameter_limit_goes_to_bulk_create():
    [person] = _people(1)
    rows = [Notification(recipient=person, kind="k", text=str(i), link="") for i in range(2000)]
    inserts.insert(rows)
    assert Notification.objects.filter(recipient=person).count() == 2000


def test_a_ticket_reads_back_its_id_and_generated_columns_as_save_does(
    personas, org, django_assert_num_queries
):
    due = timezone.now() + dt.timedelta(hours=4)

    def ticket() -> Ticket:
        return Ticket(
            title="T", description="D", requester=personas.requester, group=org.group_x,
            category=org.hardware, status="new", priority="high", sla_response_due_at=due,
        )  # fmt: skip

    saved, inserted = ticket(), ticket()
    saved.save(force_insert=True)
    with django_assert_num_queries(1):
        inserts.insert([inserted])
        # Set from the statement's answer, converted as the ORM converts it: no second read.
        assert (inserted.priority_rank, inserted.sla_due_sort_at) == (3, due)
    assert (inserted.priority_rank, inserted.sla_due_sort_at) == (
        saved.priority_rank,
        saved.sla_due_sort_at,
    )
    stored = Ticket.objects.get(pk=inserted.pk)
    assert (stored.priority_rank, stored.sla_due_sort_at) == (3, due)
    assert inserted.pk == saved.pk + 1


def test_a_row_unless_held_is_written_as_insert_writes_it_and_a_held_one_takes_nothing(
    personas, org, django_assert_num_queries
):
    """`insert_unless_held`: one statement either way; the row written is the one
    `insert` writes (generated columns read back, typed values stored as typed); a row
    whose values of the held fields are taken is not written, leaves the object unsaved
    and takes no id (the next row's id follows); another value of a held field is free."""
    key, when = uuid.uuid4(), timezone.now() - dt.timedelta(days=1)

    def ticket(requester=personas.requester, idempotency_key=key) -> Ticket:
        return Ticket(
            title="T", description="D", requester=requester, group=org.group_x,
            category=org.hardware, status="new", priority="urgent", created_at=when,
            updated_at=when, idempotency_key=idempotency_key, form_values={"n": 1, "s": "x"},
        )  # fmt: skip

    held = ("requester", "idempotency_key")
    plain, first = ticket(idempotency_key=None), ticket()
    inserts.insert([plain])
    with django_assert_num_queries(1):
        assert inserts.insert_unless_held(first, unless=held) is True
    assert first.pk == plain.pk + 1 and first.priority_rank == 4
    assert _columns(Ticket.objects.get(pk=first.pk)) == {
        **_columns(Ticket.objects.get(pk=plain.pk)),
        "idempotency_key": key,
    }
    again = ticket()
    with django_assert_num_queries(1):
        assert inserts.insert_unless_held(again, unless=held) is False
    assert again.pk is None and again._state.adding
    someone_else = ticket(requester=personas.outsider)
    assert inserts.insert_unless_held(someone_else, unless=held) is True
    assert someone_else.pk == first.pk + 1
    assert Ticket.objects.filter(idempotency_key=key).count() == 2
    with pytest.raises(ValueError, match="idempotency_key is None"):  # NULL equals nothing
        inserts.insert_unless_held(ticket(idempotency_key=None), unless=held)
    assert inserts.insert_unless_held(ticket(), unless=list(held)) is False


def test_tickets_have_no_save_signal_receivers_that_their_insert_would_skip():
    # The new ticket's row is written by `inserts` (tickets/services.py `_insert`), which
    # sends no signals: a receiver added here would silently never run for new tickets.
    from django.db.models import Model
    from django.db.models.signals import post_save, pre_save

    assert not pre_save.has_listeners(Ticket)
    assert not post_save.has_listeners(Ticket)
    assert Ticket.save is Model.save  # nor a save() of its own
